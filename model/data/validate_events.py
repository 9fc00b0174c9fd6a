"""Per-shard checks of MEDS event files: column types, row rules and the counts the cohort report needs.

Each shard is read once, lazily and column-projected, so memory stays bounded by one shard. Messages name the file,
the 0-based row and the field, never a subject id or a text value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import meds
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from model.errors import DataValidationError

F32_MAX = float(np.finfo(np.float32).max)
ROW = "_row"


@dataclass
class ShardStats:
    """What one shard contributes to the cohort report.

    Attributes:
        n_events: Number of rows.
        subjects: One row per subject: subject_id, first_row (0-based), n_anchor (anchor events).
        code_counts: One row per code: code, n.
        images: Rows with an image path: _row, image_path.
    """

    n_events: int
    subjects: pl.DataFrame
    code_counts: pl.DataFrame
    images: pl.DataFrame


def _stringish(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _stringish(t.value_type)
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def is_binaryish(t: pa.DataType) -> bool:
    """Whether an arrow type holds raw bytes (binary, large_binary, binary_view)."""
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)


def read_shard_schema(path: Path) -> pa.Schema:
    """Read a shard's parquet schema, turning a corrupt or unreadable file into a DataValidationError."""
    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataValidationError(
            f"not a readable parquet file ({type(exc).__name__})", file=str(path), expected="a parquet file"
        ) from exc


def check_shard_schema(path: Path, schema: pa.Schema, image_column: str | None) -> None:
    """Check that the MEDS columns are present with acceptable types.

    Accepted: subject_id any integer; time a time-zone-naive timestamp of any unit (or all-null); code a string;
    numeric_value a float or integer (float64 is narrowed to float32 later); text_value a string, or binary that must
    hold UTF-8; the image column a string.

    Args:
        path: The shard file.
        schema: Its parquet schema.
        image_column: The declared image-path column, which must exist, or None.

    Raises:
        DataValidationError: A required column is missing or a column has an unusable type.
    """
    names = set(schema.names)
    for name in ("subject_id", "time", "code", *([image_column] if image_column else [])):
        if name not in names:
            declared = " (declared in dataset.json additional_value_modality_columns)" if name == image_column else ""
            raise DataValidationError(f"column is missing{declared}", file=str(path), field=name)

    def bad(name: str, expected: str) -> DataValidationError:
        return DataValidationError(
            f"column has type {schema.field(name).type}", file=str(path), field=name, expected=expected
        )

    types = {f.name: f.type for f in schema}
    if not pa.types.is_integer(types["subject_id"]):
        raise bad("subject_id", "an integer type (int64)")
    t = types["time"]
    if not (pa.types.is_timestamp(t) or pa.types.is_null(t)):
        raise bad("time", "a timestamp (timestamp[us]), not strings or integers")
    if pa.types.is_timestamp(t) and t.tz is not None:
        raise bad("time", "a timestamp without time zone (timestamp[us])")
    if not _stringish(types["code"]):
        raise bad("code", "a string")
    nv = types.get("numeric_value")
    if nv is not None and not (pa.types.is_floating(nv) or pa.types.is_integer(nv) or pa.types.is_null(nv)):
        raise bad("numeric_value", "a float (float32)")
    tv = types.get("text_value")
    if tv is not None and not (_stringish(tv) or is_binaryish(tv) or pa.types.is_null(tv)):
        raise bad("text_value", "a string (large_string)")
    if image_column and not (_stringish(types[image_column]) or pa.types.is_null(types[image_column])):
        raise bad(image_column, "a string path relative to the cohort root")


def _first_invalid_utf8(arr: pa.Array, offset: int) -> int | None:
    """0-based index of the first value that is not valid UTF-8, by bisection over vectorised casts."""
    try:
        arr.cast(pa.large_string() if pa.types.is_large_binary(arr.type) else pa.string())
        return None
    except pa.ArrowInvalid:
        if len(arr) == 1:
            return offset
    mid = len(arr) // 2
    left = _first_invalid_utf8(arr.slice(0, mid), offset)
    return left if left is not None else _first_invalid_utf8(arr.slice(mid), offset + mid)


