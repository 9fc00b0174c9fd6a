"""Checks for the metadata/ files of a MEDS cohort: dataset.json, codes.parquet, subject_splits.parquet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import meds
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from flexible_schema.exceptions import SchemaValidationError, TableValidationError

from model.errors import DataValidationError

VALID_SPLITS = (meds.train_split, meds.tuning_split, meds.held_out_split)


def check_dataset_json(metadata: dict[str, Any], path: Path) -> None:
    """Check a parsed dataset.json against meds.DatasetMetadataSchema.

    Args:
        metadata: The parsed JSON object.
        path: Where it came from (for messages).

    Raises:
        DataValidationError: A field has the wrong JSON type, or `created_at` is not an ISO 8601 datetime.
    """
    try:
        meds.DatasetMetadataSchema.validate(metadata)
    except (SchemaValidationError, TableValidationError) as exc:
        # flexible_schema wraps the jsonschema error; its cause knows the field path.
        cause = exc.__cause__
        field = ".".join(str(p) for p in getattr(cause, "absolute_path", [])) or None
        detail = getattr(cause, "message", None) or str(exc)
        want = meds.DatasetMetadataSchema.schema()["properties"].get((field or "").split(".")[0])
        raise DataValidationError(detail, file=str(path), field=field, expected=str(want) if want else None) from exc
    created = metadata.get("created_at")
    if created is not None:
        try:
            datetime.fromisoformat(created)
        except ValueError as exc:
            raise DataValidationError(
                "not a datetime", file=str(path), field="created_at", expected="an ISO 8601 datetime string"
            ) from exc
    for key in ("additional_value_modality_columns", "code_modifier_columns", "raw_source_id_columns"):
        cols = metadata.get(key) or []
        if any(not c for c in cols):
            raise DataValidationError("empty column name", file=str(path), field=key, expected="column names")


def _is_stringish(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t) or pa.types.is_null(t)


def _read_table(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataValidationError(
            f"not a readable parquet file ({type(exc).__name__})", file=str(path), expected="a parquet file"
        ) from exc


def _align(schema: type, table: pa.Table, path: Path) -> pa.Table:
    """Cast a table to a meds PyArrow schema and validate it, turning meds' errors into DataValidationError."""
    try:
        table = schema.align(table)
        schema.validate(table)
    except (SchemaValidationError, TableValidationError) as exc:
        cols = [
            *(getattr(exc, "missing_req_cols", None) or []),
            *(c for c, *_ in getattr(exc, "mistyped_cols", None) or []),
            *(getattr(exc, "disallowed_extra_cols", None) or []),
            *(getattr(exc, "nullability_none_err_cols", None) or []),
        ]
        raise DataValidationError(
            str(exc), file=str(path), field=cols[0] if cols else None, expected=f"meds.{schema.__name__}"
        ) from exc
    return table


def check_codes_parquet(path: Path) -> pl.DataFrame:
    """Check metadata/codes.parquet against meds.CodeMetadataSchema.

    Args:
        path: The codes.parquet path.

    Returns:
        The distinct codes listed (one column, `code`).

    Raises:
        DataValidationError: Unreadable file, `code` missing, null or not a string, or a mistyped optional column.
    """
    table = _read_table(path)
    for name in ("code", "description"):
        if name in table.column_names and not _is_stringish(table.schema.field(name).type):
            raise DataValidationError(
                f"column has type {table.schema.field(name).type}", file=str(path), field=name, expected="string"
            )
    table = _align(meds.CodeMetadataSchema, table, path)
    return pl.from_arrow(table.select(["code"])).unique()  # type: ignore[return-value]


def check_subject_splits(path: Path) -> pl.DataFrame:
    """Check metadata/subject_splits.parquet: meds.SubjectSplitSchema, known split names, one split per subject.

    Args:
        path: The subject_splits.parquet path.

    Returns:
        The distinct (subject_id, split) pairs.

    Raises:
        DataValidationError: Schema violation, a split outside train/tuning/held_out, or a subject in two splits
            (naming the 0-based row of the offending entry; the subject id itself is never printed).
    """
    table = _read_table(path)
    if "subject_id" in table.column_names and not pa.types.is_integer(table.schema.field("subject_id").type):
        raise DataValidationError(
            f"column has type {table.schema.field('subject_id').type}",
            file=str(path),
            field="subject_id",
            expected="int64",
        )
    if "split" in table.column_names and not _is_stringish(table.schema.field("split").type):
        raise DataValidationError(
            f"column has type {table.schema.field('split').type}", file=str(path), field="split", expected="string"
        )
    table = _align(meds.SubjectSplitSchema, table, path)
    df = pl.from_arrow(table).with_row_index("_row")  # type: ignore[union-attr]
    bad = df.filter(~pl.col("split").is_in(VALID_SPLITS)).head(1)
    if bad.height:
        raise DataValidationError(
            "unknown split name",
            file=str(path),
            row=int(bad["_row"][0]),
            field="split",
            expected=" / ".join(VALID_SPLITS),
        )
    pairs = df.unique(subset=["subject_id", "split"], keep="first", maintain_order=True)
    # The first row that repeats a subject already given another split.
    dup = pairs.filter(~pl.col("subject_id").is_first_distinct()).head(1)
    if dup.height:
        raise DataValidationError(
            "subject is assigned to more than one split",
            file=str(path),
            row=int(dup["_row"][0]),
            field="subject_id",
            expected="each subject in exactly one split",
        )
    return pairs.select("subject_id", "split")
