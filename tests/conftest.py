"""Shared fixtures: a small synthetic cohort and its labels, built once per test worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory) -> Path:
    """A 400-stay cohort (2 shards, some DICOMs) written by the real generator."""
    from model.data.synthetic import generate_cohort
    from model.data.synthetic_config import CohortConfig

    root = tmp_path_factory.mktemp("cohort") / "meds"
    generate_cohort(root, CohortConfig(n_stays=400, seed=7, stays_per_shard=200, dicom_share=0.3, image_size=64))
    return root


@pytest.fixture(scope="session")
def small_labels(small_cohort, tmp_path_factory) -> Path:
    from model.data.labeling import label_dataset

    out = tmp_path_factory.mktemp("labels") / "labels"
    label_dataset(small_cohort, out)
    return out
