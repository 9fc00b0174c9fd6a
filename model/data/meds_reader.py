"""Open a MEDS cohort on disk and read its events lazily, shard by shard.

The layout is described in docs/data-conventions.md. Nothing here loads the whole cohort: `scan_events` builds a lazy
polars query over every shard and `iter_shards` yields one shard at a time, so 100 million events stay cheap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import polars as pl

from model.errors import DataValidationError

logger = logging.getLogger(__name__)

DATA_DIR = "data"
DATASET_JSON = "metadata/dataset.json"
CODES_PARQUET = "metadata/codes.parquet"
SPLITS_PARQUET = "metadata/subject_splits.parquet"
DEFAULT_IMAGE_COLUMN = "image_path"

# Canonical polars dtypes of the MEDS core columns (docs/data-conventions.md).
CORE_DTYPES: dict[str, pl.DataType] = {
    "subject_id": pl.Int64(),
    "time": pl.Datetime("us"),
    "code": pl.String(),
    "numeric_value": pl.Float32(),
    "text_value": pl.String(),
}
REQUIRED_COLUMNS = ("subject_id", "time", "code")


@dataclass(frozen=True)
class MedsDataset:
    """A MEDS cohort found on local disk.

    Attributes:
        root: The cohort root directory.
        shard_paths: Every `*.parquet` file under `root/data`, recursively, sorted.
        metadata: The parsed `metadata/dataset.json`, or `{}` when the file is absent.
        image_column: The event column holding image paths (declared in `additional_value_modality_columns`), or None.
        has_codes: Whether `metadata/codes.parquet` exists.
        has_splits: Whether `metadata/subject_splits.parquet` exists.
    """

    root: Path
    shard_paths: tuple[Path, ...]
    metadata: dict[str, Any] = field(default_factory=dict, hash=False)
    image_column: str | None = None
    has_codes: bool = False
    has_splits: bool = False


def local_path(uri: str | Path) -> Path:
    """Turn a path or `file://` URI into a local Path; other URI schemes are not supported yet.

    Args:
        uri: A local path, or a URI.

    Returns:
        The local path (not checked for existence).

    Raises:
        DataValidationError: `uri` uses a remote scheme (s3://, gs://, https://, ...).
    """
    text = str(uri)
    parsed = urlparse(text)
    # A one-letter scheme is a Windows drive letter, not a URI.
    if parsed.scheme and len(parsed.scheme) > 1:
        if parsed.scheme != "file":
            raise DataValidationError(
                f"URI scheme '{parsed.scheme}://' is not supported yet (remote stores come in a later release)",
                file=text,
                expected="a local path or a file:// URI",
            )
        text = parsed.path
    return Path(text)


def resolve_local_root(root: str | Path) -> Path:
    """Resolve a cohort root given as a path or `file://` URI to an existing local directory.

    Args:
        root: A local path, or a URI.

    Returns:
        The local directory path.

    Raises:
        DataValidationError: `root` uses a remote scheme or is not an existing directory.
    """
    path = local_path(root)
    if not path.is_dir():
        raise DataValidationError("no such directory", file=str(path), expected="a MEDS root directory")
    return path


def read_dataset_json(path: Path) -> dict[str, Any]:
    """Parse `metadata/dataset.json`; an absent file gives `{}`.

    Args:
        path: Path of the dataset.json file.

    Returns:
        The JSON object as a dict.

    Raises:
        DataValidationError: The file is not valid JSON or not a JSON object.
    """
    if not path.exists():
        return {}
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataValidationError("not valid UTF-8", file=str(path), expected="a UTF-8 JSON file") from exc
    except json.JSONDecodeError as exc:
        raise DataValidationError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            file=str(path),
            expected="a JSON object",
        ) from exc
    if not isinstance(obj, dict):
        raise DataValidationError(
            f"top-level JSON value is a {type(obj).__name__}", file=str(path), expected="a JSON object"
        )
    return obj


def image_column_of(metadata: dict[str, Any]) -> str | None:
    """Pick the image-path column among the declared additional value modality columns.

    Args:
        metadata: The parsed dataset.json.

    Returns:
        "image_path" when declared, else the first declared column, else None.
    """
    cols = metadata.get("additional_value_modality_columns")
    if not isinstance(cols, list) or not cols:
        return None
    return DEFAULT_IMAGE_COLUMN if DEFAULT_IMAGE_COLUMN in cols else str(cols[0])


def open_meds(root: str | Path) -> MedsDataset:
    """Find the shards and metadata of a MEDS cohort without reading any events.

    Args:
        root: The cohort root: a local path or a file:// URI.

    Returns:
        The dataset handle.

    Raises:
        DataValidationError: Unsupported URI scheme, missing root or data directory, or unparsable dataset.json.
    """
    path = resolve_local_root(root)
    data_dir = path / DATA_DIR
    if not data_dir.is_dir():
        raise DataValidationError("no data directory", file=str(data_dir), expected="data/<shard>.parquet files")
    shards = tuple(sorted(p for p in data_dir.rglob("*.parquet") if p.is_file()))
    metadata = read_dataset_json(path / DATASET_JSON)
    return MedsDataset(
        root=path,
        shard_paths=shards,
        metadata=metadata,
        image_column=image_column_of(metadata),
        has_codes=(path / CODES_PARQUET).is_file(),
        has_splits=(path / SPLITS_PARQUET).is_file(),
    )


def _canonical_exprs(path: Path, schema: pl.Schema, columns: Sequence[str] | None) -> list[pl.Expr]:
    """Select expressions casting a shard's core columns to the canonical dtypes (absent optional ones as nulls)."""
    exprs: list[pl.Expr] = []
    names = list(columns) if columns is not None else [*CORE_DTYPES, *(c for c in schema if c not in CORE_DTYPES)]
    for name in names:
        dtype = CORE_DTYPES.get(name)
        if name not in schema:
            if name in REQUIRED_COLUMNS:
                raise DataValidationError("column is missing", file=str(path), field=name)
            # Absent optional or extra columns read as nulls, so shards with different extras still line up.
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif dtype is not None and schema[name] != dtype:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.col(name))
    return exprs


