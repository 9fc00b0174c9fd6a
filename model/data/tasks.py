"""Binary task labels over MEDS with ACES (mortality at 48 h, ARF and shock at 12 h), shard by shard.

ACES configs live in task_configs/; their $-placeholders take the dataset's codes (the anchor is a parameter, so
datasets without ICU_ADMISSION work). Predicates are computed per shard from only the rows whose code some predicate
can match, so memory follows the task's events, not the dataset's size.
"""

from __future__ import annotations

import copy
import re
import string
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import polars as pl
import yaml
from aces.config import PlainPredicateConfig, TaskExtractorConfig
from aces.query import query

from model.errors import DataValidationError

# task -> (ACES config file, prediction hours after the anchor)
BINARY_TASKS: dict[str, tuple[str, int]] = {
    "mortality": ("mortality_48h.yaml", 48),
    "arf": ("arf_12h.yaml", 12),
    "shock": ("shock_12h.yaml", 12),
}
COHORT_48H = ("icu_48h.yaml", 48)


@dataclass(frozen=True)
class TaskCodes:
    """The dataset's codes that task definitions refer to (prefixes match `CODE` and `CODE//...`)."""

    anchor: str = "ICU_ADMISSION"
    anchor_end: str = "ICU_DISCHARGE"
    hospital_discharge: str = "HOSPITAL_DISCHARGE"
    death: str = "MEDS_DEATH"

    def regexes(self) -> dict[str, str]:
        out = {k: f"^{re.escape(v)}(//.*)?$" for k, v in asdict(self).items() if k != "death"}
        out["death"] = self.death
        return out


def required_code_patterns(codes: TaskCodes, tasks: tuple[str, ...]) -> dict[str, list[str]]:
    """Per task, code regexes of which at least one must occur in the data (for ingestion's validator)."""
    out: dict[str, list[str]] = {}
    for task in tasks:
        cfg_file, _ = BINARY_TASKS.get(task, COHORT_48H)
        raw = _config_dict(cfg_file, codes)
        out[task] = [p["code"]["regex"] if isinstance(p["code"], dict) else f"^{re.escape(p['code'])}$"
                     for name, p in raw["predicates"].items() if "code" in p and name == "icu_admission"]
    return out


def _config_dict(cfg_file: str, codes: TaskCodes) -> dict:
    """The YAML with $placeholders in its string values filled (after parsing, so regexes need no YAML escaping)."""
    text = resources.files("model.data").joinpath(f"task_configs/{cfg_file}").read_text()
    subs = codes.regexes()

    def fill(node):
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, str):
            return string.Template(node).substitute(subs)
        return node

    return fill(yaml.safe_load(text))


def load_task_config(cfg_file: str, codes: TaskCodes) -> TaskExtractorConfig:
    """An ACES TaskExtractorConfig for a config file in task_configs/ with the dataset's codes filled in."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / cfg_file
        path.write_text(yaml.safe_dump(_config_dict(cfg_file, codes)))
        return TaskExtractorConfig.load(path)


def _plain_filter(preds: dict[str, PlainPredicateConfig]) -> pl.Expr:
    return pl.any_horizontal([p.MEDS_eval_expr() for p in preds.values()])


def shard_predicates(cfg: TaskExtractorConfig, shard: Path) -> pl.DataFrame:
    """ACES predicate counts per (subject_id, timestamp) for one MEDS shard, from matching rows only."""
    plain = cfg.plain_predicates
    lf = pl.scan_parquet(shard).select("subject_id", "time", "code", "numeric_value")
    lf = lf.with_columns(pl.col("code").cast(pl.Utf8)).filter(pl.col("time").is_not_null() & _plain_filter(plain))
    lf = lf.with_columns([p.MEDS_eval_expr().cast(pl.Int64).alias(name) for name, p in plain.items()])
    df = (lf.group_by("subject_id", "time", maintain_order=True)
          .agg([pl.col(n).sum() for n in plain]).rename({"time": "timestamp"}).collect())
    for name, dp in cfg.derived_predicates.items():
        df = df.with_columns(dp.eval_expr().cast(pl.Int64).alias(name))
    return df.sort("subject_id", "timestamp")


def extract_task(cfg: TaskExtractorConfig, shards: list[Path]) -> pl.DataFrame:
    """Samples of one task across shards: subject_id, anchor_time, prediction_time[, boolean_value]."""
    parts = []
    for shard in shards:
        preds = shard_predicates(cfg, shard)
        if preds.is_empty():
            continue
        # ACES 0.7.3's query mutates its config (extract_subtree adds the subtree offset to each child's
        # endpoint_expr in place), so a reused config shifts nested windows further out with every call: one
        # fresh copy per shard. ACES also emits all-null rows for subjects with no valid trigger: drop them.
        res = query(copy.deepcopy(cfg), preds)
        if res.is_empty() or "index_timestamp" not in res.columns:
            continue
        res = res.filter(pl.col("index_timestamp").is_not_null())
        if res.is_empty():
            continue
        cols = [pl.col("subject_id"), pl.col("trigger").alias("anchor_time"),
                pl.col("index_timestamp").alias("prediction_time")]
        if "label" in res.columns:
            cols.append((pl.col("label") > 0).alias("boolean_value"))
        parts.append(res.select(cols))
    if not parts:
        return pl.DataFrame(schema={"subject_id": pl.Int64, "anchor_time": pl.Datetime("us"),
                                    "prediction_time": pl.Datetime("us")})
    return pl.concat(parts).sort("subject_id", "prediction_time")


def extract_binary(task: str, shards: list[Path], codes: TaskCodes = TaskCodes()) -> pl.DataFrame:
    """Labels of a binary task (mortality, arf, shock) over the given MEDS shards."""
    if task not in BINARY_TASKS:
        raise DataValidationError(f"unknown task '{task}'", field="task", expected=f"one of {sorted(BINARY_TASKS)}")
    return extract_task(load_task_config(BINARY_TASKS[task][0], codes), shards)


def extract_cohort_48h(shards: list[Path], codes: TaskCodes = TaskCodes()) -> pl.DataFrame:
    """Stays alive and in the ICU at 48 h: the samples of the diagnosis and phenotype tasks."""
    return extract_task(load_task_config(COHORT_48H[0], codes), shards)
