"""Fixtures of the fusion tests: tiny model sizes and a tiny hand-written MEDS cohort."""

from __future__ import annotations

import dataclasses

import pytest

from model.fusion.config import ModelConfig

TINY_MODEL = ModelConfig(n_features=48, n_outputs=3, dense=(("cxr", 8), ("notes", 6)), hidden=16, d_model=16,
                         n_heads=2, n_layers=1, ff=32)


@pytest.fixture
def tiny_model_cfg() -> ModelConfig:
    """Small enough that a forward/backward takes milliseconds."""
    return dataclasses.replace(TINY_MODEL)
