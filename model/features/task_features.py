"""Features for a task's labelled samples: fit on the train split only, transform every split with the same state."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from model.errors import DataValidationError
from model.features.config import FeaturizerConfig
from model.features.meds_featurize import fit_meds, transform_meds


def featurize_task(meds_dir: str | Path, samples: pl.DataFrame, out_dir: str | Path, T: int,
                   *, extend_outer_bins: bool = True, overwrite: bool = False) -> dict:
    """Fit the featurizer on the samples whose split is 'train' and write features of all samples to `out_dir`.

    Args:
        meds_dir: MEDS root.
        samples: A task's samples (subject_id, anchor_time, prediction_time, split, ...) from the labeling step.
        out_dir: The feature store to write (layout in model/features/README.md).
        T: Hours from the anchor to the prediction time.
        extend_outer_bins: Values outside the training range go to the outer bins (as serving needs).
        overwrite: Replace an existing out_dir.

    Returns:
        A summary: samples per split, features per table, the fitted featurizer's hash.
    """
    if "split" not in samples.columns:
        raise DataValidationError("samples have no split column", field="split", expected="train/tuning/held_out")
    keys = samples.select("subject_id", "prediction_time", "anchor_time")
    train = samples.filter(pl.col("split") == "train").select(keys.columns)
    fitted = fit_meds(meds_dir, train, FeaturizerConfig(T=T, extend_outer_bins=extend_outer_bins))
    manifest = transform_meds(fitted, meds_dir, keys, out_dir, overwrite=overwrite)
    return {
        "n_samples": manifest.get("n_samples"),
        "splits": dict(samples.group_by("split").len().iter_rows()),
        "n_features": {k: v.get("n_features") for k, v in manifest.get("tables", {}).items()},
        "featurizer_sha256": manifest.get("featurizer_sha256"),
    }
