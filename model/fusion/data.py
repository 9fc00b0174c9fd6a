"""Assemble one task's inputs: standardised hourly time series, dense embeddings with presence, labels, oracle.

Dense embeddings come from folders in the model.embed contract (index.parquet + vectors.npy); rows are matched to
the samples on (subject_id, prediction_time), so an embedding folder built for a superset of samples works too.
With `RunConfig.cxr_pixels`, 'cxr' is instead the X-ray pixels [N, 1, H, W] (model.fusion.pixels).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from model.embed.store import read_embeddings
from model.errors import DataValidationError
from model.fusion.config import RunConfig
from model.fusion.timeseries import Standardizer, build_timeseries


@dataclass(frozen=True)
class FusionData:
    """Row-aligned arrays of one task (N samples, C labels, M modalities).

    Attributes:
        ts: Standardised hourly inputs float32 [N, T, F].
        dense: Modality name → float32 [N, dim] ([N, 1, H, W] for 'cxr' pixels).
        presence: bool [N, M], column 0 the time series (always present), then `dense` in order.
        y: float32 [N, C] 0/1 labels.
        oracle: float [N, C] true outcome probabilities (synthetic data) or None.
        split: str [N] train / tuning / held_out.
        subject_id: int64 [N].
        label_names: C label names.
    """

    ts: np.ndarray
    dense: dict[str, np.ndarray]
    presence: np.ndarray
    y: np.ndarray
    oracle: np.ndarray | None
    split: np.ndarray
    subject_id: np.ndarray
    label_names: list[str]

    def subset(self, rows: np.ndarray) -> FusionData:
        """The samples selected by a boolean mask or index array."""
        return replace(self, ts=self.ts[rows], dense={k: v[rows] for k, v in self.dense.items()},
                       presence=self.presence[rows], y=self.y[rows],
                       oracle=None if self.oracle is None else self.oracle[rows], split=self.split[rows],
                       subject_id=self.subject_id[rows])

    def split_of(self, name: str) -> FusionData:
        """One split's samples."""
        return self.subset(self.split == name)


def task_labels(samples: pl.DataFrame, task: str, source: str) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Labels [N, C], oracle [N, C] or None and label names from a samples/<task>.parquet table."""
    if task == "mortality":
        names, oracle_cols = ["mortality"], ["oracle_p"]
        cols = ["boolean_value"]
    else:
        names = [c for c in samples.columns if f"oracle_{c}" in samples.columns and samples[c].dtype == pl.Boolean]
        if not names:  # real data has no oracle: every boolean column except keys is a phenotype
            names = [c for c, t in samples.schema.items() if t == pl.Boolean and c != "boolean_value"]
        cols, oracle_cols = names, [f"oracle_{c}" for c in names]
    for c in cols:
        if c not in samples.columns:
            raise DataValidationError("label column missing", file=source, field=c)
        if samples[c].null_count():
            raise DataValidationError("null label", file=source, row=int(samples[c].is_null().arg_max()), field=c)
    y = samples.select(cols).to_numpy().astype(np.float32)
    has_oracle = all(c in samples.columns for c in oracle_cols)
    oracle = samples.select(oracle_cols).to_numpy().astype(np.float64) if has_oracle else None
    return y, oracle, names


def align_embeddings(samples: pl.DataFrame, folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Vectors [N, d] and presence [N] for the samples, matched on (subject_id, prediction_time)."""
    index, vectors, _ = read_embeddings(folder)
    idx = index.with_row_index("_vec").select("subject_id", pl.col("prediction_time").cast(pl.Datetime("us")),
                                               "present", "_vec")
    keys = samples.select(pl.col("subject_id").cast(pl.Int64), pl.col("prediction_time").cast(pl.Datetime("us")))
    joined = keys.join(idx.unique(["subject_id", "prediction_time"], keep="first"),
                       on=["subject_id", "prediction_time"], how="left", maintain_order="left")
    if joined["_vec"].null_count() == joined.height:
        raise DataValidationError("no sample of this task is in the embedding index", file=str(Path(folder)))
    present = joined["present"].fill_null(False).to_numpy()
    rows = joined["_vec"].fill_null(0).to_numpy()
    out = np.where(present[:, None], vectors[rows], 0.0).astype(np.float32)
    return out, present


def load_task(cfg: RunConfig) -> tuple[FusionData, Standardizer]:
    """Build the FusionData of `cfg.task` (time series standardised with train-split statistics).

    Raises:
        DataValidationError: Missing or malformed sample/label/embedding files (names the file).
    """
    path = Path(cfg.labels_dir) / "samples" / f"{cfg.task}.parquet"
    if not path.is_file():
        raise DataValidationError("samples file missing", file=str(path))
    samples = pl.read_parquet(path)
    if "split" not in samples.columns:
        raise DataValidationError("column missing", file=str(path), field="split")
    y, oracle, names = task_labels(samples, cfg.task, str(path))
    split = samples["split"].to_numpy().astype(str)
    raw = build_timeseries(cfg.meds_dir, samples, cfg.hours)
    if not (split == "train").any():
        raise DataValidationError("no train-split samples", file=str(path), field="split")
    std = Standardizer.fit(raw[split == "train"])
    dense, pres = {}, [np.ones(samples.height, dtype=bool)]
    if cfg.cxr_pixels is not None:
        from model.fusion.pixels import load_cxr_pixels  # lazy: pulls in torch/MONAI only when needed

        dense["cxr"], p = load_cxr_pixels(cfg.meds_dir, samples, cfg.cxr_pixels)
        pres.append(p)
    for name, folder in cfg.embeddings:
        dense[name], p = align_embeddings(samples, folder)
        pres.append(p)
    data = FusionData(ts=std.apply(raw), dense=dense, presence=np.stack(pres, 1), y=y, oracle=oracle, split=split,
                      subject_id=samples["subject_id"].to_numpy(), label_names=names)
    return data, std


def drop_dense(data: FusionData, rate: float, seed: int) -> FusionData:
    """Mask a further `rate` share of samples' dense modalities as missing (the missing-image sweep)."""
    if rate <= 0:
        return data
    rng = np.random.default_rng(seed)
    drop = rng.random(len(data.y)) < rate
    presence = data.presence.copy()
    presence[drop, 1:] = False
    # keep[:, j] reshaped to v's rank so [N, 1, H, W] pixels broadcast per sample like [N, dim] vectors.
    dense = {k: np.where(presence[:, j + 1].reshape(-1, *[1] * (v.ndim - 1)), v, 0.0).astype(np.float32)
             for j, (k, v) in enumerate(data.dense.items())}
    return replace(data, presence=presence, dense=dense)


def with_modalities(data: FusionData, names: tuple[str, ...]) -> FusionData:
    """Keep only the named dense modalities (in that order); the time series always stays in column 0."""
    order = list(data.dense)
    missing = [n for n in names if n not in data.dense]
    if missing:
        raise ValueError(f"modalities {missing} not loaded (have {order})")
    cols = [0] + [order.index(n) + 1 for n in names]
    return replace(data, dense={n: data.dense[n] for n in names}, presence=data.presence[:, cols])
