"""The main job on this machine: generate the default cohort, ingest and validate it, label, split, summarise.

Each step writes its own folder under the run folder atomically, with a step record holding its parameters;
a rerun with the same parameters reuses finished steps, so a failed run resumes where it stopped.

Usage: python -m pipelines.run_local [--run-dir runs/default] [--n-stays 2000] [--seed 0] [--fresh]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from model.data.ingest import ingest
from model.data.labeling import ALL_TASKS, label_dataset
from model.data.synthetic import generate_cohort
from model.data.synthetic_config import CohortConfig
from model.data.tasks import BINARY_TASKS, TaskCodes, required_code_patterns
from model.errors import DataValidationError
from model.features.task_features import featurize_task
from model.io_atomic import atomic_dir, sha256_file, write_json

FEATURE_TASKS = ("mortality", "arf", "shock")


def _step(run_dir: Path, name: str, params: dict, fn: Callable[[Path], dict]) -> dict:
    """Run `fn(out_dir)` unless a finished result with the same parameters exists; print one progress line."""
    out = run_dir / name
    record = run_dir / f"{name}.step.json"
    key = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    if out.exists() and record.exists():
        prev = json.loads(record.read_text())
        if prev.get("key") == key:
            print(f"[{name}] reused ({prev['seconds']:.1f} s when computed) -> {out}", flush=True)
            return prev["result"]
    if out.exists():
        shutil.rmtree(out)  # stale: parameters changed or the step never finished
    t0 = time.perf_counter()
    print(f"[{name}] running ...", flush=True)
    result = fn(out)
    seconds = time.perf_counter() - t0
    write_json(record, {"key": key, "params": params, "seconds": seconds, "result": result})
    print(f"[{name}] done in {seconds:.1f} s -> {out}", flush=True)
    return result


def run(run_dir: Path, cfg: CohortConfig, codes: TaskCodes = TaskCodes()) -> dict:
    """The whole local job; returns the summary it also writes to run_dir/summary.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    gen = _step(run_dir, "cohort", cfg.to_dict(), lambda out: generate_cohort(out, cfg))
    required = required_code_patterns(codes, ALL_TASKS)
    ing = _step(run_dir, "ingested", {"src": "cohort", "codes": codes.__dict__, "cohort": gen},
                lambda out: _slim_manifest(ingest(run_dir / "cohort", out, anchor_code=codes.anchor,
                                                  required_codes=required)))
    lab = _step(run_dir, "labels", {"codes": codes.__dict__, "ingested": ing},
                lambda out: label_dataset(run_dir / "ingested", out, codes=codes))
    feats = _step(run_dir, "features", {"labels": _dir_digest(run_dir / "labels"), "tasks": FEATURE_TASKS},
                  lambda out: _featurize(run_dir / "ingested", run_dir / "labels", out))
    summary = {"cohort": gen, "ingest": ing, "labels": lab, "features": feats}
    write_json(run_dir / "summary.json", summary)
    return summary


def _dir_digest(path: Path) -> str:
    """Content hash of a step's output folder: a downstream step reruns only when its input's bytes changed."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def _featurize(meds_dir: Path, labels_dir: Path, out: Path) -> dict:
    """FIDDLE-style features per binary task, fitted on its train split (one store per task)."""
    with atomic_dir(out) as tmp:
        return {task: featurize_task(meds_dir, pl.read_parquet(labels_dir / "samples" / f"{task}.parquet"),
                                     tmp / task, T=BINARY_TASKS[task][1])
                for task in FEATURE_TASKS}


def _slim_manifest(manifest: dict) -> dict:
    """What the run summary keeps of ingestion's manifest (the full one, with file hashes, stays on disk)."""
    keep = ("n_events", "n_subjects", "n_shards", "n_images", "n_anchor_events", "n_codes")
    report = manifest.get("validation", manifest)
    return {k: report[k] for k in keep if k in report}


def format_summary(summary: dict) -> str:
    """A short table: per task, samples and prevalence (all / held-out) and the oracle AUROC / AUPR (held-out)."""
    lines = ["", f"cohort: {summary['cohort']['n_stays']} stays, {summary['cohort']['n_patients']} patients, "
             f"{summary['cohort']['n_events']:,} events, {summary['cohort']['n_images']} images",
             f"{'task':<12}{'n':>7}{'prev':>8}{'n_test':>8}{'prev_test':>10}{'oracle AUROC':>14}{'oracle AUPR':>13}"]
    for task, m in summary["labels"]["tasks"].items():
        if task == "phenotypes":
            a, h = m["macro"]["all"], m["macro"]["held_out"]
            lines.append(f"{'phenotypes':<12}{'':>7}{a['prevalence_mean']:>8.3f}{'':>8}{h['prevalence_mean']:>10.3f}"
                         f"{h['oracle_auroc_macro'] or float('nan'):>14.3f}{'(macro)':>13}")
        elif task == "diagnoses":
            lines.append(f"{'diagnoses':<12}{m['n']:>7}  {m['n_groups']} ICD groups, "
                         f"{m['mean_codes_per_sample']:.1f} per sample")
        else:
            a, h = m["all"], m["held_out"]
            lines.append(f"{task:<12}{a['n']:>7}{a['prevalence']:>8.3f}{h['n']:>8}{h['prevalence']:>10.3f}"
                         f"{h.get('oracle_auroc', float('nan')):>14.3f}{h.get('oracle_aupr', float('nan')):>13.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the whole local job on the embedded synthetic cohort.")
    p.add_argument("--run-dir", default="runs/default")
    p.add_argument("--n-stays", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--fresh", action="store_true", help="delete the run folder first")
    a = p.parse_args(argv)
    run_dir = Path(a.run_dir)
    if a.fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    t0 = time.perf_counter()
    try:
        summary = run(run_dir, CohortConfig(n_stays=a.n_stays, seed=a.seed, workers=a.workers))
    except (DataValidationError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    for task, f in summary["features"].items():
        print(f"features {task:<10} {f['n_samples']} samples, {f['n_features']}")
    print(f"\nrun folder: {run_dir.resolve()}  (summary.json)  total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