def _as_bytes(arr: pa.Array) -> pa.Array:
    """Reinterpret a string array as binary (zero-copy) so a cast back to string re-validates its UTF-8."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_string(arr.type):
        return arr.view(pa.binary())
    if pa.types.is_large_string(arr.type):
        return arr.view(pa.large_binary())
    return arr


def check_utf8(path: Path, columns: list[str]) -> None:
    """Check that text columns (string or binary typed) hold valid UTF-8, streaming batch by batch.

    Parquet readers differ here: pyarrow passes invalid bytes in a string column through, polars refuses the file.

    Args:
        path: The shard file.
        columns: Columns to check.

    Raises:
        DataValidationError: Naming the first row whose bytes are not UTF-8.
    """
    if not columns:
        return
    offset = 0
    for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=1 << 16):
        for name in columns:
            arr = _as_bytes(batch.column(name))
            if pa.types.is_string_view(arr.type) or pa.types.is_null(arr.type):
                continue
            row = _first_invalid_utf8(arr, offset)
            if row is not None:
                raise DataValidationError(
                    "value is not valid UTF-8", file=str(path), row=row, field=name, expected="UTF-8 text"
                )
        offset += batch.num_rows


def _row_rules() -> list[tuple[str, str, str, str, pl.Expr]]:
    """(key, field, message, expected, condition) per row rule; a row where the condition holds breaks the rule."""
    s, t, code, nv = pl.col("subject_id"), pl.col("time"), pl.col("code"), pl.col("numeric_value")
    # Shift-based helpers are columns added beforehand (see `_with_neighbours`): a shift inside `.over()` would
    # look at the previous row of the same subject, not of the file.
    same, new_run, prev_t = pl.col("_same"), pl.col("_new_run"), pl.col("_prev_time")
    birth = t.filter(code == meds.birth_code).min().over(s)
    return [
        ("null_subject", "subject_id", "null subject_id", "an integer", s.is_null()),
        (
            "empty_code",
            "code",
            "null or empty code",
            "a non-empty string",
            code.is_null() | (code.str.strip_chars().str.len_bytes() == 0),
        ),
        ("nan", "numeric_value", "NaN numeric_value", "a finite float or null", nv.is_nan()),
        ("inf", "numeric_value", "infinite numeric_value", "a finite float or null", nv.is_infinite()),
        (
            "f32",
            "numeric_value",
            "numeric_value overflows float32",
            "|x| <= 3.4e38",
            nv.is_finite() & (nv.abs() > F32_MAX),
        ),
        (
            "contiguous",
            "subject_id",
            "subject is not contiguous: the subject already appeared earlier in the shard",
            "each subject's rows contiguous",
            new_run & (new_run.cast(pl.UInt32).cum_sum().over(s) > 1),
        ),
        (
            "sorted",
            "time",
            "time is earlier than the previous row of the same subject",
            "rows sorted by time within each subject, null times first",
            same & ((t.is_null() & prev_t.is_not_null()) | (t < prev_t)),
        ),
        (
            "birth",
            "time",
            f"event time is before the subject's {meds.birth_code} event",
            f"no event before {meds.birth_code}",
            t.is_not_null() & (t < birth),
        ),
    ]


def _with_neighbours(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add file-order neighbour columns: same subject as the previous row, start of a run, previous time."""
    s = pl.col("subject_id")
    return lf.with_columns(
        _same=s == s.shift(1),
        _new_run=(s != s.shift(1)).fill_null(True),
        _prev_time=pl.col("time").shift(1),
    )


def scan_shard_rows(path: Path, schema: pa.Schema, anchor_code: str, image_column: str | None) -> ShardStats:
    """Check the row rules of one shard and gather its counts, in one lazy pass.

    Args:
        path: The shard file.
        schema: Its parquet schema (already checked by `check_shard_schema`).
        anchor_code: Code prefix of anchor events ("X" matches "X" and "X//...").
        image_column: The image-path column, or None.

    Returns:
        The shard's statistics.

    Raises:
        DataValidationError: The first broken rule, naming the file, row and field.
    """
    names = set(schema.names)
    cols = [
        pl.col(ROW),
        pl.col("subject_id").cast(pl.Int64),
        pl.col("time").cast(pl.Datetime("us")),
        pl.col("code").cast(pl.String),
        (pl.col("numeric_value").cast(pl.Float64) if "numeric_value" in names else pl.lit(None, pl.Float64)).alias(
            "numeric_value"
        ),
        (pl.col(image_column).cast(pl.String) if image_column else pl.lit(None, pl.String)).alias("image_path"),
    ]
    lf = _with_neighbours(pl.scan_parquet(path).with_row_index(ROW).select(cols))
    rules = _row_rules()
    code = pl.col("code")
    is_anchor = (code == anchor_code) | code.str.starts_with(anchor_code + "//")
    queries = [
        lf.select(pl.len().alias("n"), *[pl.col(ROW).filter(c).first().alias(k) for k, _, _, _, c in rules]),
        lf.group_by("subject_id").agg(pl.col(ROW).min().alias("first_row"), is_anchor.sum().alias("n_anchor")),
        lf.group_by("code").agg(pl.len().alias("n")),
        lf.filter(pl.col("image_path").is_not_null()).select(ROW, "image_path"),
    ]
    try:
        found, subjects, codes, images = pl.collect_all(queries)
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        # The polars message can quote values (subject ids), so only its type is shown.
        raise DataValidationError(
            f"could not read or cast the shard's rows ({type(exc).__name__})",
            file=str(path),
            expected="parquet data matching the MEDS column types",
        ) from exc
    for key, field, message, expected, _ in rules:
        row = found[key][0]
        if row is not None:
            raise DataValidationError(message, file=str(path), row=int(row), field=field, expected=expected)
    return ShardStats(int(found["n"][0]), subjects, codes, images)
