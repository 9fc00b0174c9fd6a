"""Search, prune and evaluate steps: wrappers over model.search.task_runner (the AutoFM search on a cohort).

The search engineer provides `search_on_cohort`, `prune_on_cohort`, `evaluate_on_cohort` and `CohortSearchConfig`
in model/search/task_runner.py; until that module exists these steps fail with a clear message (nothing here
pretends to search).
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import polars as pl

from model.errors import DataValidationError
from model.io_atomic import atomic_dir, write_json
from pipelines.steps import dir_digest, read_json, samples_path
from pipelines.steps_embed import embedding_dirs


class StepUnavailableError(RuntimeError):
    """A library entry point the step wraps is not installed in this checkout."""


def task_runner() -> Any:
    """model.search.task_runner, or a clear error when it is not there yet."""
    try:
        return importlib.import_module("model.search.task_runner")
    except ModuleNotFoundError as e:
        if e.name != "model.search.task_runner":
            raise
        raise StepUnavailableError("model.search.task_runner is not in this checkout yet: the search, prune and "
                                   "evaluate steps need its search_on_cohort / prune_on_cohort / "
                                   "evaluate_on_cohort") from e


def search_config(*, epochs: int, order: str, diversity_lambda: float, seed: int,
                  overrides: dict[str, Any] | None = None) -> Any:
    """CohortSearchConfig from the pipeline's search parameters plus `overrides` (other CohortSearchConfig fields,
    e.g. {"d_e": 64, "baselines": false} for a quick CPU run; unknown keys are errors)."""
    if order not in ("first", "second"):
        raise DataValidationError(f"order={order!r}", field="search_order", expected="'first' or 'second'")
    if epochs < 1 or diversity_lambda < 0:
        raise DataValidationError(f"epochs={epochs}, diversity_lambda={diversity_lambda}", field="search_epochs",
                                  expected="epochs >= 1 and diversity_lambda >= 0")
    cls = task_runner().CohortSearchConfig
    fixed = {"epochs": epochs, "order": order, "penalty_weight": diversity_lambda, "seed": seed}
    clash = sorted(set(overrides or {}) & set(fixed))
    if clash:
        raise DataValidationError(f"{clash} are pipeline parameters of their own", field="search_overrides",
                                  expected="other CohortSearchConfig fields")
    # KFP passes dict parameters as protobuf Structs: their numbers arrive as floats (32 -> 32.0).
    ints = {f.name for f in dataclasses.fields(cls) if f.type in ("int", int)}
    extra = {k: int(v) if k in ints and isinstance(v, float) and v.is_integer() else v
             for k, v in (overrides or {}).items()}
    try:
        return cls.from_dict({**extra, **fixed})
    except (TypeError, ValueError) as e:
        raise DataValidationError(str(e), field="search_overrides") from e


def search_step(features_dir: str | Path, labels_dir: str | Path, task: str, out: str | Path, *,
                embeddings: str | Path | None = None, **cfg: Any) -> dict:
    """The supernet search (bi-level DARTS) of one task; writes the search state to out.

    embeddings: an embed step's output (its note / X-ray modalities join the EHR tables); None = EHR only.
    """
    config, emb = search_config(**cfg), embedding_dirs(embeddings)
    result = task_runner().search_on_cohort(features_dir, samples_path(labels_dir, task), out, config,
                                            embeddings=emb)
    return {"task": task, "embeddings": sorted(emb), **_scalars(result), "sha256": dir_digest(out)}


def prune_step(search_dir: str | Path, features_dir: str | Path, labels_dir: str | Path, task: str,
               out: str | Path, *, embeddings: str | Path | None = None, **cfg: Any) -> dict:
    """Prune the searched supernet to a genotype and its derived weights (genotype.json, weights.safetensors)."""
    config, emb = search_config(**cfg), embedding_dirs(embeddings)
    result = task_runner().prune_on_cohort(search_dir, features_dir, samples_path(labels_dir, task), out, config,
                                           embeddings=emb)
    return {"task": task, "embeddings": sorted(emb), **_scalars(result), "sha256": dir_digest(out)}


def _oracle(samples: pl.DataFrame) -> dict:
    """Bayes-optimal AUROC/AUPR on the held-out split (synthetic data only; {} otherwise)."""
    from model.metrics import binary_metrics

    held = samples.filter(pl.col("split") == "held_out")
    if "oracle_p" not in held.columns or held.is_empty():
        return {}
    m = binary_metrics(held["boolean_value"].to_numpy(), held["oracle_p"].to_numpy())
    return {"n": held.height, "prevalence": float(held["boolean_value"].mean()), "oracle_auroc": m["auroc"],
            "oracle_aupr": m["aupr"]}


def _predictions(ev: Path, features_dir: str | Path, sp: Path) -> tuple[Any, Any]:
    """Held-out labels and scores (scores.npy is in the held-out order of CohortData), for the calibration plot."""
    import numpy as np

    from model.search.cohort_data import CohortData

    scores = np.load(ev / "scores.npy", allow_pickle=False)
    cohort = CohortData(features_dir, sp)
    y = cohort.labels[cohort.indices("held_out")]
    if y.shape != scores.shape:
        raise DataValidationError(f"{scores.shape[0]} scores for {y.shape[0]} held-out samples",
                                  file=str(ev / "scores.npy"))
    return y, scores


def evaluate_step(model_dir: str | Path, features_dir: str | Path, labels_dir: str | Path, task: str,
                  out: str | Path, *, n_boot: int = 1000, embeddings: str | Path | None = None) -> dict:
    """Held-out metrics with CIs and curves, the HTML/Markdown report, and record.json (model vs oracle)."""
    sp = samples_path(labels_dir, task)
    emb = embedding_dirs(embeddings)
    with atomic_dir(out, overwrite=True) as tmp:
        ev = tmp / "evaluation"
        task_runner().evaluate_on_cohort(model_dir, features_dir, sp, ev, embeddings=emb, n_boot=n_boot)
        metrics, curves = read_json(ev / "metrics.json"), read_json(ev / "curves.json")
        if "auroc" not in metrics:
            raise DataValidationError("no auroc", file=str(ev / "metrics.json"), field="auroc")
        oracle = _oracle(pl.read_parquet(sp))
        genotype = read_json(Path(model_dir) / "genotype.json")
        y, s = _predictions(ev, features_dir, sp)
        from model.report import write_report

        rep = write_report(tmp, f"{task}: held-out evaluation", metrics, curves, y_true=y, y_score=s, oracle=oracle,
                           extra={"task": task, "genotype sha256": dir_digest(model_dir)[:16]})
        record = {"task": task, "auroc": metrics.get("auroc"), "auroc_ci": [metrics.get("auroc_ci_low"),
                                                                             metrics.get("auroc_ci_high")],
                  "aupr": metrics.get("aupr"), "ece": metrics.get("ece"), "oracle": oracle, "genotype": genotype,
                  "embeddings": sorted(emb),
                  "genotype_digest": metrics.get("genotype"),
                  "report": "report.html", "plots": rep["plots"]}
        write_json(tmp / "record.json", record)
    return {k: v for k, v in record.items() if k != "genotype"} | {"sha256": dir_digest(out)}


def _scalars(d: Any) -> dict:
    """The scalar entries of a result dict (what fits into artifact metadata)."""
    if not isinstance(d, dict):
        return {}
    return {k: v for k, v in d.items() if isinstance(v, str | int | float | bool) or v is None}
