"""Bi-level steps: first order touches only what it should; second order equals the exact unrolled gradient."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from search_helpers import as_double, tiny_config

from model.search.batch import DenseSequence, MultimodalBatch, SparseSequence
from model.search.bilevel import BilevelSearcher, SearchConfig
from model.search.loss import task_loss
from model.search.penalty import diversity_penalty
from model.search.spec import SearchSpaceConfig
from model.search.supernet import Supernet
from model.search.toy_data import random_cohort


def _densify(batch: MultimodalBatch, cfg: SearchSpaceConfig) -> MultimodalBatch:
    inputs = {k: DenseSequence(v.to_dense(cfg.modality(k).dim).double(), v.lengths)
              if isinstance(v, SparseSequence) else v for k, v in batch.inputs.items()}
    return as_double(MultimodalBatch(inputs, batch.presence, batch.labels))


def _setup(order: str, dtype: torch.dtype = torch.float32, **ops):  # noqa: ANN003, ANN202
    cfg = tiny_config(**ops)
    co = random_cohort(cfg, 16, 4, density=0.3, seed=2, p_present=0.8, min_len=2)
    tb, vb = co.batch(np.arange(8)), co.batch(np.arange(8, 16))
    if dtype == torch.float64:
        # Dense sequence inputs: autograd has no double backward through embedding_bag.
        mods = tuple(replace(m, input_kind="dense") for m in cfg.modalities)
        cfg = replace(cfg, modalities=mods)
        tb, vb = _densify(tb, cfg), _densify(vb, cfg)
    torch.manual_seed(0)
    net = Supernet(cfg).to(dtype)
    sc = SearchConfig(order=order, w_lr=1e-2, arch_lr=1e-2, penalty_weight=0.1)
    return net, BilevelSearcher(net, sc), tb, vb


@pytest.mark.parametrize("order", ["first", "second"])
def test_arch_step_changes_only_arch(order: str) -> None:
    net, s, tb, vb = _setup(order)
    s.weight_step(tb)  # give Adam some state
    w_before = [p.detach().clone() for p in s.weights]
    a_before = [p.detach().clone() for p in s.arch]
    s.arch_step(tb, vb)
    assert all(torch.equal(a, b) for a, b in zip(w_before, s.weights))  # weights restored exactly
    assert any(not torch.equal(a, b) for a, b in zip(a_before, s.arch))
    s.weight_step(tb)
    assert any(not torch.equal(a, b) for a, b in zip(w_before, s.weights))


def test_second_order_matches_exact_unrolled_gradient() -> None:
    ops = dict(seq_ops=("identity", "ffn", "conv1d", "rnn"), static_ops=("identity", "linear_relu", "static_static"))
    net, s, tb, vb = _setup("second", torch.float64, **ops)
    for _ in range(2):
        s.weight_step(tb)
    _, approx = s.second_order_grads(tb, vb)

    # Exact: d/da [L_val(w'(a), a) + lambda P(a)], w'(a) = Adam virtual step from grad L_train(w, a),
    # differentiating through the gradient (second moment held fixed, as the method states).
    names = [n for n, p in net.named_parameters() if all(p is not a for a in s.arch)]
    params = dict(net.named_parameters())
    g = torch.autograd.grad(task_loss(net(tb), tb.targets(), net.config.task), s.weights, create_graph=True)
    group = s.w_opt.param_groups[0]
    lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    new = {}
    for name, p, gi in zip(names, s.weights, g):
        st = s.w_opt.state[p]
        t = float(st["step"]) + 1
        gi = gi + wd * p.detach()
        m = b1 * st["exp_avg"] + (1 - b1) * gi
        v = (b2 * st["exp_avg_sq"] + (1 - b2) * gi * gi).detach()
        new[name] = p.detach() - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
    new.update({n: params[n] for n in params if n not in new})
    logits = torch.func.functional_call(net, new, (vb,))
    obj = task_loss(logits, vb.targets(), net.config.task) + 0.1 * diversity_penalty(net)
    exact = torch.autograd.grad(obj, s.arch, allow_unused=True)
    exact = torch.cat([torch.zeros_like(a) if e is None else e for a, e in zip(s.arch, exact)])
    approx = torch.cat(approx)
    first_order = torch.cat(torch.autograd.grad(s.arch_objective(vb), s.arch, allow_unused=True))
    assert (exact - first_order).norm() > 1e-6  # the implicit term is not negligible here
    torch.testing.assert_close(approx, exact, rtol=1e-3, atol=1e-6)


def test_bad_order_rejected() -> None:
    with pytest.raises(ValueError):
        SearchConfig(order="third")  # type: ignore[arg-type]
