"""Hourly MedFuse-style inputs from MEDS events: 17 variables, forward fill, normal values, masks, z-scores.

Layout per sample [T hours, F]: 13 continuous columns (12 charted + the GCS total derived from its three
components), one-hot columns of the 4 categorical variables (GCS eye/verbal/motor, capillary refill: 18), then one
observed-this-hour mask per variable (17) = 48 columns. MedFuse has 76 because it one-hots GCS total and keeps
MIMIC-III category spellings; our categories come from the cohort's vocabulary. Hour h covers
[anchor + h, anchor + h + 1); events at exactly the prediction time fall in the last hour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from model.data.meds_reader import open_meds, scan_events
from model.data.synthetic_vocab import CAP_REFILL, GCS_EYE, GCS_INTUBATED_VERBAL, GCS_MOTOR, GCS_VERBAL
from model.embed.store import check_samples

log = logging.getLogger(__name__)

# (name, itemid, normal value). Units are the cohort's (°F, FiO2 in %), so normals are in those units.
CONTINUOUS: tuple[tuple[str, int, float], ...] = (
    ("heart_rate", 220045, 86.0), ("sbp", 220179, 118.0), ("dbp", 220180, 59.0), ("map", 220181, 77.0),
    ("resp_rate", 220210, 19.0), ("spo2", 220277, 98.0), ("temperature", 223761, 97.9), ("fio2", 223835, 21.0),
    ("glucose", 220621, 128.0), ("weight", 226512, 81.0), ("height", 226730, 170.0), ("ph", 50820, 7.4),
)
# (name, itemid, categories ordered best first, normal category).
CATEGORICAL: tuple[tuple[str, int, tuple[str, ...], str], ...] = (
    ("gcs_eye", GCS_EYE[0], GCS_EYE[1], GCS_EYE[1][0]),
    ("gcs_verbal", GCS_VERBAL[0], (*GCS_VERBAL[1], GCS_INTUBATED_VERBAL), GCS_VERBAL[1][0]),
    ("gcs_motor", GCS_MOTOR[0], GCS_MOTOR[1], GCS_MOTOR[1][0]),
    ("cap_refill", CAP_REFILL[0], CAP_REFILL[1], CAP_REFILL[1][0]),
)
GCS_PARTS = ("gcs_eye", "gcs_verbal", "gcs_motor")
N_CONT = len(CONTINUOUS) + 1  # + derived gcs_total


def feature_names() -> list[str]:
    """Column names of the [T, F] inputs, in order."""
    cont = [c[0] for c in CONTINUOUS] + ["gcs_total"]
    onehot = [f"{name}={cat}" for name, _, cats, _ in CATEGORICAL for cat in cats]
    masks = [f"mask:{n}" for n in cont + [c[0] for c in CATEGORICAL]]
    return cont + onehot + masks


def _ffill(a: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Forward fill along axis 1 (hours) where `observed` is False; leading gaps keep their value."""
    t = np.arange(a.shape[1])[None, :, None]
    last = np.maximum.accumulate(np.where(observed, t, -1), axis=1)
    filled = np.take_along_axis(a, np.maximum(last, 0), axis=1)
    return np.where(last >= 0, filled, a)


def _gcs_score(idx: np.ndarray, cats: tuple[str, ...]) -> np.ndarray:
    """Category index → GCS points (best = max points); the intubated verbal response scores 1, as charted."""
    points = np.array([len(cats) - i for i in range(len(cats))], dtype=np.float32)
    if cats[-1] == GCS_INTUBATED_VERBAL:
        points[:-1] = np.arange(len(cats) - 1, 0, -1)
        points[-1] = 1.0
    return points[idx]


