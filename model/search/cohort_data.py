"""Batches for AutoFM from a feature store, a task's labelled samples and optional note / X-ray embeddings.

Tables of the store (``model/features/README.md``): ``M`` (interval events, the paper's continuous events),
``E`` (point events, discrete) are sparse ``[n * L, d]`` CSR, sample-major; ``p`` (demographics) is ``[n, d]``.
A mini-batch reads only its own CSR rows and hands them to the model as ``SparseSequence`` bags (one bag per
(sample, bin)), so nothing wider than the batch is ever densified.

Embedding folders (written by the embedding step): ``<dir>/index.parquet`` (subject_id, prediction_time,
present: bool) and ``<dir>/vectors.npy`` float32 ``[n, d]`` row-aligned with the index. A labelled sample with
no index row, or ``present == False``, has the modality absent in the presence mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import torch

from model.errors import DataValidationError
from model.features.store import FeatureStore
from model.search.batch import MultimodalBatch, SparseSequence
from model.search.spec import ModalitySpec

KEYS = ("subject_id", "prediction_time")
TABLE_MODALITY = {"M": "events_cont", "E": "events_disc", "p": "demographics"}


@dataclass
class EmbeddingTable:
    """One embedding modality aligned to the labelled samples: ``row[i]`` into ``vectors`` or -1 (absent)."""

    vectors: np.ndarray
    row: np.ndarray


def _join_rows(samples: pl.DataFrame, index: pl.DataFrame, name: str) -> np.ndarray:
    """Row of ``index`` for each sample (-1 where missing), matched on (subject_id, prediction_time)."""
    missing = [k for k in KEYS if k not in index.columns]
    if missing:
        raise DataValidationError(f"missing columns {missing}", file=name, expected=f"columns {list(KEYS)}")
    idx = index.select(*KEYS).with_row_index("_r").with_columns(pl.col("prediction_time").cast(pl.Datetime("us")))
    if idx.select(*KEYS).is_duplicated().any():
        raise DataValidationError("duplicate (subject_id, prediction_time) rows", file=name)
    left = samples.select(*KEYS).with_columns(pl.col("prediction_time").cast(pl.Datetime("us")))
    joined = left.join(idx, on=list(KEYS), how="left", maintain_order="left")
    return joined["_r"].fill_null(-1).to_numpy().astype(np.int64)


def load_embeddings(directory: str | Path, samples: pl.DataFrame) -> EmbeddingTable:
    """Read one embedding folder and align it to ``samples`` (vectors memory-mapped, not copied).

    Raises:
        DataValidationError: Missing files, or vectors not row-aligned with the index.
    """
    directory = Path(directory)
    try:
        index = pl.read_parquet(directory / "index.parquet")
        vectors = np.load(directory / "vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataValidationError(f"cannot read embeddings: {exc}", file=str(directory),
                                  expected="index.parquet and vectors.npy") from None
    if vectors.ndim != 2 or vectors.shape[0] != index.height:
        raise DataValidationError(f"vectors shape {vectors.shape} vs {index.height} index rows",
                                  file=str(directory / "vectors.npy"), expected="[n, d] row-aligned with index")
    row = _join_rows(samples, index, str(directory / "index.parquet"))
    present = index["present"].to_numpy().astype(bool) if "present" in index.columns else np.ones(index.height, bool)
    row = np.where((row >= 0) & present[np.maximum(row, 0)], row, -1)
    return EmbeddingTable(vectors, row)


class CohortData:
    """A task's labelled samples over a feature store, indexable by sample position.

    Args:
        features_dir: The feature store.
        samples_path: ``labels/samples/<task>.parquet`` (subject_id, prediction_time, split, boolean_value,
            optional oracle_p).
        embeddings: Optional modality name (``"notes"``, ``"cxr"``) -> embedding folder.
        tables: Feature-store tables to use (default: all of M, E, p that the store has).
    """

    def __init__(self, features_dir: str | Path, samples_path: str | Path,
                 embeddings: dict[str, str] | None = None, tables: tuple[str, ...] | None = None) -> None:
        self.store = FeatureStore(features_dir)
        samples = pl.read_parquet(samples_path)
        for col in (*KEYS, "split", "boolean_value"):
            if col not in samples.columns:
                raise DataValidationError("missing column", file=str(samples_path), field=col)
        self.rows = _join_rows(samples, self.store.samples, str(Path(features_dir) / "samples.parquet"))
        if (self.rows < 0).any():
            bad = int(np.argmax(self.rows < 0))
            raise DataValidationError("sample has no features", file=str(samples_path), row=bad,
                                      expected="every labelled sample in the feature store")
        self.samples = samples
        self.labels = samples["boolean_value"].to_numpy().astype(np.float32)
        self.split = samples["split"].to_numpy().astype(str)
        self.oracle = samples["oracle_p"].to_numpy().astype(np.float64) if "oracle_p" in samples.columns else None
        self.tables = tuple(t for t in (tables or ("M", "E", "p")) if t in self.store.tables)
        self.embeddings = {k: load_embeddings(v, samples) for k, v in (embeddings or {}).items()}

    def __len__(self) -> int:
        return len(self.labels)

    def modalities(self) -> tuple[ModalitySpec, ...]:
        """Modality specs in presence-mask order: M, E, p, then the embeddings in the given order."""
        mods = []
        for t in self.tables:
            temporal = bool(self.store.tables[t]["temporal"])
            mods.append(ModalitySpec(TABLE_MODALITY[t], "sequential" if temporal else "static",
                                     "sparse" if temporal else "dense", len(self.store.names[t])))
        mods += [ModalitySpec(k, "static", "dense", int(e.vectors.shape[1])) for k, e in self.embeddings.items()]
        return tuple(mods)

    def indices(self, split: str) -> np.ndarray:
        """Sample positions of one split."""
        return np.flatnonzero(self.split == split)

    def _sequence(self, table: str, rows: np.ndarray) -> SparseSequence:
        csr = self.store.rows(table, rows)
        b, t = len(rows), self.store.L
        csr.sort_indices()
        binary = csr.nnz == 0 or bool(np.all(csr.data == 1.0))
        values = None if binary else torch.from_numpy(csr.data.astype(np.float32))
        return SparseSequence(torch.from_numpy(csr.indices.astype(np.int64)),
                              torch.from_numpy(csr.indptr[:-1].astype(np.int64)), b, t,
                              torch.full((b,), t, dtype=torch.long), values)

    def batch(self, idx: np.ndarray) -> MultimodalBatch:
        """Assemble samples ``idx`` (positions in the samples file) into a batch with its presence mask."""
        idx = np.asarray(idx, dtype=np.int64)
        rows = self.rows[idx]
        inputs: dict = {}
        presence = []
        for t in self.tables:
            name = TABLE_MODALITY[t]
            if self.store.tables[t]["temporal"]:
                inputs[name] = self._sequence(t, rows)
            else:
                inputs[name] = torch.from_numpy(self.store.dense(t, rows))
            presence.append(np.ones(len(idx), dtype=bool))  # FIDDLE tables always exist (missingness is a feature)
        for name, emb in self.embeddings.items():
            r = emb.row[idx]
            present = r >= 0
            vec = np.zeros((len(idx), emb.vectors.shape[1]), dtype=np.float32)
            if present.any():
                vec[present] = emb.vectors[r[present]]
            inputs[name] = torch.from_numpy(vec)
            presence.append(present)
        return MultimodalBatch(inputs, torch.from_numpy(np.stack(presence, axis=1)),
                               torch.from_numpy(self.labels[idx]))

    def subgroups(self) -> dict[str, np.ndarray]:
        """Sex and age band per sample, recovered from the static table's one-hot names where present.

        Age bands are the featurizer's own AGE bins (quintiles fitted on train), e.g. ``"AGE_value_(49.9, 61.5]"``.
        """
        if "p" not in self.store.tables:
            return {}
        names = self.store.names["p"]
        p = self.store.dense("p", self.rows)
        out: dict[str, np.ndarray] = {}
        if "GENDER_value_F" in names:
            out["sex"] = np.where(p[:, names.index("GENDER_value_F")] > 0, "F", "M")
        age_cols = [i for i, n in enumerate(names) if n.startswith("AGE_value_")]
        if age_cols:
            hot = p[:, age_cols]
            label = np.array([names[i] for i in age_cols])[hot.argmax(axis=1)]
            out["age_band"] = np.where(hot.max(axis=1) > 0, label, "unknown")
        return out
