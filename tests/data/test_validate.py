"""Valid cohorts: the reader API, the validation report, and the variations the rules accept (with warnings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.data.meds_reader import iter_shards, open_meds, scan_events
from model.data.validate import validate_meds

S0, S1 = "data/0.parquet", "data/1.parquet"


def rewrite(root: Path, rel: str, fn: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(fn(pq.read_table(root / rel)), root / rel)


def cast(name: str, type_: pa.DataType) -> Callable[[pa.Table], pa.Table]:
    return lambda t: t.set_column(t.schema.get_field_index(name), name, t[name].cast(type_))


def test_open_meds_finds_shards_and_metadata(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    ds = open_meds(root)
    assert ds.shard_paths == (root / S0, root / S1)
    assert ds.image_column == "image_path"
    assert ds.metadata["dataset_name"] == "tiny-icu"
    assert ds.has_codes and ds.has_splits
    assert open_meds(f"file://{root}").shard_paths == ds.shard_paths


def test_open_meds_without_metadata(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    for name in ("dataset.json", "codes.parquet", "subject_splits.parquet"):
        (root / "metadata" / name).unlink()
    ds = open_meds(root)
    assert (ds.metadata, ds.image_column, ds.has_codes, ds.has_splits) == ({}, None, False, False)


def test_scan_events_and_iter_shards_give_canonical_dtypes(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    rewrite(root, S1, lambda t: t.drop_columns(["text_value", "numeric_value"]))
    rewrite(root, S0, cast("numeric_value", pa.float64()))
    ds = open_meds(root)
    lf = scan_events(ds)
    assert isinstance(lf, pl.LazyFrame)
    df = lf.collect()
    assert df.height == 38
    assert df.schema["subject_id"] == pl.Int64 and df.schema["time"] == pl.Datetime("us")
    assert df.schema["numeric_value"] == pl.Float32 and df.schema["text_value"] == pl.String
    assert df.filter(pl.col("subject_id") == 103)["numeric_value"].null_count() == 10
    shards = list(iter_shards(ds, columns=["subject_id", "code"]))
    assert [p.name for p, _ in shards] == ["0.parquet", "1.parquet"]
    assert [f.columns for _, f in shards] == [["subject_id", "code"]] * 2
    assert scan_events(ds, columns=["code"]).select(pl.len()).collect().item() == 38


def test_report_counts(make_cohort: Callable[[str], Path]) -> None:
    report = validate_meds(make_cohort("cohort"), required_codes={"vitals": [r"^LAB//220045//"]})
    d = report.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert (report.n_shards, report.n_events, report.n_subjects) == (2, 38, 4)
    assert (report.n_anchor_events, report.n_subjects_with_anchor) == (4, 4)
    assert (report.n_images, report.n_image_files, report.codes_count) == (2, 2, 10)
    assert report.code_prefix_counts["LAB"] == 8 and report.code_prefix_counts["NOTE"] == 4
    assert report.split_counts == {"held_out": 1, "train": 2, "tuning": 1}
    assert report.required_code_matches == {"vitals": 1}
    assert report.warnings == [] and report.images_decoded


def test_anchor_code_is_a_prefix_by_parts(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    assert validate_meds(root, anchor_code="ICU_ADMISSION//MICU").n_anchor_events == 4
    assert validate_meds(root, anchor_code="LAB", check_images=False).n_anchor_events == 8


@pytest.mark.parametrize(
    "rel, column, type_",
    [
        (S0, "numeric_value", pa.float64()),
        (S0, "subject_id", pa.int32()),
        (S1, "time", pa.timestamp("ns")),
        (S1, "time", pa.timestamp("ms")),
        (S0, "code", pa.large_string()),
        (S0, "code", pa.dictionary(pa.int32(), pa.string())),
        (S1, "text_value", pa.binary()),
        (S1, "numeric_value", pa.int64()),
    ],
    ids=[
        "numeric-float64",
        "subject-int32",
        "time-ns",
        "time-ms",
        "code-large-string",
        "code-dictionary",
        "text-binary-utf8",
        "numeric-int64",
    ],
)
def test_accepted_column_types(make_cohort: Callable[[str], Path], rel: str, column: str, type_: pa.DataType) -> None:
    root = make_cohort("cohort")
    if column == "numeric_value" and pa.types.is_integer(type_):
        ints = pa.array([None if v is None else int(v) for v in pq.read_table(root / rel)[column].to_pylist()], type_)
        rewrite(root, rel, lambda t: t.set_column(t.schema.get_field_index(column), column, ints))
    else:
        rewrite(root, rel, cast(column, type_))
    assert validate_meds(root).n_events == 38


def test_zero_row_shard_is_allowed(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    pq.write_table(pq.read_table(root / S1).slice(0, 0), root / "data" / "2.parquet")
    report = validate_meds(root)
    assert (report.n_shards, report.n_events) == (3, 38)


def test_soft_problems_are_warnings(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    rewrite(
        root,
        "metadata/subject_splits.parquet",
        lambda t: pa.concat_tables(
            [t.slice(1), pa.table({"subject_id": pa.array([999], pa.int64()), "split": ["train"]})]
        ),
    )
    rewrite(root, "metadata/codes.parquet", lambda t: t.slice(2))
    report = validate_meds(root)
    assert report.n_subjects_without_split == 1
    assert report.n_split_subjects_without_data == 1
    assert report.n_codes_missing_from_metadata == 2
    assert len(report.warnings) == 3
    assert not any("101" in w or "999" in w for w in report.warnings)


def test_subject_sharded_in_subfolders(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    (root / "data" / "train").mkdir()
    (root / S0).rename(root / "data" / "train" / "0.parquet")
    ds = open_meds(root)
    assert [p.relative_to(root).as_posix() for p in ds.shard_paths] == ["data/1.parquet", "data/train/0.parquet"]
    assert validate_meds(root).n_subjects == 4


def test_dicom_without_suffix_is_decoded(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    (root / "images/103/9003_0.dcm").rename(root / "images/103/9003_0")
    paths = pa.array([p and "images/103/9003_0" for p in pq.read_table(root / S1)["image_path"].to_pylist()])
    rewrite(root, S1, lambda t: t.set_column(t.schema.get_field_index("image_path"), "image_path", paths))
    assert validate_meds(root).n_image_files == 2
