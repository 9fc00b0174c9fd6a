"""The on-disk feature layout (see README.md in this package) and a lazy reader for model code.

Each table (p: static, M: interval events, E: point events; or S / X) is stored per shard as a scipy CSR
matrix; temporal tables have one row per (sample, bin), sample-major, so the rows of a mini-batch of samples are
a few contiguous slices. Nothing is densified except the mini-batch asked for.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from model.errors import DataValidationError
from model.features.fitted import FittedFeaturizer
from model.features.sparse_io import load_csr, save_csr
from model.io_atomic import sha256_file, write_json

FORMAT = "autofm-features"
VERSION = 1


class FeatureStoreWriter:
    """Writes shards into a (temporary) directory; `finish` adds the manifest.

    Args:
        root: Directory to write into (normally the temporary directory of `atomic_dir`).
        fitted: The featurizer the features come from.
    """

    def __init__(self, root: Path, fitted: FittedFeaturizer) -> None:
        self.root, self.fitted = root, fitted
        self.shards: list[dict[str, Any]] = []
        self.samples: list[pl.DataFrame] = []
        self.n = 0

    def add(self, samples: pl.DataFrame, tables: dict[str, sp.csr_matrix]) -> None:
        """Add one shard: its samples (in row order) and their feature tables."""
        name = f"{len(self.shards):05d}"
        (self.root / "shards" / name).mkdir(parents=True)
        for table, m in tables.items():  # float32 values, uncompressed: written and read at disk speed
            save_csr(self.root / "shards" / name / f"{table}.npz", m.astype(np.float32), compressed=False)
        self.shards.append({"name": name, "start": self.n, "n": samples.height})
        self.samples.append(samples.with_columns(row=pl.arange(self.n, self.n + samples.height, dtype=pl.UInt32)))
        self.n += samples.height

    def finish(self, report: dict[str, Any]) -> dict[str, Any]:
        """Write samples.parquet, feature_names.json, featurizer.json and manifest.json; return the manifest."""
        f = self.fitted
        samples = pl.concat(self.samples) if self.samples else pl.DataFrame(schema={"row": pl.UInt32})
        samples.write_parquet(self.root / "samples.parquet")
        write_json(self.root / "feature_names.json", {k: t.names for k, t in f.tables.items()})
        digest = f.save(self.root / "featurizer.json")
        files = {str(p.relative_to(self.root)): sha256_file(p) for p in sorted(self.root.rglob("*")) if p.is_file()}
        manifest = {
            "format": FORMAT, "version": VERSION, "T": f.config.T, "dt": f.config.dt, "L": f.config.L,
            "n_samples": self.n, "featurizer_sha256": digest, "shards": self.shards,
            "tables": {k: {"temporal": t.temporal, "n_features": len(t.keep)} for k, t in f.tables.items()},
            "report": report, "files": files,
        }
        write_json(self.root / "manifest.json", manifest)
        return manifest


class FeatureStore:
    """Lazy reader of a feature directory.

    Args:
        root: The directory written by `transform_meds`.
        cache_shards: How many shards to keep loaded.
    """

    def __init__(self, root: str | Path, cache_shards: int = 2) -> None:
        self.root = Path(root)
        path = self.root / "manifest.json"
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataValidationError(f"cannot read feature manifest: {exc}", file=str(path),
                                      expected="a directory written by transform_meds") from None
        if self.manifest.get("format") != FORMAT or self.manifest.get("version") != VERSION:
            raise DataValidationError("not a feature directory of this version", file=str(path), field="format",
                                      expected=f"{FORMAT} version {VERSION}")
        self.names: dict[str, list[str]] = json.loads((self.root / "feature_names.json").read_text())
        self.L: int = int(self.manifest["L"])
        self.n: int = int(self.manifest["n_samples"])
        self.tables: dict[str, dict[str, Any]] = self.manifest["tables"]
        self._starts = np.array([s["start"] for s in self.manifest["shards"]] + [self.n], dtype=np.int64)
        self._cache: OrderedDict[tuple[int, str], sp.csr_matrix] = OrderedDict()
        self._cache_size = cache_shards

    @property
    def samples(self) -> pl.DataFrame:
        """Which sample each row is (row, sample_index, subject_id, prediction_time, anchor_time)."""
        return pl.read_parquet(self.root / "samples.parquet")

    def __len__(self) -> int:
        return self.n

    def _shard(self, i: int, table: str) -> sp.csr_matrix:
        key = (i, table)
        if key not in self._cache:
            name = self.manifest["shards"][i]["name"]
            self._cache[key] = load_csr(self.root / "shards" / name / f"{table}.npz")
            while len(self._cache) > self._cache_size * max(1, len(self.tables)):
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def rows(self, table: str, index: np.ndarray) -> sp.csr_matrix:
        """CSR rows of samples `index` (output rows): (b, d), or (b * L, d) sample-major for temporal tables."""
        index = np.asarray(index, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= self.n):
            raise IndexError(f"sample rows must be in [0, {self.n})")
        per = self.L if self.tables[table]["temporal"] else 1
        shard = np.searchsorted(self._starts, index, side="right") - 1
        parts = []
        for s, local in zip(shard, index - self._starts[shard]):
            parts.append(self._shard(int(s), table)[int(local) * per:(int(local) + 1) * per])
        if not parts:
            return sp.csr_matrix((0, len(self.names[table])), dtype=np.float32)
        return sp.vstack(parts, format="csr")

    def dense(self, table: str, index: np.ndarray) -> np.ndarray:
        """Dense float32 mini-batch: (b, L, d) for temporal tables, (b, d) for the static one."""
        m = self.rows(table, index).toarray().astype(np.float32, copy=False)
        if self.tables[table]["temporal"]:
            return m.reshape(len(index), self.L, -1)
        return m