def scan_events(ds: MedsDataset, columns: Sequence[str] | None = None) -> pl.LazyFrame:
    """Lazily scan the events of every shard, in shard order, with canonical dtypes.

    Meant for validated cohorts: a shard whose values cannot be cast fails when the query is collected.

    Args:
        ds: The dataset handle from `open_meds`.
        columns: Columns to keep; default all (core columns first, then the extra columns of each shard).

    Returns:
        A LazyFrame over all events (shards with different extra columns are aligned, missing values null).
    """
    if not ds.shard_paths:
        return pl.LazyFrame(schema={k: v for k, v in CORE_DTYPES.items() if columns is None or k in columns})
    schemas = [pl.read_parquet_schema(p) for p in ds.shard_paths]
    if all(s == schemas[0] for s in schemas):
        # One multi-file scan lets polars plan (and stream) the whole cohort at once.
        return pl.scan_parquet(list(ds.shard_paths)).select(_canonical_exprs(ds.shard_paths[0], schemas[0], columns))
    frames = [pl.scan_parquet(p).select(_canonical_exprs(p, s, columns)) for p, s in zip(ds.shard_paths, schemas)]
    return pl.concat(frames, how="diagonal_relaxed")


def iter_shards(ds: MedsDataset, columns: Sequence[str] | None = None) -> Iterator[tuple[Path, pl.DataFrame]]:
    """Yield each shard's events, one shard in memory at a time.

    Args:
        ds: The dataset handle from `open_meds`.
        columns: Columns to keep; default all.

    Yields:
        (shard path, its events with canonical dtypes).
    """
    for path in ds.shard_paths:
        logger.debug("reading shard %s", path)
        exprs = _canonical_exprs(path, pl.read_parquet_schema(path), columns)
        yield path, pl.scan_parquet(path).select(exprs).collect()
