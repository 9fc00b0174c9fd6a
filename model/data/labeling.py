"""The label-and-split step: task labels in the MEDS label schema, persisted patient-level splits, oracle scores.

Output folder (written atomically):
    labels/<task>.parquet    MEDS LabelSchema; binary tasks use boolean_value, diagnoses and phenotypes use
                             categorical_value = sorted '|'-joined codes / phenotype slugs ('' = none)
    samples/<task>.parquet   the same samples with anchor_time, split, wide labels and, for synthetic data, the
                             oracle probability per label (oracle_*)
    splits.parquet           subject_id, split (train / tuning / held_out)
    summary.json             per task and split: counts, prevalence, oracle AUROC/AUPR where known
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import meds
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from model.data.multilabel import diagnosis_groups, phenotype_matrix, sample_diagnoses
from model.data.phenotypes import benchmark_phenotypes, phenotype_slug
from model.data.splits import SPLITS, assign_splits
from model.data.tasks import BINARY_TASKS, TaskCodes, extract_binary, extract_cohort_48h
from model.errors import DataValidationError
from model.io_atomic import atomic_dir, write_json
from model.metrics import MetricUndefinedWarning, binary_metrics

log = logging.getLogger(__name__)
ALL_TASKS = ("mortality", "arf", "shock", "diagnoses", "phenotypes")


def load_or_assign_splits(root: Path, subject_ids: np.ndarray) -> pl.DataFrame:
    """The dataset's own subject_splits.parquet when present (every subject must be in it), else hashed splits."""
    path = root / "metadata" / "subject_splits.parquet"
    if path.exists():
        splits = pl.read_parquet(path).select(pl.col("subject_id").cast(pl.Int64), "split")
        missing = np.setdiff1d(subject_ids, splits["subject_id"].to_numpy())
        if len(missing):
            raise DataValidationError(f"{len(missing)} subjects with events have no split", file=str(path),
                                      field="subject_id", expected="every subject of data/ listed once")
        return splits
    ids = np.unique(subject_ids)
    return pl.DataFrame({"subject_id": ids, "split": assign_splits(ids).astype(str)})


LABEL_TYPES = {"subject_id": pa.int64(), "prediction_time": pa.timestamp("us"), "boolean_value": pa.bool_(),
               "categorical_value": pa.string()}


def _write_labels(samples: pl.DataFrame, value_col: str, path: Path) -> None:
    """Write a MEDS LabelSchema table (exact arrow types, validated by `meds`)."""
    df = samples.select("subject_id", "prediction_time", value_col).sort("subject_id", "prediction_time")
    table = df.to_arrow()
    table = table.cast(pa.schema([pa.field(c, LABEL_TYPES[c], nullable=c != "boolean_value") for c in df.columns]))
    meds.LabelSchema.validate(table)
    pq.write_table(table, path)


def _oracle(root: Path) -> pl.DataFrame | None:
    path = root / "oracle" / "stays.parquet"
    return pl.read_parquet(path).rename({"icu_admission_time": "anchor_time"}) if path.exists() else None


def _metrics_by_split(df: pl.DataFrame, y: str, p: str | None) -> dict:
    out = {}
    for split in ("all", *SPLITS):
        d = df if split == "all" else df.filter(pl.col("split") == split)
        row = {"n": d.height, "n_pos": int(d[y].sum()), "prevalence": float(d[y].mean()) if d.height else None}
        if p is not None and d.height:
            with warnings.catch_warnings():  # a one-class split gives NaN, recorded as such
                warnings.simplefilter("ignore", MetricUndefinedWarning)
                m = binary_metrics(d[y].to_numpy(), d[p].to_numpy())
            row.update(oracle_auroc=m["auroc"], oracle_aupr=m["aupr"])
        out[split] = row
    return out