def hourly_events(meds_dir: str | Path, keys: pl.DataFrame, hours: int) -> pl.DataFrame:
    """The 16 charted variables' last value per (sample row, hour, itemid) inside each window."""
    items = [c[1] for c in CONTINUOUS] + [c[1] for c in CATEGORICAL]
    ev = (scan_events(open_meds(meds_dir), columns=["subject_id", "time", "code", "numeric_value", "text_value"])
          .filter(pl.col("code").str.starts_with("LAB//"))
          .with_columns(pl.col("code").str.split("//").list.get(1).cast(pl.Int64, strict=False).alias("itemid"))
          .filter(pl.col("itemid").is_in(items))
          .join(keys.lazy(), on="subject_id", how="inner")
          .filter((pl.col("time") >= pl.col("anchor_time")) & (pl.col("time") <= pl.col("prediction_time")))
          .with_columns(((pl.col("time") - pl.col("anchor_time")).dt.total_seconds() // 3600)
                        .clip(0, hours - 1).cast(pl.Int32).alias("hour"))
          .sort("_row", "hour", "itemid", "time")
          .group_by("_row", "hour", "itemid", maintain_order=True)
          .agg(pl.col("numeric_value").drop_nulls().last(), pl.col("text_value").drop_nulls().last()))
    return ev.collect()


def build_timeseries(meds_dir: str | Path, samples: pl.DataFrame, hours: int = 48) -> np.ndarray:
    """Unstandardised hourly inputs float32 [N, hours, 48] for the samples, in their order.

    Raises:
        DataValidationError: A bad sample table (names the column and row).
    """
    keys = check_samples(samples)
    n = keys.height
    ev = hourly_events(meds_dir, keys, hours)
    cont = np.full((n, hours, N_CONT), np.nan, dtype=np.float32)
    obs = np.zeros((n, hours, N_CONT + len(CATEGORICAL)), dtype=bool)
    for j, (_, item, normal) in enumerate(CONTINUOUS):
        d = ev.filter((pl.col("itemid") == item) & pl.col("numeric_value").is_not_null())
        r, h = d["_row"].to_numpy(), d["hour"].to_numpy()
        cont[r, h, j] = d["numeric_value"].to_numpy()
        obs[r, h, j] = True
    cat_idx = np.full((n, hours, len(CATEGORICAL)), -1, dtype=np.int64)
    unknown = 0
    for k, (_, item, cats, _) in enumerate(CATEGORICAL):
        d = ev.filter((pl.col("itemid") == item) & pl.col("text_value").is_not_null())
        idx = d["text_value"].replace_strict(list(cats), list(range(len(cats))), default=-1).to_numpy()
        unknown += int((idx < 0).sum())  # counted, never logged as text
        ok = idx >= 0
        r, h = d["_row"].to_numpy()[ok], d["hour"].to_numpy()[ok]
        cat_idx[r, h, k] = idx[ok]
        obs[r, h, N_CONT + k] = True
    if unknown:
        log.warning("timeseries: %d categorical values outside the known categories treated as unobserved", unknown)
    cont = _ffill(cont, obs[..., :N_CONT])
    for j, (_, _, normal) in enumerate(CONTINUOUS):
        cont[..., j] = np.where(np.isnan(cont[..., j]), normal, cont[..., j])
    cat_idx = _ffill(cat_idx, obs[..., N_CONT:])
    onehots, gcs = [], np.zeros((n, hours), dtype=np.float32)
    for k, (name, _, cats, normal) in enumerate(CATEGORICAL):
        idx = np.where(cat_idx[..., k] < 0, cats.index(normal), cat_idx[..., k])
        onehots.append(np.eye(len(cats), dtype=np.float32)[idx])
        if name in GCS_PARTS:
            gcs += _gcs_score(idx, cats)
    cont[..., N_CONT - 1] = gcs
    obs[..., N_CONT - 1] = obs[..., N_CONT:N_CONT + len(GCS_PARTS)].any(-1)
    return np.concatenate([cont, *onehots, obs.astype(np.float32)], axis=-1)


@dataclass(frozen=True)
class Standardizer:
    """z-score of the continuous columns with train statistics (one-hots and masks stay 0/1)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, x_train: np.ndarray) -> Standardizer:
        """Statistics over every train sample and hour of the continuous columns."""
        flat = x_train[..., :N_CONT].reshape(-1, N_CONT).astype(np.float64)
        std = flat.std(0)
        return cls(tuple(flat.mean(0).tolist()), tuple(np.where(std < 1e-6, 1.0, std).tolist()))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Standardised copy of `x` [N, T, F]."""
        out = x.copy()
        out[..., :N_CONT] = (x[..., :N_CONT] - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return out
