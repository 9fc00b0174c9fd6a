"""Eq. 3.9: value, which parameters it touches, and the sign of its gradient (it pushes nodes apart)."""

from __future__ import annotations

import torch

from model.search.penalty import diversity_penalty, selection_probs
from model.search.supernet import Supernet


def _pairwise_ce(p: torch.Tensor) -> torch.Tensor:
    total = torch.zeros(())
    for a in range(p.shape[0]):
        for b in range(p.shape[0]):
            if a != b:
                total = total - (p[b] * p[a].log() + (1 - p[b]) * (1 - p[a]).log()).sum()
    return total


def test_penalty_value_matches_definition(supernet: Supernet) -> None:
    with torch.no_grad():
        for p in supernet.arch_parameters():
            p.normal_(0, 1)
    p = selection_probs(supernet)
    assert p.shape == (supernet.config.n_nodes, len(supernet.config.modality_names))
    torch.testing.assert_close(diversity_penalty(supernet), -_pairwise_ce(p))


def test_penalty_gradient_touches_only_modality_selectors(supernet: Supernet) -> None:
    diversity_penalty(supernet).backward()
    n_mod = len(supernet.config.modality_names)
    for edge_id, e in supernet.edges().items():
        g = e.alpha.grad
        if edge_id.startswith("selector/") and edge_id.split("/")[2] in supernet.config.modality_names:
            assert g is not None and g.abs().sum() > 0, edge_id
        else:
            assert g is None or torch.all(g == 0), edge_id
    assert all(p.grad is None for p in supernet.weight_parameters())
    assert n_mod == 5


def test_descending_the_penalty_makes_selections_diverse(supernet: Supernet) -> None:
    with torch.no_grad():
        for node in supernet.fusion:
            for sel in node.selectors:
                sel.alpha.copy_(torch.tensor([0.1, 0.0]))
        supernet.fusion[1].selectors[0].alpha.copy_(torch.tensor([0.3, 0.0]))
    before = selection_probs(supernet).detach()
    ce_before = _pairwise_ce(before)
    opt = torch.optim.SGD(supernet.arch_parameters(), lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        (0.1 * diversity_penalty(supernet)).backward()
        opt.step()
    after = selection_probs(supernet).detach()
    assert _pairwise_ce(after) > ce_before
    spread = lambda p: (p[:, 0].max() - p[:, 0].min())  # noqa: E731
    assert spread(after) > spread(before)  # the nodes that differed on edge 0 moved further apart
