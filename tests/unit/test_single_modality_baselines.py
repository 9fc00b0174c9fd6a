"""The quality benchmark's single-modality references: structured columns split by AutoFM modality."""

from __future__ import annotations

import numpy as np
import polars as pl

from experiments.autofm_cohort import _sorted_order, logreg_baselines
from model.data.signal_check import STRUCTURED_MODALITIES, structured_feature_groups, structured_features


def test_structured_columns_carry_their_modality(small_cohort, small_labels) -> None:
    samples = pl.read_parquet(small_labels / "samples" / "arf.parquet")
    shards = sorted((small_cohort / "data").rglob("*.parquet"))
    srt, _ = _sorted_order(samples)
    x, groups = structured_feature_groups(shards, srt)
    np.testing.assert_array_equal(x, structured_features(shards, srt))
    assert groups.shape == (x.shape[1],) and set(groups) == set(STRUCTURED_MODALITIES)
    half = x.shape[1] // 2  # values, then one missing indicator per value column
    np.testing.assert_array_equal(groups[:half], groups[half:])
    assert list(groups[:2]) == ["demographics"] * 2 and (groups == "demographics").sum() == 4
    age = x[:, 0]
    assert 15 < np.median(age) < 100  # years at the anchor, not a count
    assert set(np.unique(x[:, 1])) <= {0.0, 1.0}  # female flag
    # Infusion-start counts are continuous events; lab summaries discrete ones.
    assert (groups[:half] == "events_cont").sum() > 0 and (groups[:half] == "events_disc").sum() > 10


def test_logreg_baselines_score_each_modality_alone(small_cohort, small_labels) -> None:
    samples = pl.read_parquet(small_labels / "samples" / "arf.parquet")
    scores = logreg_baselines(small_cohort, samples)
    n_held = int((samples["split"] == "held_out").sum())
    assert {"structured", "notes", "cxr", "fusion", *STRUCTURED_MODALITIES} <= set(scores)
    for name, s in scores.items():
        assert s.shape == (n_held,) and np.all((s > 0) & (s < 1)), name
    # Different columns, different models: no single-modality row repeats the all-tables one.
    for name in STRUCTURED_MODALITIES:
        assert not np.allclose(scores[name], scores["structured"]), name
