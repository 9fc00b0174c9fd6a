"""The embedding contract shared with the search engineer: one folder per modality, written atomically.

    out_dir/index.parquet   subject_id int64, prediction_time timestamp[us], present bool (one row per sample,
                            in the order of the samples given)
    out_dir/vectors.npy     float32 [n, d], row-aligned with index.parquet; all-zero rows where present is false
    out_dir/meta.json       model id, dim, pooling/preprocessing settings, counts

Also the sample-table checks and the event selection both modalities share ("latest event inside the feature
window [anchor_time, prediction_time]").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from model.data.meds_reader import open_meds, scan_events
from model.errors import DataValidationError
from model.io_atomic import atomic_dir

SAMPLE_COLUMNS = ("subject_id", "anchor_time", "prediction_time")
INDEX_FILE, VECTORS_FILE, META_FILE = "index.parquet", "vectors.npy", "meta.json"


def check_samples(samples: pl.DataFrame, source: str = "samples") -> pl.DataFrame:
    """Validate a task sample table and return its key columns with a row number `_row`.

    Args:
        samples: At least subject_id, anchor_time, prediction_time (labeling.py's samples/<task>.parquet).
        source: Name used in error messages (the file the table came from).

    Raises:
        DataValidationError: A key column is missing, null, or a window ends before it starts.
    """
    for col in SAMPLE_COLUMNS:
        if col not in samples.columns:
            raise DataValidationError("column missing", file=source, field=col, expected=", ".join(SAMPLE_COLUMNS))
        if samples[col].null_count():
            row = int(samples[col].is_null().arg_max())
            raise DataValidationError("null value", file=source, row=row, field=col)
        if col != "subject_id" and not samples[col].dtype.is_temporal():
            raise DataValidationError(f"has dtype {samples[col].dtype}", file=source, field=col, expected="datetime")
    keys = samples.select(pl.col("subject_id").cast(pl.Int64), pl.col("anchor_time").cast(pl.Datetime("us")),
                          pl.col("prediction_time").cast(pl.Datetime("us"))).with_row_index("_row")
    bad = keys.filter(pl.col("prediction_time") < pl.col("anchor_time"))
    if bad.height:
        raise DataValidationError("prediction_time before anchor_time", file=source, row=int(bad["_row"][0]),
                                  field="prediction_time", expected="anchor_time <= prediction_time")
    return keys


def window_events(meds_dir: str | Path, keys: pl.DataFrame, code_prefix: str, value_col: str) -> pl.DataFrame:
    """Events whose code starts with `code_prefix` inside each sample's window, joined to the sample rows.

    Returns:
        Columns _row, code, time, `value_col` (only non-null values), sorted by _row then time.
    """
    ds = open_meds(meds_dir)
    cols = ["subject_id", "time", "code", value_col]
    if value_col == "image_path" and ds.image_column and ds.image_column != "image_path":
        cols[-1] = ds.image_column  # the dataset declared another image column name
    ev = (scan_events(ds, columns=cols)
          .filter(pl.col("code").str.starts_with(code_prefix) & pl.col(cols[-1]).is_not_null())
          .rename({cols[-1]: value_col})
          .join(keys.lazy(), on="subject_id", how="inner")
          .filter((pl.col("time") >= pl.col("anchor_time")) & (pl.col("time") <= pl.col("prediction_time")))
          .select("_row", "code", "time", value_col)
          .sort("_row", "time", "code"))
    return ev.collect()


def latest_per_row(ev: pl.DataFrame, by_code: bool = False) -> pl.DataFrame:
    """The latest event per sample row (per row and code when `by_code`); ties go to the last in sort order."""
    group = ["_row", "code"] if by_code else ["_row"]
    return ev.group_by(group, maintain_order=True).last()


def write_embeddings(out_dir: str | Path, keys: pl.DataFrame, present: np.ndarray, vectors: np.ndarray,
                     meta: dict[str, Any], *, overwrite: bool = True) -> dict[str, Any]:
    """Write index.parquet, vectors.npy and meta.json atomically (the folder appears whole or not at all).

    Returns:
        The meta dict as written (with n, n_present and dim filled in).
    """
    n = keys.height
    if vectors.shape[0] != n or present.shape != (n,):
        raise ValueError(f"vectors {vectors.shape} / present {present.shape} do not match {n} samples")
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors[~present] = 0.0  # the contract: absent rows are exact zeros
    meta = {**meta, "n": n, "n_present": int(present.sum()), "dim": int(vectors.shape[1]), "format_version": 1}
    index = pl.DataFrame({"subject_id": keys["subject_id"], "prediction_time": keys["prediction_time"],
                          "present": pl.Series(present.astype(bool))})
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        index.write_parquet(tmp / INDEX_FILE)
        np.save(tmp / VECTORS_FILE, vectors)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def read_embeddings(out_dir: str | Path) -> tuple[pl.DataFrame, np.ndarray, dict[str, Any]]:
    """Read a folder written by `write_embeddings`, checking that index and vectors agree.

    Raises:
        DataValidationError: A file is missing or the row counts disagree (names the file).
    """
    out_dir = Path(out_dir)
    for name in (INDEX_FILE, VECTORS_FILE, META_FILE):
        if not (out_dir / name).exists():
            raise DataValidationError("file missing", file=str(out_dir / name))
    index = pl.read_parquet(out_dir / INDEX_FILE)
    vectors = np.load(out_dir / VECTORS_FILE, allow_pickle=False)
    meta = json.loads((out_dir / META_FILE).read_text())
    if vectors.ndim != 2 or vectors.shape[0] != index.height:
        raise DataValidationError(f"shape {vectors.shape} does not match {index.height} index rows",
                                  file=str(out_dir / VECTORS_FILE))
    return index, vectors, meta
