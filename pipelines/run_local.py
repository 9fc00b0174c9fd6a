"""The main job: the Kubeflow pipeline (pipelines/autofm_pipeline.py) end to end with kfp.local's SubprocessRunner.

Every artifact of the run lands in one run folder (default runs/default):

    artifacts/autofm-<time>/<step>/...   each step's outputs (cached steps point at the run that computed them)
    cache/                                kfp.local's step cache: a rerun with the same inputs reuses finished steps
    embed-cache/                          note vectors keyed by content hash (model, pooling, max_length)
    logs/kfp-<time>.log                   the full kfp.local log (executor inputs, streamed step output)
    summary.json                          per task: AUROC/AUPR with CIs vs the oracle, genotype, report path

A failed step leaves the earlier steps' artifacts and cache entries intact; the rerun resumes after them.
Parameters come from params.yaml (typed, pipelines/params.py); the options below override them.

Usage: python -m pipelines.run_local [--run-dir runs/default] [--n-stays N] [--seed S] [--tasks T ...]
       [--search-epochs E] [--dataset-uri URI] [--params params.yaml] [--no-cache] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from model.errors import DataValidationError
from model.io_atomic import write_json
from pipelines.params import PARAMS_FILE, Params, load_params
from pipelines.progress import ProgressTee


def pipeline_arguments(params: Params) -> dict[str, Any]:
    """The pipeline's UI parameters from params.yaml (GPU settings keep their defaults: ignored locally)."""
    return {"dataset_uri": params.ingest.dataset_uri, "dataset_format": params.ingest.format,
            "population_uri": params.ingest.population, "n_stays": params.generate.n_stays,
            "cohort_seed": params.generate.seed, "tasks": list(params.label.tasks), "T": params.featurize.T,
            **embed_arguments(params),
            "search_epochs": params.search.epochs, "search_order": params.search.order,
            "diversity_lambda": params.search.diversity_lambda, "seed": params.search.seed,
            "search_overrides": dict(params.search.overrides), "eval_n_boot": params.evaluate.n_boot}


def embed_arguments(params: Params) -> dict[str, Any]:
    """The pipeline's embedding parameters from params.yaml's embed group."""
    e = params.embed
    return {"embed_notes": e.notes, "embed_cxr": e.cxr, "note_model_path": e.note_model_path,
            "note_pooling": e.pooling, "note_max_length": e.max_length, "image_size": e.image_size,
            "image_clahe": e.clahe, "image_on_unreadable": e.on_unreadable, "cxr_pretrain_epochs": e.pretrain_epochs,
            "cxr_pretrain_max_images": e.pretrain_max_images}


def run(run_dir: Path, arguments: dict[str, Any], *, cache: bool = True, echo: Any = None) -> dict:
    """Run the pipeline locally; return the summary (also written to run_dir/summary.json).

    Raises:
        RuntimeError: A step failed (its message names the step; the full log is in run_dir/logs).
    """
    from kfp import local

    from pipelines.autofm_pipeline import autofm_pipeline

    run_dir = run_dir.resolve()
    for sub in ("artifacts", "cache", "logs", "tmp", "workspace"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(run_dir / "tmp")  # each task leaves a temp dir: keep them in the run folder
    # Note vectors cached by content: a --no-cache rerun, or one with other image settings, re-encodes no note.
    arguments = {"embed_cache_dir": str(run_dir / "embed-cache"), **arguments}
    # ParallelFor iterations run at once: share the cores between them instead of oversubscribing.
    n_par = max(1, len(arguments.get("tasks") or [1]))
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // n_par)))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(run_dir / "artifacts"),
               workspace_root=str(run_dir / "workspace"), raise_on_error=True, enable_caching=cache,
               cache_root=str(run_dir / "cache"))
    log = run_dir / "logs" / f"kfp-{time.strftime('%Y%m%d-%H%M%S')}.log"
    with ProgressTee(log, echo or sys.__stdout__) as tee, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"kfp\.local")  # "settings have no effect locally": expected
        try:
            task = autofm_pipeline(**arguments)
        except Exception as e:
            raise RuntimeError(f"{tee.last_failure or 'the pipeline'} failed: {_short(e)} (full log: {log})") from e
    summary = json.loads((Path(task.outputs["Output"].path) / "summary.json").read_text()) if hasattr(
        task, "outputs") else json.loads((Path(task.path) / "summary.json").read_text())
    summary["arguments"], summary["log"] = arguments, str(log)
    write_json(run_dir / "summary.json", summary)
    return summary


def _short(e: Exception) -> str:
    from pipelines.progress import ANSI

    text = ANSI.sub("", str(e)).strip().splitlines()
    return text[-1][:300] if text else type(e).__name__


def format_summary(summary: dict) -> str:
    """One line per task: AUROC [CI] vs oracle, AUPR vs oracle, genotype; then where each report is."""
    lines = ["", f"{'task':<11}{'AUROC [95% CI]':>24}{'oracle':>8}{'AUPR':>8}{'oracle':>8}  genotype"]
    for task, r in summary["tasks"].items():
        o = r.get("oracle") or {}
        ci = r.get("auroc_ci") or [None, None]
        auroc = f"{_f(r.get('auroc'))} [{_f(ci[0])}, {_f(ci[1])}]"
        lines.append(f"{task:<11}{auroc:>24}{_f(o.get('oracle_auroc')):>8}{_f(r.get('aupr')):>8}"
                     f"{_f(o.get('oracle_aupr')):>8}  {r.get('genotype_digest') or 'n/a'}")
    lines += [f"genotype {task}: {_genotype_text(r.get('genotype'))}" for task, r in summary["tasks"].items()]
    lines += [f"report {task}: {r['report']}" for task, r in summary["tasks"].items()]
    return "\n".join(lines)


def _f(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, int | float) else "n/a"


def _genotype_text(g: Any) -> str:
    text = json.dumps(g, sort_keys=True, separators=(",", ":")) if g is not None else "n/a"
    return text if len(text) <= 160 else text[:157] + "..."


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the AutoFM pipeline locally (kfp.local) on the synthetic cohort.")
    p.add_argument("--run-dir", default="runs/default")
    p.add_argument("--params", default=str(PARAMS_FILE))
    p.add_argument("--n-stays", type=int)
    p.add_argument("--seed", type=int, help="cohort seed")
    p.add_argument("--tasks", nargs="+")
    p.add_argument("--search-epochs", type=int)
    p.add_argument("--dataset-uri")
    p.add_argument("--no-cache", action="store_true", help="recompute every step")
    p.add_argument("--fresh", action="store_true", help="delete the run folder first")
    a = p.parse_args(argv)
    try:
        params = load_params(a.params)
        over = {"generate": {"n_stays": a.n_stays, "seed": a.seed}, "label": {"tasks": a.tasks},
                "search": {"epochs": a.search_epochs}, "ingest": {"dataset_uri": a.dataset_uri}}
        raw = params.model_dump()
        for group, kv in over.items():
            raw[group].update({k: v for k, v in kv.items() if v is not None})
        params = Params.model_validate(raw)
    except (DataValidationError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    run_dir = Path(a.run_dir)
    if a.fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    t0 = time.perf_counter()
    try:
        summary = run(run_dir, pipeline_arguments(params), cache=not a.no_cache)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    print(f"\nrun folder: {run_dir.resolve()}  (summary.json)  total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
