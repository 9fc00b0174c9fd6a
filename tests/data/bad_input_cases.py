"""Bad-input cases for test_bad_input.py: how each breaks a fresh valid cohort and what the error must name.

Rows of shard 0: subject 101 at 0-9 (0 static, 1 MEDS_BIRTH, 3 ICU_ADMISSION, 4-5 LAB, 6 NOTE, 7 CXR PNG), subject
102 at 10-18 (16 NOTE). Shard 1 has the same layout for 103 (7: CXR DICOM) and 104.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

S0, S1 = "data/0.parquet", "data/1.parquet"


def rewrite(root: Path, rel: str, fn: Callable[[pa.Table], pa.Table]) -> None:
    """Apply fn to a parquet file's table and write it back."""
    pq.write_table(fn(pq.read_table(root / rel)), root / rel)


def put(name: str, arr: pa.Array | list) -> Callable[[pa.Table], pa.Table]:
    """Replace (or add) a column."""

    def fn(t: pa.Table) -> pa.Table:
        a = arr if isinstance(arr, pa.Array) else pa.array(arr)
        i = t.schema.get_field_index(name)
        return t.set_column(i, name, a) if i >= 0 else t.append_column(name, a)

    return fn


def set_at(name: str, row: int, value: object, type_: pa.DataType | None = None) -> Callable[[pa.Table], pa.Table]:
    """Set one value of a column (optionally changing the column type)."""

    def fn(t: pa.Table) -> pa.Table:
        values = t.column(name).to_pylist()
        values[row] = value
        return put(name, pa.array(values, type_ or t.schema.field(name).type))(t)

    return fn


def bad_utf8(name: str, row: int) -> Callable[[pa.Table], pa.Table]:
    """Put invalid UTF-8 bytes into a string-typed column (as some writers do; pyarrow reads them through)."""

    def fn(t: pa.Table) -> pa.Table:
        values = [None if v is None else v.encode() for v in t.column(name).to_pylist()]
        values[row] = b"Pt \xff\xfe resting"
        raw = pa.array(values, pa.binary())
        arr = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers(), null_count=raw.null_count)
        return put(name, arr)(t)

    return fn


def reorder(order: list[int]) -> Callable[[pa.Table], pa.Table]:
    return lambda t: t.take(pa.array(order))


def edit_json(root: Path, **fields: object) -> None:
    path = root / "metadata/dataset.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))


def add_early_event(t: pa.Table) -> pa.Table:
    """Insert, after subject 101's static row, an event dated before its MEDS_BIRTH (still sorted by time)."""
    row = t.slice(4, 1).to_pylist()[0] | {"time": pa.scalar(0, pa.timestamp("us")).as_py().replace(year=2080)}
    return pa.concat_tables([t.slice(0, 1), pa.Table.from_pylist([row], schema=t.schema), t.slice(1)])


def duplicate_subject(root: Path) -> None:
    """Append subject 101's rows (from shard 0) to the end of shard 1."""
    s0 = pq.read_table(root / S0)
    s101 = s0.filter(pc.equal(s0["subject_id"], 101))
    pq.write_table(pa.concat_tables([pq.read_table(root / S1), s101]), root / S1)


def truncate(rel: str, keep: int) -> Callable[[Path], None]:
    def fn(root: Path) -> None:
        data = (root / rel).read_bytes()
        (root / rel).write_bytes(data[:keep])

    return fn


def outside_image(root: Path) -> None:
    (root.parent / "outside.png").write_bytes((root / "images/101/9001_0.png").read_bytes())
    rewrite(root, S0, set_at("image_path", 7, "images/../../outside.png"))


def absolute_image(root: Path) -> None:
    rewrite(root, S0, set_at("image_path", 7, str((root / "images/101/9001_0.png").resolve())))


def empty_shards(root: Path) -> None:
    for rel in (S0, S1):
        rewrite(root, rel, lambda t: t.slice(0, 0))


