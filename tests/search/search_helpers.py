"""Helpers shared by the search tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import torch

from model.search.batch import MultimodalBatch
from model.search.spec import SearchSpaceConfig, paper_modalities


def tiny_config(**overrides: object) -> SearchSpaceConfig:
    """Paper modalities plus an X-ray embedding, at toy sizes, no dropout."""
    kwargs: dict = dict(modalities=paper_modalities(23, 17, 5, 11, cxr_dim=7), d_e=8, embed_dropout=0.0)
    kwargs.update(overrides)
    return SearchSpaceConfig(**kwargs)


def as_double(batch: MultimodalBatch) -> MultimodalBatch:
    """The same batch with float64 dense inputs and labels (for float64 models)."""
    inputs = {k: (v.double() if isinstance(v, torch.Tensor) else v) for k, v in batch.inputs.items()}
    return MultimodalBatch(inputs, batch.presence, None if batch.labels is None else batch.labels.double())


def with_presence(batch: MultimodalBatch, presence: torch.Tensor) -> MultimodalBatch:
    """The batch with another presence mask."""
    return MultimodalBatch(batch.inputs, presence, batch.labels)
