"""Featurize a MEDS cohort: fit on the training samples, transform any samples, streaming shard by shard.

    fitted = fit_meds(meds_dir, train_samples, FeaturizerConfig(T=48, extend_outer_bins=True))
    fitted.save("featurizer.json")
    transform_meds(fitted, meds_dir, held_out_samples, "features/held_out")
    featurize_stay(fitted, events_of_one_stay, its_sample)      # serving: same features as in batch

Samples come from the labeling step: subject_id, prediction_time, anchor_time (prediction_time - anchor_time
must be T hours). Each shard is read with `polars.scan_parquet`, restricted to the subjects sampled, turned into a
long table and featurized; only counts and distinct values stay in memory between shards.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl
import scipy.sparse as sp

from model.errors import DataValidationError
from model.features.code_rules import DEFAULT_RULES, STATIC_TABLE, CodeRule, rules_from_dicts, rules_to_dicts, table_of
from model.features.config import FeaturizerConfig
from model.features.featurize import Batch, fit, transform_batch
from model.features.fitted import FittedFeaturizer
from model.features.meds_adapter import EVENT_COLUMNS, US_PER_HOUR, AdapterReport, meds_to_long
from model.features.prepare import PrepareReport
from model.features.store import FeatureStoreWriter
from model.io_atomic import atomic_dir

log = logging.getLogger(__name__)
SAMPLE_COLUMNS = ("subject_id", "prediction_time", "anchor_time")


def validate_samples(samples: pl.DataFrame, T: float, source: str = "samples") -> pl.DataFrame:
    """Check the samples frame and number its rows.

    Returns:
        subject_id, prediction_time, anchor_time and sample_index (the row in `samples`).

    Raises:
        DataValidationError: A missing column, a null, a duplicate (subject_id, prediction_time), or a window
            that is not T hours long (naming the first bad row).
    """
    for c in SAMPLE_COLUMNS:
        if c not in samples.columns:
            raise DataValidationError("missing column", file=source, field=c, expected=f"columns {SAMPLE_COLUMNS}")
    df = samples.select(pl.col("subject_id").cast(pl.Int64), pl.col("prediction_time").cast(pl.Datetime("us")),
                        pl.col("anchor_time").cast(pl.Datetime("us"))).with_row_index("sample_index")
    for c in SAMPLE_COLUMNS:
        if df[c].null_count():
            raise DataValidationError("null value", file=source, row=int(df[c].is_null().arg_true()[0]), field=c,
                                      expected="a value on every row")
    dup = df.select(pl.struct("subject_id", "prediction_time").is_duplicated()).to_series()
    if dup.any():
        raise DataValidationError("duplicate sample", file=source, row=int(dup.arg_true()[0]), field="prediction_time",
                                  expected="one row per (subject_id, prediction_time)")
    width = (df["prediction_time"] - df["anchor_time"]).dt.total_microseconds()
    bad = (width - round(T * US_PER_HOUR)).abs() > 1
    if bad.any():
        raise DataValidationError("window length differs from T", file=source, row=int(bad.arg_true()[0]),
                                  field="prediction_time", expected=f"prediction_time = anchor_time + {T} h")
    return df


def list_shards(meds_dir: str | Path) -> list[Path]:
    """The event shards `<root>/data/**/*.parquet`, sorted.

    Raises:
        DataValidationError: No data directory.
    """
    data = Path(meds_dir) / "data"
    if not data.is_dir():
        raise DataValidationError("no data directory", file=str(data), expected="a MEDS root with data/*.parquet")
    return sorted(data.rglob("*.parquet"))


def _rules(fitted: FittedFeaturizer) -> tuple[CodeRule, ...]:
    return rules_from_dicts(fitted.train["code_rules"]) if "code_rules" in fitted.train else DEFAULT_RULES


def iter_meds_batches(meds_dir: str | Path, samples: pl.DataFrame, cfg: FeaturizerConfig,
                      rules: tuple[CodeRule, ...], report: AdapterReport | None = None
                      ) -> Iterator[tuple[Batch, pl.DataFrame]]:
    """One batch per shard (samples of the shard's subjects), then one for samples whose subject has no events.

    Args:
        meds_dir: MEDS root.
        samples: Output of `validate_samples`.
        cfg: Settings (T, dt).
        rules: Code rules.
        report: Accumulates adapter counts, if given.

    Yields:
        The batch and its samples (in batch ID order).

    Raises:
        DataValidationError: A subject's events are spread over several shards.
    """
    wanted = samples["subject_id"].unique()
    seen: set[int] = set()
    for path in list_shards(meds_dir):
        events = (pl.scan_parquet(path).select(EVENT_COLUMNS).filter(pl.col("subject_id").is_in(wanted.implode()))
                  .collect())
        subjects = set(events["subject_id"].unique().to_list())
        if subjects & seen:
            raise DataValidationError("a subject's events are in several shards", file=str(path), field="subject_id",
                                      expected="each subject in exactly one shard")
        seen |= subjects
        if not subjects:
            continue
        yield _batch(events, samples.filter(pl.col("subject_id").is_in(list(subjects))), cfg, rules, report)
    rest = samples.filter(~pl.col("subject_id").is_in(list(seen)))
    if rest.height:
        log.warning("%d samples have no events in any shard: they get all-missing features", rest.height)
        empty = pl.DataFrame(schema={c: pl.Int64 if c == "subject_id" else pl.Datetime("us") if c == "time" else
                                     pl.Float32 if c == "numeric_value" else pl.String for c in EVENT_COLUMNS})
        yield _batch(empty, rest, cfg, rules, report)


def _batch(events: pl.DataFrame, smp: pl.DataFrame, cfg: FeaturizerConfig, rules: tuple[CodeRule, ...],
           report: AdapterReport | None) -> tuple[Batch, pl.DataFrame]:
    smp = smp.sort("sample_index").with_columns(id=pl.arange(0, smp.height, dtype=pl.UInt32))
    long, rep = meds_to_long(events, smp, cfg.T, cfg.dt, rules)
    if report is not None:
        report.add(rep)
    return Batch(long, smp.height), smp.drop("id")


def fit_meds(meds_dir: str | Path, samples: pl.DataFrame, cfg: FeaturizerConfig,
             rules: tuple[CodeRule, ...] = DEFAULT_RULES, workdir: str | Path | None = None) -> FittedFeaturizer:
    """Fit the featurizer on training samples only (other subjects in the cohort are never read).

    Args:
        meds_dir: MEDS root.
        samples: Training samples (subject_id, prediction_time, anchor_time).
        cfg: Settings.
        rules: Code rules (stored in the fitted featurizer).
        workdir: Parent of the temporary directory for per-shard intermediates (default: the system's).

    Returns:
        The fitted featurizer (tables p, M, E).

    Raises:
        DataValidationError: Bad samples, or an empty training split.
    """
    smp = validate_samples(samples, cfg.T)
    report = AdapterReport()

    def source() -> Iterator[Batch]:
        return (b for b, _ in iter_meds_batches(meds_dir, smp, cfg, rules, report))

    fitted = fit(source, cfg, table_of=lambda v: table_of(v, rules), static_table=STATIC_TABLE,
                 workdir=workdir if workdir is not None else tempfile.gettempdir())
    fitted.train.update(code_rules=rules_to_dicts(rules), adapter=asdict(report))
    return fitted


def transform_meds(fitted: FittedFeaturizer, meds_dir: str | Path, samples: pl.DataFrame, out_dir: str | Path,
                   overwrite: bool = False) -> dict[str, Any]:
    """Write the features of `samples` in the layout of README.md (all or nothing).

    An empty samples frame writes a valid directory with zero rows.

    Returns:
        The manifest.
    """
    cfg, rules = fitted.config, _rules(fitted)
    smp = validate_samples(samples, cfg.T)
    adapter, prep = AdapterReport(), PrepareReport()
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        writer = FeatureStoreWriter(tmp, fitted)
        for batch, batch_samples in iter_meds_batches(meds_dir, smp, cfg, rules, adapter):
            writer.add(batch_samples, transform_batch(fitted, batch, prep))
        return writer.finish({"adapter": asdict(adapter), "prepare": asdict(prep)})


def featurize_stay(fitted: FittedFeaturizer, events: pl.DataFrame, samples: pl.DataFrame) -> dict[str, sp.csr_matrix]:
    """Serving: features of samples from MEDS events held in memory (e.g. one stay's events).

    Args:
        fitted: The fitted featurizer.
        events: MEDS rows of the samples' subjects.
        samples: subject_id, prediction_time, anchor_time.

    Returns:
        Table -> CSR, rows in `samples` order (temporal tables: row = sample * L + bin).
    """
    smp = validate_samples(samples, fitted.config.T).with_columns(id=pl.col("sample_index").cast(pl.UInt32))
    long, _ = meds_to_long(events.select(EVENT_COLUMNS), smp, fitted.config.T, fitted.config.dt, _rules(fitted))
    return transform_batch(fitted, Batch(long, smp.height))
