"""Per-batch intermediate results kept between the passes of `fit`: in memory, or in a temporary directory.

With a directory, each batch's long table, derived cells and encoded tables are written once (parquet / npz)
and read back by later passes, so every expensive step runs once per batch and memory holds one batch at a time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import scipy.sparse as sp

from model.features.sparse_io import load_csr, save_csr


class Spill:
    """Store of per-batch values by (kind, batch index).

    Args:
        workdir: Parent of the temporary directory to use, or None to keep everything in memory.
    """

    def __init__(self, workdir: str | Path | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="featurize-spill-", dir=workdir)) if workdir is not None else None
        self.mem: dict[tuple[str, int], Any] = {}

    def put_frames(self, kind: str, i: int, frames: dict[str, pl.DataFrame]) -> None:
        """Store named frames of batch i."""
        if self.dir is None:
            self.mem[(kind, i)] = frames
            return
        for name, f in frames.items():
            f.write_parquet(self.dir / f"{kind}-{i}-{name}.parquet", compression="lz4", statistics=False)

    def get_frames(self, kind: str, i: int, names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
        """Frames stored by `put_frames`."""
        if self.dir is None:
            return self.mem[(kind, i)]
        return {n: pl.read_parquet(self.dir / f"{kind}-{i}-{n}.parquet") for n in names}

    def put_tables(self, kind: str, i: int, tables: dict[str, sp.csr_matrix]) -> None:
        """Store sparse tables of batch i."""
        if self.dir is None:
            self.mem[(kind, i)] = tables
            return
        for name, m in tables.items():
            save_csr(self.dir / f"{kind}-{i}-{name}.npz", m, compressed=False)

    def get_tables(self, kind: str, i: int, names: list[str]) -> dict[str, sp.csr_matrix]:
        """Tables stored by `put_tables`."""
        if self.dir is None:
            return self.mem[(kind, i)]
        return {n: load_csr(self.dir / f"{kind}-{i}-{n}.npz") for n in names}

    def close(self) -> None:
        """Drop everything."""
        self.mem.clear()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
