"""Writers used by ingestion: canonical MEDS shards, linked copies of files, codes metadata, file hashes."""

from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from model.io_atomic import sha256_file

# The canonical MEDS event schema we write (docs/data-conventions.md); extra columns follow, kept as they are.
CANONICAL_FIELDS = [
    pa.field("subject_id", pa.int64()),
    pa.field("time", pa.timestamp("us")),
    pa.field("code", pa.string()),
    pa.field("numeric_value", pa.float32()),
    pa.field("text_value", pa.large_string()),
]
CODES_SCHEMA = pa.schema([("code", pa.string()), ("description", pa.string()), ("parent_codes", pa.list_(pa.string()))])
BATCH_ROWS = 1 << 16


def _target_schema(src: pa.Schema, image_column: str | None) -> pa.Schema:
    core = {f.name for f in CANONICAL_FIELDS}
    extras = []
    for f in src:
        if f.name in core:
            continue
        # Image paths are plain strings; other extra columns keep their source type.
        extras.append(pa.field(f.name, pa.string()) if f.name == image_column else f)
    return pa.schema(CANONICAL_FIELDS + extras)


def _cast_batch(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """Cast one batch to the target schema; optional core columns that are absent become nulls."""
    arrays = []
    for f in target:
        if f.name in batch.schema.names:
            # safe=False: sub-microsecond truncation and float64->float32 narrowing are intended (validated first).
            arrays.append(batch.column(f.name).cast(f.type, safe=False))
        else:
            arrays.append(pa.nulls(batch.num_rows, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def write_canonical_shard(src: Path, dst: Path, image_column: str | None) -> int:
    """Rewrite one validated shard with the canonical MEDS schema, streaming batch by batch.

    Args:
        src: The source shard.
        dst: Where to write it.
        image_column: The image-path column (written as string), or None.

    Returns:
        Rows written.
    """
    pf = pq.ParquetFile(src)
    target = _target_schema(pf.schema_arrow, image_column)
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with pq.ParquetWriter(dst, target, compression="zstd") as writer:
        for batch in pf.iter_batches(batch_size=BATCH_ROWS):
            writer.write_batch(_cast_batch(batch, target))
            n += batch.num_rows
        if n == 0:
            writer.write_table(target.empty_table())
    return n


def link_or_copy(src: str | Path, dst: str | Path) -> str:
    """Hard-link src to dst when the filesystem allows it, else copy; an existing dst is left alone.

    Args:
        src: Source file.
        dst: Destination file.

    Returns:
        The destination path (the signature `shutil.copytree` expects of a copy function).
    """
    dst = Path(dst)
    if dst.exists():
        return str(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # cross-device, or a filesystem without hard links
        shutil.copy2(src, dst)
    return str(dst)


def copy_images(root: Path, out: Path, image_paths: list[str]) -> None:
    """Link or copy each referenced image (already checked to lie inside root) to the same relative path."""
    for rel in image_paths:
        norm = posixpath.normpath(rel.replace("\\", "/"))
        link_or_copy(root / norm, out / norm)


def copy_other_folders(root: Path, out: Path, skip: tuple[str, ...] = ("data", "metadata")) -> list[str]:
    """Copy the remaining visible top-level folders of a cohort (images/, oracle/, ...) with hard links.

    Returns:
        The folder names copied.
    """
    copied = []
    for entry in sorted(root.iterdir()):
        if entry.name in skip or entry.name.startswith(".") or not entry.is_dir():
            continue
        shutil.copytree(entry, out / entry.name, copy_function=link_or_copy, dirs_exist_ok=True)
        copied.append(entry.name)
    return copied


def copy_metadata(root: Path, out: Path, data_glob: str) -> bool:
    """Copy metadata/ and build codes.parquet from the written data's distinct codes when it is absent.

    Args:
        root: The source cohort root.
        out: The output root.
        data_glob: Glob of the written shards, for the distinct codes.

    Returns:
        Whether codes.parquet was built here.
    """
    src, dst = root / "metadata", out / "metadata"
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    dst.mkdir(parents=True, exist_ok=True)
    if (dst / "codes.parquet").exists():
        return False
    codes = pl.scan_parquet(data_glob).select(pl.col("code").unique()).collect().sort("code")["code"].to_list()
    n = len(codes)
    table = pa.table({"code": codes, "description": [None] * n, "parent_codes": [None] * n}, schema=CODES_SCHEMA)
    pq.write_table(table, dst / "codes.parquet")
    return True


def hash_tree(root: Path, exclude: tuple[str, ...] = ("manifest.json",)) -> dict[str, str]:
    """SHA-256 of every file under root, keyed by POSIX relative path (top-level `exclude` names skipped)."""
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() not in exclude
    }
