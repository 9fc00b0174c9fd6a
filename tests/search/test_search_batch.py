"""Batch layout, validation errors and the sparse (embedding-bag) input embedding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from search_helpers import with_presence

from model.search.batch import MultimodalBatch, SparseSequence
from model.search.embedding import ModalityEmbedding
from model.search.spec import ModalitySpec


def test_sparse_round_trip_and_layout() -> None:
    g = torch.Generator().manual_seed(0)
    dense = (torch.rand(3, 4, 9, generator=g) < 0.3).float()
    s = SparseSequence.from_dense(dense, torch.tensor([4, 2, 0]))
    assert s.values is None  # binary
    assert s.offsets.numel() == 12 and int(s.offsets[0]) == 0
    torch.testing.assert_close(s.to_dense(9), dense)
    assert s.step_mask().tolist() == [[True] * 4, [True, True, False, False], [False] * 4]


def test_sparse_embedding_equals_dense_linear() -> None:
    torch.manual_seed(0)
    spec = ModalitySpec("ev", "sequential", "sparse", 13)
    emb = ModalityEmbedding(spec, 6, dropout=0.0)
    dense = (torch.rand(2, 3, 13) < 0.4).float() * torch.rand(2, 3, 13)  # non-binary values too
    s = SparseSequence.from_dense(dense)
    out = emb(s, torch.ones(2, dtype=torch.bool)).x
    expected = dense @ emb.bag.weight + emb.bias
    torch.testing.assert_close(out, expected)


def test_absent_and_padded_embeddings_are_zero() -> None:
    torch.manual_seed(0)
    spec = ModalitySpec("ev", "sequential", "sparse", 5)
    emb = ModalityEmbedding(spec, 4, dropout=0.0)
    s = SparseSequence.from_dense(torch.ones(2, 3, 5), torch.tensor([2, 3]))
    e = emb(s, torch.tensor([True, False]))
    assert torch.all(e.x[1] == 0) and torch.all(e.x[0, 2] == 0) and torch.any(e.x[0, :2] != 0)
    assert e.mask.tolist() == [[True, True, False], [False, False, False]]


def test_batch_validation_errors(config, cohort) -> None:  # noqa: ANN001
    batch = cohort.batch(np.arange(4))
    batch.validate(config)
    with pytest.raises(ValueError, match="presence mask must have shape"):
        with_presence(batch, batch.presence[:, :3]).validate(config)
    with pytest.raises(ValueError, match="must be bool"):
        with_presence(batch, batch.presence.int()).validate(config)
    bad = dict(batch.inputs)
    bad["notes"] = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="notes"):
        MultimodalBatch(bad, batch.presence, batch.labels).validate(config)
    seq = batch.inputs["events_cont"]
    bad_idx = SparseSequence(seq.indices + 1000, seq.offsets, seq.batch_size, seq.n_steps, seq.lengths)
    with pytest.raises(ValueError, match="feature indices"):
        MultimodalBatch({**batch.inputs, "events_cont": bad_idx}, batch.presence, batch.labels).validate(config)
    with pytest.raises(ValueError, match="labels"):
        MultimodalBatch(batch.inputs, batch.presence, torch.zeros(4, 3)).validate(config)


def test_missing_input_allowed_only_when_absent(config, cohort) -> None:  # noqa: ANN001
    batch = cohort.batch(np.arange(4))
    inputs = {k: v for k, v in batch.inputs.items() if k != "cxr"}
    presence = batch.presence.clone()
    with pytest.raises(ValueError, match="cxr: marked present"):
        presence[0, -1] = True
        MultimodalBatch(inputs, presence).validate(config)
    presence[:, -1] = False
    MultimodalBatch(inputs, presence).validate(config)
