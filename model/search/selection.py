"""Discretisation baselines for the paper's Table 7 (DARTS argmax, DARTS-PT) and shared discretisation helpers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from model.search.derive import discretise_to, genotype_of
from model.search.evaluate import EvalResult, evaluate
from model.search.genotype import Genotype
from model.search.loss import task_loss
from model.search.search_loop import SearchData
from model.search.supernet import Supernet

Scorer = Callable[[Supernet], EvalResult]
FINAL_INITS = ("kept", "supernet", "scratch")


@dataclass(frozen=True)
class DiscretiseConfig:
    """Settings shared by pruning (Algorithm 1) and DARTS-PT.

    Args:
        finetune_steps: Weight-only fine-tuning steps after each removal / edge decision.
        finetune_lr: Adam learning rate of that fine-tuning (paper: 2e-6).
        metric: Validation metric that scores candidates (ties fall back to the validation loss).
        seed: Seed of the random edge order and of the fine-tuning.
        select: ``"final"`` keeps the fully pruned net (Algorithm 1's output); ``"best"`` the best argmax
            completion along the validation trajectory.
        final_finetune_steps: Weight fine-tuning of the kept discrete architecture ("until it converges again"),
            evaluated every ``eval_every`` steps; the best validation point is kept.
        eval_every: Evaluation period of that final fine-tuning.
        candidate_finetune_steps: Weight steps each pruning candidate gets (on the same batches, from the same
            weights, undone afterwards) before it is scored; 0 scores it right after the removal (Algorithm 1 as
            written). A removal that re-weights an edge (a selector going from ~0.4 to 1) always looks worse than
            one that drops a small contribution until the net has adapted, so unrecovered scoring drifts towards
            dropping inputs; a few recovery steps remove that bias.
        final_lr: Learning rate of the final fine-tuning (default: ``finetune_lr``).
        final_patience: Stop the final fine-tuning after this many evaluations without improvement (0: never).
        final_init: Weights the final fine-tuning starts from: ``"kept"``, those of the kept trajectory point
            (Algorithm 1 as written), or ``"supernet"``, the searched supernet's weights of the kept ops (pruning
            then only decides the architecture). With a large ``finetune_lr`` the pruning steps over-fit the
            weights on a small cohort, and retraining from the searched weights generalises better.
            ``"scratch"``: freshly initialised weights (seeded by ``seed``), DARTS's retraining from scratch.
        final_members: Final trainings of the kept architecture (seeds ``seed``, ``seed + 1``, ...; each from
            ``final_init``'s weights, fresh ones per seed for ``"scratch"``); more than one gives a
            ``DerivedEnsemble`` that predicts their mean score. 1: a single network, the paper's.
        candidate_split: Batches that score pruning / DARTS-PT candidates: ``"tuning"`` (the model-selection
            split) or ``"arch"`` (one fixed epoch of the architecture half of train, the split the search's
            architecture steps use, i.e. DARTS's D_val). Scoring dozens of decisions on tuning fits that split,
            and the final early stopping then selects on it again.
    """

    finetune_steps: int = 20
    finetune_lr: float = 2e-6
    metric: str = "aupr"
    seed: int = 0
    select: str = "final"
    final_finetune_steps: int = 0
    eval_every: int = 20
    candidate_finetune_steps: int = 0
    final_lr: float | None = None
    final_patience: int = 0
    final_init: str = "kept"
    candidate_split: str = "tuning"
    final_members: int = 1

    def __post_init__(self) -> None:
        if self.select not in ("best", "final"):
            raise ValueError(f"select must be 'best' or 'final', got {self.select!r}")
        if self.final_init not in FINAL_INITS:
            raise ValueError(f"final_init must be one of {FINAL_INITS}, got {self.final_init!r}")
        if self.candidate_split not in ("tuning", "arch"):
            raise ValueError(f"candidate_split must be 'tuning' or 'arch', got {self.candidate_split!r}")
        if min(self.finetune_steps, self.final_finetune_steps, self.candidate_finetune_steps,
               self.final_patience) < 0 or self.eval_every <= 0 or self.final_members < 1:
            raise ValueError("step counts and patience must be >= 0, eval_every and final_members > 0")


def alive_state(net: Supernet) -> dict[str, Tensor]:
    """Copy of every edge's alive mask."""
    return {k: e.alive.clone() for k, e in net.edges().items()}


def set_alive_state(net: Supernet, state: dict[str, Tensor]) -> None:
    """Restore alive masks saved by ``alive_state``."""
    for k, e in net.edges().items():
        e.alive.copy_(state[k])


def argmax_genotype(net: Supernet, method: str = "darts_argmax") -> Genotype:
    """DARTS discretisation: on every edge the alive op with the largest architecture weight."""
    saved = alive_state(net)
    try:
        with torch.no_grad():
            for e in net.edges().values():
                e.keep_only(int(torch.argmax(e.weights())))
        return genotype_of(net, method)
    finally:
        set_alive_state(net, saved)


def evaluate_as(net: Supernet, genotype: Genotype, scorer: Scorer) -> EvalResult:
    """Score the supernet restricted to ``genotype`` (alive masks restored afterwards)."""
    saved = alive_state(net)
    try:
        discretise_to(net, genotype)
        return scorer(net)
    finally:
        set_alive_state(net, saved)


def default_scorer(data: SearchData, bf16: bool = False) -> Scorer:
    """Validation evaluation on ``data.val()``."""
    return lambda net: evaluate(net, data.val(), net.config.task, bf16=bf16)


def candidate_scorer(data: SearchData, config: DiscretiseConfig, scorer: Scorer | None = None) -> Scorer:
    """The scorer of pruning / DARTS-PT candidates (``config.candidate_split``); ``scorer`` overrides tuning."""
    if config.candidate_split == "tuning":
        return scorer or default_scorer(data)
    batches = list(data.arch(0))  # one fixed epoch: every candidate sees the same batches
    return lambda net: evaluate(net, batches, net.config.task)


class Finetuner:
    """Weight-only Adam fine-tuning on the training batches, cycling through epochs of ``data.train``."""

    def __init__(self, net: Supernet, data: SearchData, lr: float, seed: int) -> None:
        self.net, self.data, self.epoch = net, data, 10_000 + seed
        self.weights = net.weight_parameters()
        self.opt = torch.optim.Adam(self.weights, lr=lr)
        self._it: Iterator = iter(())

    def _next(self) -> Any:
        for _ in range(2):
            try:
                return next(self._it)
            except StopIteration:
                self.epoch += 1
                self._it = iter(self.data.train(self.epoch))
        raise ValueError("training data is empty")

    def take(self, steps: int) -> list[Any]:
        """The next ``steps`` training batches (to replay the same ones for several candidates)."""
        return [self._next() for _ in range(steps)]

    def run(self, steps: int) -> None:
        """Take ``steps`` weight steps (architecture logits frozen)."""
        self.run_on(self.take(steps))

    def run_on(self, batches: list[Any]) -> None:
        """One weight step per given batch."""
        self.net.train()
        for batch in batches:
            self.opt.zero_grad(set_to_none=True)
            loss = task_loss(self.net(batch, validate=False), batch.targets(), self.net.config.task)
            loss.backward(inputs=self.weights)
            self.opt.step()

    def set_lr(self, lr: float) -> None:
        """Change the learning rate (the final fine-tuning may use another one)."""
        for group in self.opt.param_groups:
            group["lr"] = lr

    def snapshot(self) -> tuple[list[Tensor], dict[str, Any]]:
        """Copies of the weights and the optimiser state (undo point for candidate recovery)."""
        return [p.detach().clone() for p in self.weights], copy.deepcopy(self.opt.state_dict())

    def restore(self, snap: tuple[list[Tensor], dict[str, Any]]) -> None:
        """Return to a ``snapshot``."""
        with torch.no_grad():
            for p, w in zip(self.weights, snap[0]):
                p.copy_(w)
        self.opt.load_state_dict(snap[1])


def darts_pt_genotype(net: Supernet, data: SearchData, config: DiscretiseConfig,
                      scorer: Scorer | None = None) -> Genotype:
    """DARTS-PT-style selection: edge by edge (random order), keep the op whose removal hurts validation most.

    Each op is scored with only that op removed from the current supernet; the edge is then discretised and
    the weights fine-tuned. Works on ``net`` in place (its alive masks end discrete).
    """
    scorer = candidate_scorer(data, config, scorer)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    tuner = Finetuner(net, data, config.finetune_lr, config.seed)
    edges = [e for e in net.edges().values() if len(e.alive_indices()) > 1]
    for j in rng.permutation(len(edges)):
        edge = edges[j]
        scores = {}
        for i in edge.alive_indices():
            with edge.without(i):
                scores[i] = scorer(net).score(config.metric)
        edge.keep_only(min(scores, key=lambda i: scores[i]))
        tuner.run(config.finetune_steps)
    return genotype_of(net, "darts_pt")
