"""Fitted on the training split only; one stay at a time gives the features it gets in a batch; streaming works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from model.errors import DataValidationError
from model.features.config import FeaturizerConfig
from model.features.fitted import FittedFeaturizer
from model.features.meds_featurize import featurize_stay, fit_meds, transform_meds
from model.features.store import FeatureStore

CFG = FeaturizerConfig(T=12, dt=1.0, theta_freq=0.5, extend_outer_bins=True)


def _bins(f: FittedFeaturizer) -> dict[str, list]:
    return {e.column: e.edges for t in f.tables.values() for e in t.encoders if e.edges is not None}


def test_bins_ignore_test_subjects(tmp_path: Path, make_cohort) -> None:  # noqa: ANN001
    """Test subjects with 100x heart rates sit in the same shards; fitting on train must not see them."""
    with_test = make_cohort(tmp_path / "a", 40, seed=3, extreme_from=30)
    train = with_test.head(30)
    make_cohort(tmp_path / "b", 30, seed=3)  # the same 30 training subjects, nobody else
    fitted = fit_meds(tmp_path / "a", train, CFG, workdir=tmp_path)
    reference = fit_meds(tmp_path / "b", train, CFG, workdir=tmp_path)
    assert _bins(fitted)["LAB//220045//bpm_value"] == _bins(reference)["LAB//220045//bpm_value"]
    assert {k: t.names for k, t in fitted.tables.items()} == {k: t.names for k, t in reference.tables.items()}
    leaky = fit_meds(tmp_path / "a", with_test, CFG, workdir=tmp_path)
    assert _bins(leaky)["LAB//220045//bpm_value"] != _bins(fitted)["LAB//220045//bpm_value"]


def test_single_stay_equals_batch(tmp_path: Path, cohort, meds) -> None:  # noqa: ANN001
    root, samples = cohort
    fitted = fit_meds(root, samples.head(30), CFG, workdir=tmp_path)
    fitted = FittedFeaturizer.from_dict(fitted.to_dict())  # what serving loads
    transform_meds(fitted, root, samples, tmp_path / "feat")
    store = FeatureStore(tmp_path / "feat")
    rows = store.samples
    events = pl.read_parquet(root / "data" / "*.parquet")
    for k in (0, 7, 33, 39):
        one = samples[k]
        single = featurize_stay(fitted, events.filter(pl.col("subject_id") == one["subject_id"][0]), one)
        row = rows.filter(pl.col("sample_index") == k)["row"].item()
        for table, m in single.items():
            np.testing.assert_array_equal(m.toarray(), store.rows(table, np.array([row])).toarray())
    assert store.dense("E", np.array([0, 1])).shape == (2, 12, len(store.names["E"]))


def test_shard_layout_does_not_change_features(tmp_path: Path, make_cohort) -> None:  # noqa: ANN001
    one = make_cohort(tmp_path / "one", 24, seed=5, n_shards=1)
    make_cohort(tmp_path / "four", 24, seed=5, n_shards=4)
    f1 = fit_meds(tmp_path / "one", one, CFG, workdir=tmp_path)
    f4 = fit_meds(tmp_path / "four", one, CFG, workdir=tmp_path)
    assert f1.to_dict()["tables"] == f4.to_dict()["tables"]
    transform_meds(f1, tmp_path / "one", one, tmp_path / "o1")
    transform_meds(f4, tmp_path / "four", one, tmp_path / "o4")
    s1, s4 = FeatureStore(tmp_path / "o1"), FeatureStore(tmp_path / "o4")
    order1 = s1.samples.sort("sample_index")["row"].to_numpy()
    order4 = s4.samples.sort("sample_index")["row"].to_numpy()
    for table in ("p", "M", "E"):
        np.testing.assert_array_equal(s1.rows(table, order1).toarray(), s4.rows(table, order4).toarray())


def test_saved_featurizer_round_trips(tmp_path: Path, cohort) -> None:  # noqa: ANN001
    root, samples = cohort
    fitted = fit_meds(root, samples, CFG, workdir=tmp_path)
    digest = fitted.save(tmp_path / "f.json")
    again = FittedFeaturizer.load(tmp_path / "f.json")
    assert again.digest() == digest and again.to_dict() == fitted.to_dict()
    assert set(again.tables) == {"p", "M", "E"}
    assert any(n.startswith("INFUSION//221906_") for n in again.tables["M"].names)
    assert not any("NOTE" in n or "DIAGNOSIS" in n for t in again.tables.values() for n in t.names)


def test_empty_split_and_missing_subjects(tmp_path: Path, cohort) -> None:  # noqa: ANN001
    root, samples = cohort
    with pytest.raises(DataValidationError, match="empty split"):
        fit_meds(root, samples.head(0), CFG, workdir=tmp_path)
    fitted = fit_meds(root, samples, CFG, workdir=tmp_path)
    manifest = transform_meds(fitted, root, samples.head(0), tmp_path / "empty")
    assert manifest["n_samples"] == 0 and len(FeatureStore(tmp_path / "empty")) == 0
    ghost = samples.head(1).with_columns(subject_id=pl.lit(999_999, pl.Int64))  # no events anywhere
    transform_meds(fitted, root, pl.concat([samples.head(2), ghost]), tmp_path / "ghost")
    store = FeatureStore(tmp_path / "ghost")
    row = store.samples.filter(pl.col("subject_id") == 999_999)["row"].item()
    assert store.rows("p", np.array([row])).nnz == 0 and store.rows("M", np.array([row])).nnz == 0
    ghost_e = store.rows("E", np.array([row])).tocoo()
    # FIDDLE's all-missing row: only the "no time since last measurement" (delta_time = 0) bin, in every bin
    assert {store.names["E"][j] for j in ghost_e.col} == {n for n in store.names["E"] if "_delta_time_(" in n
                                                           and n.split("_delta_time_(")[1].startswith("-")}
    assert ghost_e.nnz == store.L * len(fitted.structure.frequent)


def test_bad_samples_are_rejected(tmp_path: Path, cohort) -> None:  # noqa: ANN001
    root, samples = cohort
    wrong = samples.with_columns(prediction_time=pl.col("anchor_time") + pl.duration(hours=6))
    with pytest.raises(DataValidationError, match="window length"):
        fit_meds(root, wrong, CFG, workdir=tmp_path)
    with pytest.raises(DataValidationError, match="duplicate sample"):
        fit_meds(root, pl.concat([samples, samples.head(1)]), CFG, workdir=tmp_path)
    with pytest.raises(DataValidationError, match="missing column"):
        fit_meds(root, samples.drop("anchor_time"), CFG, workdir=tmp_path)
