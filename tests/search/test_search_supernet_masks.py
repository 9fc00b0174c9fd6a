"""Supernet and derived model: an absent modality never contributes (all present, all absent but one, mixed)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from search_helpers import with_presence

from model.derived import DerivedEnsemble
from model.search.batch import MultimodalBatch, SparseSequence
from model.search.derive import derive_model, genotype_of
from model.search.supernet import Supernet
from model.search.toy_data import ToyCohort


def _scramble(batch: MultimodalBatch, absent: torch.Tensor, seed: int) -> MultimodalBatch:
    """Replace the inputs of absent (sample, modality) pairs by noise; present ones stay as they are."""
    g = torch.Generator().manual_seed(seed)
    names = list(batch.inputs)
    inputs = dict(batch.inputs)
    for j, name in enumerate(names):
        x = batch.inputs[name]
        rows = absent[:, j]
        if isinstance(x, SparseSequence):
            dense = x.to_dense(int(x.indices.max()) + 1 if x.indices.numel() else 1)
            noise = (torch.rand(dense.shape, generator=g) < 0.5).float()
            dense[rows] = noise[rows]
            inputs[name] = SparseSequence.from_dense(dense, x.lengths)
        else:
            x = x.clone()
            x[rows] = torch.randn(x[rows].shape, generator=g) * 10
            inputs[name] = x
    return MultimodalBatch(inputs, batch.presence, batch.labels)


def _patterns(b: int, m: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    mixed = torch.rand(b, m, generator=g) < 0.5
    return {"all_present": torch.ones(b, m, dtype=torch.bool),
            **{f"only_{j}": torch.nn.functional.one_hot(torch.full((b,), j), m).bool() for j in range(m)},
            "mixed": mixed, "none": torch.zeros(b, m, dtype=torch.bool)}


def _discrete(net: Supernet, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for e in net.edges().values():
        e.keep_only(int(rng.integers(len(e.op_names))))


@pytest.mark.parametrize("which", ["supernet", "derived", "ensemble"])
def test_absent_modalities_never_contribute(which: str, supernet: Supernet, cohort: ToyCohort) -> None:
    base = cohort.batch(np.arange(8))
    model = supernet
    if which != "supernet":
        _discrete(supernet, 5)
        model = derive_model(supernet, genotype_of(supernet, "test")).eval()
    if which == "ensemble":
        other = copy.deepcopy(model)
        with torch.no_grad():
            for p in other.parameters():
                p.mul_(0.5)
        model = DerivedEnsemble([model, other]).eval()
    m = base.presence.shape[1]
    for name, presence in _patterns(8, m).items():
        batch = with_presence(base, presence)
        out = model(batch)
        assert out.shape == (8, 1) and torch.isfinite(out).all(), name
        scrambled = with_presence(_scramble(base, ~presence, seed=len(name)), presence)
        torch.testing.assert_close(model(scrambled), out, msg=f"pattern {name}")


def test_present_modality_does_contribute(supernet: Supernet, cohort: ToyCohort) -> None:
    base = cohort.batch(np.arange(8))
    presence = torch.ones_like(base.presence)
    out = supernet(with_presence(base, presence))
    changed = supernet(with_presence(_scramble(base, presence, seed=1), presence))
    assert not torch.allclose(out, changed)


def test_batch_of_one_and_bad_shapes(supernet: Supernet, cohort: ToyCohort) -> None:
    one = cohort.batch(np.arange(1))
    assert supernet(one).shape == (1, 1)
    with pytest.raises(ValueError):
        supernet(with_presence(one, torch.ones(2, 5, dtype=torch.bool)))


def test_padding_does_not_change_output(supernet: Supernet, cohort: ToyCohort) -> None:
    base = cohort.batch(np.arange(6))
    seq = base.inputs["events_cont"]
    dense = seq.to_dense(23)
    valid = seq.step_mask()
    dense[~valid] = 1.0  # garbage on padded steps
    noisy = MultimodalBatch({**base.inputs, "events_cont": SparseSequence.from_dense(dense, seq.lengths)},
                            base.presence, base.labels)
    torch.testing.assert_close(supernet(noisy), supernet(base))


def test_arch_parameters_are_state(supernet: Supernet) -> None:
    state = supernet.state_dict()
    edges = supernet.edges()
    assert len(supernet.arch_parameters()) == len(edges)
    for edge_id, e in edges.items():
        assert any(v is e.alpha for v in supernet.parameters())
        assert sum(t.data_ptr() == e.alpha.data_ptr() for t in state.values()) == 1, edge_id
    n_w, n_a = len(supernet.weight_parameters()), len(supernet.arch_parameters())
    assert n_w + n_a == len(list(supernet.parameters()))