def label_dataset(root: str | Path, out_dir: str | Path, *, tasks: tuple[str, ...] = ALL_TASKS,
                  codes: TaskCodes = TaskCodes(), overwrite: bool = False) -> dict:
    """Extract every task's labels over a (validated) MEDS dataset and write them with splits and a summary.

    Raises:
        DataValidationError: unknown task, no samples for a task, or splits that do not cover the subjects.
    """
    root = Path(root)
    unknown = set(tasks) - set(ALL_TASKS)
    if unknown:
        raise DataValidationError(f"unknown tasks {sorted(unknown)}", field="tasks", expected=f"some of {ALL_TASKS}")
    shards = sorted((root / "data").rglob("*.parquet"))
    subjects = pl.scan_parquet(shards).select("subject_id").unique().collect()["subject_id"].to_numpy()
    splits = load_or_assign_splits(root, subjects)
    oracle = _oracle(root)
    summary: dict = {"tasks": {}, "n_subjects": int(len(subjects)),
                     "splits": dict(splits.group_by("split").len().iter_rows())}
    with atomic_dir(out_dir, overwrite=overwrite) as out:
        (out / "labels").mkdir()
        (out / "samples").mkdir()
        splits.write_parquet(out / "splits.parquet")
        for task in tasks:
            if task in BINARY_TASKS:
                df = extract_binary(task, shards, codes)
                p_col = None
                if oracle is not None:
                    df = df.join(oracle.select("subject_id", "anchor_time", pl.col(f"p_{task}").alias("oracle_p")),
                                 on=["subject_id", "anchor_time"], how="left")
                    p_col = "oracle_p"
                df = df.join(splits, on="subject_id", how="left")
                _require_samples(task, df)
                _write_labels(df, "boolean_value", out / "labels" / f"{task}.parquet")
                df.write_parquet(out / "samples" / f"{task}.parquet")
                summary["tasks"][task] = _metrics_by_split(df, "boolean_value", p_col)
        if {"diagnoses", "phenotypes"} & set(tasks):
            summary["tasks"].update(_multilabel(root, shards, codes, splits, oracle, out, tasks))
        write_json(out / "summary.json", summary)
    return summary


def _require_samples(task: str, df: pl.DataFrame) -> None:
    if df.is_empty():
        raise DataValidationError(f"task '{task}' has no samples in this dataset", field="tasks",
                                  expected="at least one anchor event meeting the task's cohort rules")


def _multilabel(root: Path, shards: list[Path], codes: TaskCodes, splits: pl.DataFrame, oracle, out: Path,
                tasks: tuple[str, ...]) -> dict:
    cohort = extract_cohort_48h(shards, codes)
    _require_samples("diagnoses/phenotypes", cohort)
    diags = sample_diagnoses(cohort, shards, codes)
    keys = ["subject_id", "anchor_time"]
    res: dict = {}
    base = cohort.join(splits, on="subject_id", how="left")
    if "diagnoses" in tasks:
        d = base.join(diagnosis_groups(diags), on=keys, how="left").with_columns(
            pl.col("group").fill_null("").alias("categorical_value")).drop("group")
        _write_labels(d, "categorical_value", out / "labels" / "diagnoses.parquet")
        d.write_parquet(out / "samples" / "diagnoses.parquet")
        n_codes = d["categorical_value"].str.split("|").list.len()
        res["diagnoses"] = {"n": d.height, "n_groups": _n_groups(d), "mean_codes_per_sample": float(n_codes.mean())}
    if "phenotypes" in tasks:
        slugs = [phenotype_slug(n) for n in benchmark_phenotypes()]
        ph = base.join(phenotype_matrix(diags), on=keys, how="left").with_columns(
            [pl.col(c).fill_null(False) for c in slugs])
        ph = ph.with_columns(pl.concat_list([pl.when(pl.col(c)).then(pl.lit(c)) for c in slugs])
                             .list.drop_nulls().list.join("|").alias("categorical_value"))
        if oracle is not None:
            ph = ph.join(oracle.select(keys + [pl.col(f"p_pheno_{c}").alias(f"oracle_{c}") for c in slugs]),
                         on=keys, how="left")
        _write_labels(ph, "categorical_value", out / "labels" / "phenotypes.parquet")
        ph.write_parquet(out / "samples" / "phenotypes.parquet")
        per = {c: _metrics_by_split(ph, c, f"oracle_{c}" if oracle is not None else None) for c in slugs}
        res["phenotypes"] = {"per_label": per, "macro": _macro(per)}
    return res


def _n_groups(d: pl.DataFrame) -> int:
    groups = d["categorical_value"].str.split("|").explode()
    return int(groups.filter(groups != "").n_unique())


def _macro(per: dict) -> dict:
    out = {}
    for split in ("all", *SPLITS):
        vals = [v[split].get("oracle_auroc") for v in per.values()]
        vals = [v for v in vals if v is not None and not np.isnan(v)]
        prev = [v[split]["prevalence"] for v in per.values() if v[split]["prevalence"] is not None]
        out[split] = {"oracle_auroc_macro": float(np.mean(vals)) if vals else None,
                      "prevalence_mean": float(np.mean(prev)) if prev else None}
    return out
