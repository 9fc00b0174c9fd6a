"""Bi-level DARTS search of the supernet (Eq. 3.8): first-order by default, second-order done right.

Second order (DARTS Eq. 7-8): the virtual step ``w' = w - xi * adam_update(grad L_train(w, a))`` uses the weight
optimiser's own Adam state (moments, step count, weight decay), and the implicit term
``-xi * d^2 L_train / (da dw) . (P * grad_w' L_val(w', a))`` is a central finite difference of
``grad_a L_train`` around the weights w the virtual step started from, the point where that mixed derivative
lives. ``P`` is the Adam step's derivative with respect to the gradient (second moment held fixed). No model is
copied: weights are swapped in place and restored.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from model.search.batch import MultimodalBatch
from model.search.loss import task_loss
from model.search.penalty import diversity_penalty
from model.search.supernet import Supernet


@dataclass(frozen=True)
class SearchConfig:
    """Optimisation settings (defaults: the paper's learning rates, DARTS' architecture Adam habits).

    Args:
        epochs: Search epochs.
        batch_size: Batch size (paper: 64).
        w_lr / w_weight_decay / w_grad_clip: Adam for the weights W (paper lr 1e-4).
        arch_lr / arch_betas / arch_weight_decay: Adam for alpha, beta, gamma (paper lr 1e-5).
        penalty_weight: lambda of Eq. 3.8 (paper: 0.1).
        order: ``"first"`` or ``"second"`` order DARTS.
        unroll_eps: Finite-difference radius r of the Hessian-vector product (DARTS: 0.01).
        bf16: bf16 autocast for the forward/backward passes (the finite differences always run in fp32).
        seed: Seed of weights, data order and dropout.
        patience: Stop after this many epochs without a better validation score (0: never).
    """

    epochs: int = 10
    batch_size: int = 64
    w_lr: float = 1e-4
    w_weight_decay: float = 1e-3
    w_grad_clip: float = 5.0
    arch_lr: float = 1e-5
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    penalty_weight: float = 0.1
    order: Literal["first", "second"] = "first"
    unroll_eps: float = 1e-2
    bf16: bool = False
    seed: int = 0
    patience: int = 0

    def __post_init__(self) -> None:
        if self.order not in ("first", "second"):
            raise ValueError(f"order must be 'first' or 'second', got {self.order!r}")
        if self.epochs <= 0 or self.batch_size <= 0:
            raise ValueError("epochs and batch_size must be positive")


def autocast_ctx(enabled: bool, device_type: str = "cpu") -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device_type``, or a no-op."""
    return torch.autocast(device_type, dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def _fill(grads: tuple[Tensor | None, ...], params: list[Tensor]) -> list[Tensor]:
    """Zeros for parameters the loss does not reach (e.g. the logits of an already discrete edge)."""
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


@contextlib.contextmanager
def _frozen(params: list[Tensor]) -> Iterator[None]:
    """Parameters a pass takes no gradient for: autograd then records (and keeps) none of their part of the graph."""
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


def keep_heap_pages() -> None:
    """Ask glibc to keep freed heap pages (a no-op elsewhere).

    Every step frees and re-allocates the same ~100 MB of activations; by default glibc gives the top of the heap
    back to the kernel and faults it in again on the next step (10-50k page faults a step, ~5% of its CPU time).
    Peak RSS is unchanged: the pages kept are the ones the next step needs.
    """
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: glibc's mallopt on Linux
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's own ceiling for its adaptive threshold
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError, TypeError):
        pass


