"""The reference data profile that production monitoring compares live data against.

Per sample of a task: events per modality in the feature window [anchor, prediction time), modality presence flags,
age and sex; plus JSON statistics (presence rates per modality, per-column summaries) over the reference split.
Pure polars: no Evidently here (the drift report reads these files).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from model.errors import DataValidationError
from model.io_atomic import atomic_dir, write_json

MODALITIES: dict[str, tuple[str, ...]] = {
    "labs": ("LAB//", "SUBJECT_FLUID_OUTPUT//"),
    "interventions": ("INFUSION_START//", "PROCEDURE//START//"),
    "notes": ("NOTE//",),
    "images": ("CXR//",),
}
KEYS = ("subject_id", "prediction_time")


def _modality_expr() -> pl.Expr:
    expr = pl.lit(None, dtype=pl.String)
    for name, prefixes in reversed(MODALITIES.items()):
        cond = pl.any_horizontal([pl.col("code").str.starts_with(p) for p in prefixes])
        expr = pl.when(cond).then(pl.lit(name)).otherwise(expr)
    return expr


def profile_samples(meds_dir: str | Path, samples: pl.DataFrame) -> pl.DataFrame:
    """One row per sample: n_<modality>, has_<modality>, age_years, sex_female, split."""
    missing = [c for c in (*KEYS, "anchor_time", "split") if c not in samples.columns]
    if missing:
        raise DataValidationError(f"samples lack columns {missing}", field=missing[0],
                                  expected="subject_id, prediction_time, anchor_time, split")
    shards = sorted((Path(meds_dir) / "data").rglob("*.parquet"))
    if not shards:
        raise DataValidationError("no MEDS data shards", file=str(Path(meds_dir) / "data"), expected="*.parquet")
    s = samples.select(*KEYS, "anchor_time", "split").unique(subset=list(KEYS)).lazy()
    events = pl.scan_parquet(shards).select("subject_id", "time", "code")
    window = (events.filter(pl.col("time").is_not_null()).join(s, on="subject_id")
              .filter((pl.col("time") >= pl.col("anchor_time")) & (pl.col("time") < pl.col("prediction_time")))
              .with_columns(_modality_expr().alias("modality")).filter(pl.col("modality").is_not_null())
              .group_by(*KEYS).agg([(pl.col("modality") == m).sum().cast(pl.Int64).alias(f"n_{m}")
                                    for m in MODALITIES]))
    birth = events.filter(pl.col("code") == "MEDS_BIRTH").group_by("subject_id").agg(pl.col("time").min()
                                                                                      .alias("birth"))
    sex = (events.filter(pl.col("code").str.starts_with("GENDER//")).group_by("subject_id")
           .agg((pl.col("code").first() == "GENDER//F").alias("sex_female")))
    out = (s.join(window, on=list(KEYS), how="left").join(birth, on="subject_id", how="left")
           .join(sex, on="subject_id", how="left")
           .with_columns([pl.col(f"n_{m}").fill_null(0) for m in MODALITIES])
           .with_columns([(pl.col(f"n_{m}") > 0).alias(f"has_{m}") for m in MODALITIES])
           .with_columns(((pl.col("anchor_time") - pl.col("birth")).dt.total_days() / 365.25).alias("age_years"))
           .drop("birth").sort(list(KEYS)).collect())
    return out


def _column_stats(df: pl.DataFrame) -> dict[str, dict]:
    stats = {}
    for c in df.columns:
        col = df[c]
        if col.dtype == pl.Boolean:
            stats[c] = {"rate": float(col.mean()) if col.len() else None, "null": int(col.null_count())}
        elif col.dtype.is_numeric():
            q = [col.quantile(p) for p in (0.05, 0.5, 0.95)]
            stats[c] = {"mean": col.mean(), "std": col.std(), "p05": q[0], "p50": q[1], "p95": q[2],
                        "null": int(col.null_count())}
    return stats


def build_reference_profile(meds_dir: str | Path, samples_path: str | Path, out_dir: str | Path, *,
                            reference_split: str = "train", overwrite: bool = False) -> dict:
    """Write out_dir/{profile.parquet, stats.json} atomically and return the stats.

    Args:
        meds_dir: The ingested MEDS root.
        samples_path: A task's samples parquet from the labeling step.
        out_dir: Folder to write (appears whole or not at all).
        reference_split: The split the statistics describe (the data the model was fitted on).
        overwrite: Replace an existing out_dir.

    Raises:
        DataValidationError: Missing columns or data, or no sample in the reference split.
    """
    samples_path = Path(samples_path)
    try:
        samples = pl.read_parquet(samples_path)
    except (OSError, pl.exceptions.PolarsError) as e:
        raise DataValidationError(f"cannot read samples: {e}", file=str(samples_path)) from e
    prof = profile_samples(meds_dir, samples)
    ref = prof.filter(pl.col("split") == reference_split)
    if ref.is_empty():
        raise DataValidationError(f"no sample in split '{reference_split}'", file=str(samples_path), field="split")
    stats = {"format": "autofm-reference-profile", "version": 1, "reference_split": reference_split,
             "n_samples": prof.height, "n_reference": ref.height,
             "presence_rate": {m: float(ref[f"has_{m}"].mean()) for m in MODALITIES},
             "columns": _column_stats(ref.drop(*KEYS, "anchor_time", "split"))}
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        prof.write_parquet(tmp / "profile.parquet")
        write_json(tmp / "stats.json", stats)
    return stats
