"""Fixtures of the embedding tests: the shared small cohort, its samples, and a tiny untrained encoder folder."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from model.embed.config import ImagePreprocessConfig

TINY = ImagePreprocessConfig(size=32)  # the tests' pixel pipeline (also defined in the test modules)


@pytest.fixture(scope="session")
def mortality_samples(small_labels) -> pl.DataFrame:
    return pl.read_parquet(small_labels / "samples" / "mortality.parquet")


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """An untrained (seeded) encoder saved in the real format; embedding needs weights, not good ones."""
    import torch

    from model.embed.cxr_encoder import CxrEncoder, save_encoder

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("enc") / "cxr"
    save_encoder(CxrEncoder(14), out, findings=[f"f{i}" for i in range(14)], preprocess=TINY, summary={})
    return out