class BilevelSearcher:
    """Owns the two optimisers and performs search steps on a supernet.

    Args:
        net: The supernet.
        config: Optimisation settings.
    """

    def __init__(self, net: Supernet, config: SearchConfig) -> None:
        self.net = net
        self.config = config
        keep_heap_pages()
        self.weights = net.weight_parameters()
        self.arch = net.arch_parameters()
        # Fused Adam: one kernel over all weights instead of ~10 elementwise passes per tensor (same maths).
        self.w_opt = torch.optim.Adam(self.weights, lr=config.w_lr, weight_decay=config.w_weight_decay, fused=True)
        self.a_opt = torch.optim.Adam(self.arch, lr=config.arch_lr, betas=config.arch_betas,
                                      weight_decay=config.arch_weight_decay)

    def loss(self, batch: MultimodalBatch, bf16: bool | None = None) -> Tensor:
        """Task loss of the supernet on a batch."""
        with autocast_ctx(self.config.bf16 if bf16 is None else bf16, self.arch[0].device.type):
            logits = self.net(batch, validate=False)
        return task_loss(logits, batch.targets(), self.net.config.task)

    def weight_step(self, batch: MultimodalBatch) -> float:
        """One Adam step on W with L_train; returns the loss."""
        self.w_opt.zero_grad(set_to_none=True)
        with _frozen(self.arch):
            loss = self.loss(batch)
            loss.backward(inputs=self.weights)
        if self.config.w_grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.weights, self.config.w_grad_clip)
        self.w_opt.step()
        return float(loss.detach())

    def arch_objective(self, batch: MultimodalBatch) -> Tensor:
        """L_val + lambda * Penalty(beta) on an architecture batch."""
        return self.loss(batch) + self.config.penalty_weight * diversity_penalty(self.net)

    def arch_step(self, train_batch: MultimodalBatch, arch_batch: MultimodalBatch) -> float:
        """One Adam step on the architecture weights; returns the architecture objective."""
        if self.config.order == "first":
            with _frozen(self.weights):  # gradients to alpha only: no dW and no graph below the first mixed layer
                obj = self.arch_objective(arch_batch)
                grads = _fill(torch.autograd.grad(obj, self.arch, allow_unused=True), self.arch)
        else:
            obj, grads = self.second_order_grads(train_batch, arch_batch)
        for p, g in zip(self.arch, grads):
            p.grad = g
        self.a_opt.step()
        self.a_opt.zero_grad(set_to_none=True)
        return float(obj.detach())

    def step(self, train_batch: MultimodalBatch, arch_batch: MultimodalBatch) -> tuple[float, float]:
        """A search step in DARTS order: architecture, then weights. Returns (arch objective, train loss)."""
        a = self.arch_step(train_batch, arch_batch)
        return a, self.weight_step(train_batch)

    # Second order ------------------------------------------------------------------------------------------
    def _adam_virtual(self, grads: list[Tensor]) -> list[Tensor]:
        """Move W in place to W' = W - xi * Adam update (with the optimiser's state); return P = d(update)/d(grad).

        P is taken with the second moment held fixed.
        """
        group = self.w_opt.param_groups[0]
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if group.get("amsgrad") or group.get("maximize"):
            raise ValueError("second-order search supports plain Adam only")
        # Parameters grouped by their step count and whether Adam has state for them yet (usually one group).
        groups: dict[tuple[float, bool], list[int]] = {}
        for i, p in enumerate(self.weights):
            st = self.w_opt.state.get(p, {})
            groups.setdefault((float(st["step"]) + 1 if "step" in st else 1.0, "exp_avg" in st), []).append(i)
        precond: dict[int, Tensor] = {}
        with torch.no_grad():
            for (t, has_state), idx in groups.items():
                w = [self.weights[i] for i in idx]
                # Out of place first: autograd may hand the same tensor out as the gradient of two parameters.
                g = torch._foreach_add([grads[i] for i in idx], w, alpha=wd)
                v = torch._foreach_mul(g, g)
                torch._foreach_mul_(v, 1 - b2)
                torch._foreach_mul_(g, 1 - b1)
                if has_state:
                    states = [self.w_opt.state[p] for p in w]
                    torch._foreach_add_(v, [st["exp_avg_sq"] for st in states], alpha=b2)
                    torch._foreach_add_(g, [st["exp_avg"] for st in states], alpha=b1)
                # v becomes the denominator sqrt(v_hat) + eps, then P = (1 - b1) / (1 - b1^t) / denominator.
                torch._foreach_mul_(v, 1 / (1 - b2**t))
                torch._foreach_sqrt_(v)
                torch._foreach_add_(v, eps)
                torch._foreach_addcdiv_(w, g, v, value=-lr / (1 - b1**t))
                torch._foreach_reciprocal_(v)
                torch._foreach_mul_(v, (1 - b1) / (1 - b1**t))
                precond.update(zip(idx, v))
        return [precond[i] for i in range(len(self.weights))]

    def second_order_grads(self, train_batch: MultimodalBatch, arch_batch: MultimodalBatch
                           ) -> tuple[Tensor, list[Tensor]]:
        """Unrolled architecture gradient; the weights are restored before returning."""
        xi = self.w_opt.param_groups[0]["lr"]
        rng = torch.get_rng_state()  # one dropout mask for every L_train evaluation of this step
        with _frozen(self.arch):
            loss = self.loss(train_batch)
            g_train = _fill(torch.autograd.grad(loss, self.weights, allow_unused=True), self.weights)
        del loss
        backup = [p.detach().clone() for p in self.weights]
        try:
            vec = self._adam_virtual(g_train)  # W is now W'
            del g_train
            obj = self.arch_objective(arch_batch)
            grads = torch.autograd.grad(obj, self.arch + self.weights, allow_unused=True)
            d_arch = _fill(grads[: len(self.arch)], self.arch)
            # vec = P * grad_w' L_val, written over P.
            torch._foreach_mul_(vec, _fill(grads[len(self.arch):], self.weights))
            del grads
            norm = float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(vec)).float()))
            if norm == 0.0:
                return obj, d_arch
            r = self.config.unroll_eps / norm
            hvp = []
            for sign in (1.0, -1.0):
                with torch.no_grad():
                    torch._foreach_copy_(self.weights, backup)
                    torch._foreach_add_(self.weights, vec, alpha=sign * r)
                torch.set_rng_state(rng)
                with _frozen(self.weights):
                    loss = self.loss(train_batch, bf16=False)
                    hvp.append(_fill(torch.autograd.grad(loss, self.arch, allow_unused=True), self.arch))
            implicit = [(gp - gn) / (2 * r) for gp, gn in zip(*hvp)]
            return obj, [da - xi * h for da, h in zip(d_arch, implicit)]
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.weights, backup)
