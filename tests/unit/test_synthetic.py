"""The synthetic cohort: a valid MEDS dataset, deterministic, with the promised modalities and a sound oracle."""

from __future__ import annotations

import json

import meds
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pydicom
import pytest
from PIL import Image

from model.data.synthetic import generate_cohort
from model.data.synthetic_config import CohortConfig, Missingness


def test_cohort_is_valid_meds(small_cohort):
    shards = sorted((small_cohort / "data").glob("*.parquet"))
    assert len(shards) >= 2
    for shard in shards:
        meds.DataSchema.validate(pq.read_table(shard))
    meds.CodeMetadataSchema.validate(pq.read_table(small_cohort / "metadata" / "codes.parquet"))
    meds.SubjectSplitSchema.validate(pq.read_table(small_cohort / "metadata" / "subject_splits.parquet"))
    meta = json.loads((small_cohort / "metadata" / "dataset.json").read_text())
    meds.DatasetMetadataSchema.validate(meta)
    assert meta["additional_value_modality_columns"] == ["image_path"]


def test_subjects_sorted_contiguous_and_in_one_shard(small_cohort):
    seen: set[int] = set()
    for shard in sorted((small_cohort / "data").glob("*.parquet")):
        df = pl.read_parquet(shard)
        ids = df["subject_id"].unique().to_list()
        assert not seen & set(ids), "a subject appears in two shards"
        seen |= set(ids)
        changes = df.select((pl.col("subject_id") != pl.col("subject_id").shift()).sum()).item()
        assert changes == len(ids) - 1  # each subject's rows form one contiguous run
        t = df.with_columns(pl.col("time").fill_null(pl.datetime(1, 1, 1)))
        same = pl.col("subject_id") == pl.col("subject_id").shift()
        bad = t.filter(same & (pl.col("time") < pl.col("time").shift()))
        assert bad.is_empty()


def test_codes_follow_mimic_conventions(small_cohort):
    df = pl.read_parquet(small_cohort / "data" / "*.parquet")
    codes = set(df["code"].unique())
    for needed in ("GENDER//F", "GENDER//M", "MEDS_BIRTH", "MEDS_DEATH", "LAB//220045//bpm", "LAB//220277//%",
                   "LAB//220739//UNK", "INFUSION_START//221906", "PROCEDURE//START//225792", "LAB//220339//cmH2O"):
        assert needed in codes, needed
    prefixes = {c.split("//")[0] for c in codes}
    assert {"HOSPITAL_ADMISSION", "ICU_ADMISSION", "ICU_DISCHARGE", "HOSPITAL_DISCHARGE", "RACE", "INSURANCE", "NOTE",
            "CXR", "DIAGNOSIS", "SUBJECT_FLUID_OUTPUT"} <= prefixes
    listed = set(pl.read_parquet(small_cohort / "metadata" / "codes.parquet")["code"])
    assert codes == listed
    gcs = df.filter(pl.col("code") == "LAB//220739//UNK")
    assert gcs["numeric_value"].is_null().all() and gcs["text_value"].is_not_null().all()
    notes = df.filter(pl.col("code").str.starts_with("NOTE//"))
    assert notes["text_value"].str.len_chars().min() > 40


def test_images_are_decodable_and_labelled(small_cohort):
    df = pl.read_parquet(small_cohort / "data" / "*.parquet").filter(pl.col("image_path").is_not_null())
    findings = pl.read_parquet(small_cohort / "metadata" / "cxr_findings.parquet")
    assert set(df["image_path"]) == set(findings["image_path"])
    assert findings.width >= 14 + 1
    kinds = {p.rsplit(".", 1)[1] for p in df["image_path"]}
    assert kinds == {"png", "dcm"}
    for rel in df["image_path"].to_list()[:20]:
        path = small_cohort / rel
        if rel.endswith(".png"):
            assert Image.open(path).size == (64, 64)
        else:
            assert pydicom.dcmread(path).pixel_array.shape == (64, 64)
    stays = df["stay_id"].n_unique()
    n_stays = pl.read_parquet(small_cohort / "oracle" / "stays.parquet").height
    assert 0.1 < stays / n_stays < 0.45  # about a quarter of stays


def test_deterministic_for_a_seed(tmp_path):
    cfg = CohortConfig(n_stays=60, seed=3, image_size=32)
    generate_cohort(tmp_path / "a", cfg)
    generate_cohort(tmp_path / "b", cfg)
    generate_cohort(tmp_path / "c", CohortConfig(n_stays=60, seed=4, image_size=32))
    a = pl.read_parquet(tmp_path / "a" / "data" / "*.parquet")
    assert pl.read_parquet(tmp_path / "a" / "oracle" / "stays.parquet").height == 60  # exactly n_stays
    assert a.equals(pl.read_parquet(tmp_path / "b" / "data" / "*.parquet"))
    assert not a.equals(pl.read_parquet(tmp_path / "c" / "data" / "*.parquet"))
    imgs = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "images").rglob("*.*"))
    assert imgs and all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in imgs[:5])


def test_missingness_parameters(tmp_path):
    cfg = CohortConfig(n_stays=150, seed=1, image_size=32,
                       missingness=Missingness(notes=1.0, images=1.0, labs=0.5))
    generate_cohort(tmp_path / "m", cfg)
    df = pl.read_parquet(tmp_path / "m" / "data" / "*.parquet")
    assert df.filter(pl.col("code").str.starts_with("NOTE//")).is_empty()
    assert df["image_path"].is_null().all()
    full = tmp_path / "f"
    generate_cohort(full, CohortConfig(n_stays=150, seed=1, image_size=32))
    n_lab = lambda d: d.filter(pl.col("code") == "LAB//50912//mg/dL").height  # noqa: E731
    assert n_lab(df) < 0.7 * n_lab(pl.read_parquet(full / "data" / "*.parquet"))


def test_bad_parameters_are_rejected_and_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match="image_rate"):
        CohortConfig(image_rate=1.5)
    with pytest.raises(ValueError, match="missingness.notes"):
        Missingness(notes=-0.1)
    from model.data.synthetic import main

    assert main([str(tmp_path / "x"), "--n-stays", "0"]) == 2
    assert not (tmp_path / "x").exists()


def test_oracle_probabilities_are_calibrated(small_labels):
    """Labels drawn from the written probabilities: mean probability matches prevalence on every binary task."""
    for task in ("mortality", "arf", "shock"):
        s = pl.read_parquet(small_labels / "samples" / f"{task}.parquet")
        assert s["oracle_p"].null_count() == 0
        prev, mean_p = s["boolean_value"].mean(), s["oracle_p"].mean()
        se = np.sqrt(mean_p * (1 - mean_p) / s.height)
        assert abs(prev - mean_p) < 4 * se + 0.01, (task, prev, mean_p)
