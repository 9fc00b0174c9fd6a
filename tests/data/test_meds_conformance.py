"""Datasets written by others load through validation, the reader and ingestion.

meds-testing-helpers' static sample (sharded by split in sub-folders, anchor code ADMISSION), its random generator
(codes static//N and dynamic//N), and our own synthetic generator (the small_cohort fixture of tests/conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import meds
import polars as pl
import pyarrow.parquet as pq
import pytest

from model.data.ingest import ingest
from model.data.meds_reader import open_meds, scan_events
from model.data.validate import validate_meds


@pytest.fixture(scope="module")
def static_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from meds_testing_helpers.dataset import MEDSDataset
    from meds_testing_helpers.static_sample_data import SIMPLE_STATIC_SHARDED_BY_SPLIT

    root = tmp_path_factory.mktemp("static") / "simple_static"
    MEDSDataset.from_yaml(SIMPLE_STATIC_SHARDED_BY_SPLIT).write(root)
    return root


@pytest.fixture(scope="module")
def generated_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = Path(sys.executable).parent / "build_sample_MEDS_dataset"
    if not exe.exists():
        found = shutil.which("build_sample_MEDS_dataset")
        if found is None:
            pytest.skip("build_sample_MEDS_dataset (meds-testing-helpers CLI) is not installed")
        exe = Path(found)
    root = tmp_path_factory.mktemp("generated") / "sample"
    cmd = [
        str(exe),
        "seed=1",
        "N_subjects=60",
        "do_overwrite=False",
        f"output_dir={root}",
        "dataset_spec/data_generator=sample",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=root.parent)
    if proc.returncode != 0:
        pytest.skip(f"build_sample_MEDS_dataset failed offline (rc {proc.returncode}): {proc.stderr[-300:]}")
    return root


def test_static_sample_validates_with_its_anchor(static_sample: Path) -> None:
    report = validate_meds(static_sample, anchor_code="ADMISSION")
    assert (report.n_shards, report.n_subjects, report.n_subjects_with_anchor) == (4, 6, 6)
    assert report.split_counts == {"held_out": 1, "train": 4, "tuning": 1}
    assert report.image_column is None and report.n_images == 0
    assert report.code_prefix_counts["HR"] > 0 and report.code_prefix_counts["MEDS_BIRTH"] == 6
    assert report.n_subjects_without_split == 0


def test_static_sample_reader(static_sample: Path) -> None:
    ds = open_meds(static_sample)
    assert [p.relative_to(static_sample / "data").as_posix() for p in ds.shard_paths] == [
        "held_out/0.parquet",
        "train/0.parquet",
        "train/1.parquet",
        "tuning/0.parquet",
    ]
    df = scan_events(ds).collect()
    assert df["subject_id"].n_unique() == 6
    assert df.schema["text_value"] == pl.String and df["text_value"].null_count() == df.height


def test_static_sample_default_anchor_is_an_empty_cohort(static_sample: Path) -> None:
    from model.errors import DataValidationError

    with pytest.raises(DataValidationError, match="no subject has an anchor"):
        validate_meds(static_sample)


def test_static_sample_ingests(static_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = ingest(static_sample, out, anchor_code="ADMISSION")
    assert manifest["counts"]["n_subjects"] == 6
    assert "data/train/1.parquet" in manifest["files"]
    for shard in open_meds(out).shard_paths:
        meds.DataSchema.validate(pq.read_table(shard))
    meds.CodeMetadataSchema.validate(pq.read_table(out / "metadata/codes.parquet"))
    meds.SubjectSplitSchema.validate(pq.read_table(out / "metadata/subject_splits.parquet"))
    assert validate_meds(out, anchor_code="ADMISSION").n_events == manifest["counts"]["n_events"]


def test_generated_sample_validates_and_ingests(generated_sample: Path, tmp_path: Path) -> None:
    report = validate_meds(generated_sample, anchor_code="dynamic")
    assert report.n_subjects == 60 and report.n_events > 60
    assert set(report.code_prefix_counts) <= {"static", "dynamic", "MEDS_BIRTH", "MEDS_DEATH"}
    # Its generator writes an empty codes.parquet: a warning, not an error.
    assert report.n_codes_missing_from_metadata == report.codes_count
    manifest = ingest(generated_sample, tmp_path / "out", anchor_code="dynamic")
    assert manifest["counts"]["n_events"] == report.n_events
    assert manifest["codes_parquet_built"] is False


def test_synthetic_generator_cohort_meets_the_contract(small_cohort: Path) -> None:
    """The cohort model.data.synthetic writes passes every rule, with the task codes of docs/data-conventions.md."""
    required = {
        "arf": [r"^PROCEDURE//START//22579[24]$", r"^LAB//220339//cmH2O$"],
        "shock": [r"^INFUSION_START//(221906|221289|221662|222315|221749)$"],
        "mortality": [r"^MEDS_DEATH$"],
    }
    report = validate_meds(small_cohort, required_codes=required)
    assert report.n_subjects_with_anchor == report.n_subjects > 0
    assert report.n_image_files > 0 and report.code_prefix_counts["NOTE"] > 0
    assert all(report.required_code_matches[task] > 0 for task in required)
    assert report.warnings == []