def splits(fn: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    return lambda root: rewrite(root, "metadata/subject_splits.parquet", fn)


def two_splits(t: pa.Table) -> pa.Table:
    extra = pa.table({"subject_id": pa.array([101], pa.int64()), "split": ["held_out"]})
    return pa.concat_tables([t, extra])


@dataclass
class Case:
    """A bad-input case: how to break the cohort and what the error must name."""

    mutate: Callable[[Path], object]
    file: str | None  # suffix of the file named in the error
    row: int | None
    field: str | None
    text: str  # a substring of the message
    kwargs: dict | None = None


def on(rel: str, fn: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    return lambda root: rewrite(root, rel, fn)


# Case id -> case; rows as laid out in the module docstring.
CASES = {
    "subject_id-string": Case(
        on(S1, lambda t: put("subject_id", t["subject_id"].cast(pa.string()))(t)), S1, None, "subject_id", "type string"
    ),
    "time-string": Case(on(S0, lambda t: put("time", t["time"].cast(pa.string()))(t)), S0, None, "time", "string"),
    "time-int": Case(on(S0, lambda t: put("time", t["time"].cast(pa.int64()))(t)), S0, None, "time", "int64"),
    "time-tz-aware": Case(
        on(S0, lambda t: put("time", t["time"].cast(pa.timestamp("us", "UTC")))(t)), S0, None, "time", "time zone"
    ),
    "numeric_value-string": Case(
        on(S0, lambda t: put("numeric_value", t["numeric_value"].cast(pa.string()))(t)),
        S0,
        None,
        "numeric_value",
        "type string",
    ),
    "code-int": Case(on(S1, put("code", list(range(19)))), S1, None, "code", "int64"),
    "missing-subject_id": Case(on(S0, lambda t: t.drop_columns(["subject_id"])), S0, None, "subject_id", "missing"),
    "missing-time": Case(on(S0, lambda t: t.drop_columns(["time"])), S0, None, "time", "missing"),
    "missing-code": Case(on(S1, lambda t: t.drop_columns(["code"])), S1, None, "code", "missing"),
    "null-subject_id": Case(on(S0, set_at("subject_id", 4, None)), S0, 4, "subject_id", "null subject_id"),
    "null-code": Case(on(S0, set_at("code", 5, None)), S0, 5, "code", "null or empty code"),
    "empty-code": Case(on(S1, set_at("code", 12, "  ")), S1, 12, "code", "null or empty code"),
    "unsorted-times": Case(on(S0, reorder([0, 1, 2, 3, 5, 4, *range(6, 19)])), S0, 5, "time", "earlier"),
    "static-row-after-timed": Case(on(S1, set_at("time", 13, None)), S1, 13, "time", "earlier"),
    "subject-not-contiguous": Case(
        on(S0, reorder([*range(5), *range(10, 19), *range(5, 10)])), S0, 14, "subject_id", "not contiguous"
    ),
    "subject-in-two-shards": Case(duplicate_subject, S1, 19, "subject_id", "two files"),
    "numeric_value-nan": Case(on(S0, set_at("numeric_value", 4, float("nan"))), S0, 4, "numeric_value", "NaN"),
    "numeric_value-inf": Case(on(S1, set_at("numeric_value", 15, float("-inf"))), S1, 15, "numeric_value", "infinite"),
    "numeric_value-float64-overflow": Case(
        on(S0, set_at("numeric_value", 5, 1e39, pa.float64())), S0, 5, "numeric_value", "overflows float32"
    ),
    "empty-cohort": Case(empty_shards, "data", None, None, "empty cohort"),
    "no-shards": Case(lambda r: [(r / p).unlink() for p in (S0, S1)], "data", None, None, "empty cohort"),
    "no-anchor-events": Case(
        lambda r: None, "data", None, "code", "no subject has an anchor", {"anchor_code": "ED_TRIAGE"}
    ),
    "anchor-is-prefix-by-part": Case(
        lambda r: None, "data", None, "code", "no subject has an anchor", {"anchor_code": "ICU_ADM"}
    ),
    "corrupt-parquet": Case(
        lambda r: (r / S1).write_bytes(b"PAR1 this is not parquet PAR1"), S1, None, None, "not a readable parquet"
    ),
    "truncated-parquet": Case(truncate(S0, 300), S0, None, None, "not a readable parquet"),
    "truncated-png": Case(
        truncate("images/101/9001_0.png", 60), S0, 7, "image_path", "'images/101/9001_0.png' cannot be decoded"
    ),
    "truncated-dicom": Case(
        truncate("images/103/9003_0.dcm", 2000), S1, 7, "image_path", "'images/103/9003_0.dcm' cannot be decoded"
    ),
    "missing-image": Case(lambda r: (r / "images/101/9001_0.png").unlink(), S0, 7, "image_path", "does not exist"),
    "image-path-escapes-root": Case(outside_image, S0, 7, "image_path", "escapes the cohort root"),
    "image-path-absolute": Case(absolute_image, S0, 7, "image_path", "is absolute"),
    "text_value-not-utf8": Case(
        on(S0, set_at("text_value", 16, b"Pt \xff\xfe resting", pa.binary())), S0, 16, "text_value", "not valid UTF-8"
    ),
    "text_value-string-not-utf8": Case(on(S1, bad_utf8("text_value", 6)), S1, 6, "text_value", "not valid UTF-8"),
    "code-not-utf8": Case(on(S0, bad_utf8("code", 9)), S0, 9, "code", "not valid UTF-8"),
    "dataset_json-bad-json": Case(
        lambda r: (r / "metadata/dataset.json").write_text('{"dataset_name": '),
        "metadata/dataset.json",
        None,
        None,
        "not valid JSON",
    ),
    "dataset_json-not-object": Case(
        lambda r: (r / "metadata/dataset.json").write_text("[1, 2]"),
        "metadata/dataset.json",
        None,
        None,
        "top-level JSON value is a list",
    ),
    "dataset_json-name-not-string": Case(
        lambda r: edit_json(r, dataset_name=5), "metadata/dataset.json", None, "dataset_name", "is not of type 'string'"
    ),
    "dataset_json-modality-not-list": Case(
        lambda r: edit_json(r, additional_value_modality_columns="image_path"),
        "metadata/dataset.json",
        None,
        "additional_value_modality_columns",
        "is not of type 'array'",
    ),
    "dataset_json-created_at-not-datetime": Case(
        lambda r: edit_json(r, created_at="yesterday"), "metadata/dataset.json", None, "created_at", "not a datetime"
    ),
    "declared-image-column-absent": Case(
        on(S1, lambda t: t.drop_columns(["image_path"])), S1, None, "image_path", "declared in dataset.json"
    ),
    "splits-unknown-name": Case(
        splits(set_at("split", 2, "validation")), "metadata/subject_splits.parquet", 2, "split", "unknown split name"
    ),
    "splits-subject-in-two-splits": Case(
        splits(two_splits), "metadata/subject_splits.parquet", 4, "subject_id", "more than one split"
    ),
    "splits-subject_id-string": Case(
        splits(lambda t: put("subject_id", t["subject_id"].cast(pa.string()))(t)),
        "metadata/subject_splits.parquet",
        None,
        "subject_id",
        "type string",
    ),
    "codes_parquet-null-code": Case(
        lambda r: rewrite(r, "metadata/codes.parquet", set_at("code", 0, None)),
        "metadata/codes.parquet",
        None,
        "code",
        "should have no nulls",
    ),
    "event-before-birth": Case(on(S0, add_early_event), S0, 1, "time", "before the subject's MEDS_BIRTH"),
    "required-task-code-absent": Case(
        lambda r: None,
        None,
        None,
        "required_codes",
        "task 'shock': no code in the data matches any of ['^INFUSION_START//221906$']",
        {"required_codes": {"mortality": ["MEDS_DEATH", "HOSPITAL_DISCHARGE"], "shock": ["^INFUSION_START//221906$"]}},
    ),
    "required-task-code-bad-regex": Case(
        lambda r: None, None, None, "required_codes", "invalid code pattern", {"required_codes": {"arf": ["(("]}}
    ),
    "non-local-uri": Case(lambda r: "s3://bucket/cohort", "s3://bucket/cohort", None, None, "'s3://' is not supported"),
    "root-missing": Case(lambda r: r / "nope", "nope", None, None, "no such directory"),
    "no-data-dir": Case(lambda r: shutil.rmtree(r / "data"), "data", None, None, "no data directory"),
}
