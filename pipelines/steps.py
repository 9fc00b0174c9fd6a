"""The pipeline's steps as plain functions: what each Kubeflow component and each DVC stage calls.

Each step reads its inputs, calls one library entry point, writes its output folder atomically and returns a small
JSON-able record (counts, hashes) that becomes the artifact's metadata. No KFP import here: components are thin
wrappers over these functions, and `python -m pipelines.cli STEP ...` runs the same functions for DVC.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from model.data.ingest import ingest
from model.data.labeling import label_dataset
from model.data.synthetic import generate_cohort
from model.data.synthetic_config import CohortConfig
from model.data.tasks import BINARY_TASKS, TaskCodes, required_code_patterns
from model.errors import DataValidationError
from model.features.task_features import featurize_task
from model.io_atomic import sha256_file, write_json


def dir_digest(path: str | Path) -> str:
    """SHA-256 over a folder's relative paths and file contents (a manifest.json with file hashes stands in)."""
    path = Path(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def samples_path(labels_dir: str | Path, task: str) -> Path:
    """Where the labeling step put a task's samples."""
    p = Path(labels_dir) / "samples" / f"{task}.parquet"
    if not p.is_file():
        raise DataValidationError(f"no samples for task '{task}'", file=str(p), field="tasks",
                                  expected="a task the labeling step was run with")
    return p


def generate_step(out: str | Path, *, n_stays: int = 2000, seed: int = 0, workers: int = 1) -> dict[str, Any]:
    """The embedded synthetic cohort (MEDS), used when no dataset URI is given."""
    info = generate_cohort(out, CohortConfig(n_stays=n_stays, seed=seed, workers=workers))
    keep = ("n_stays", "n_patients", "n_events", "n_images", "n_shards")
    return {k: info[k] for k in keep if k in info} | {"sha256": dir_digest(out)}


def generate_or_skip(dataset_uri: str, out: str | Path, *, n_stays: int = 2000, seed: int = 0,
                     workers: int = 1) -> dict[str, Any]:
    """The synthetic cohort when dataset_uri is empty; otherwise only out/SOURCE.json naming the URI."""
    if not dataset_uri:
        return generate_step(out, n_stays=n_stays, seed=seed, workers=workers)
    Path(out).mkdir(parents=True, exist_ok=True)
    write_json(Path(out) / "SOURCE.json", {"dataset_uri": dataset_uri})
    return {"skipped": True, "dataset_uri": dataset_uri}


def _stage_s3(uri: str, staging: Path) -> Path:
    """Download an s3:// file or prefix into staging (each object checksum-verified); return the local path."""
    from model.storage import ArtifactStore, parse_s3_uri
    from model.storage.store import StoreConfig

    bucket, key = parse_s3_uri(uri)
    store = ArtifactStore(StoreConfig.from_env(bucket))
    keys = store.list_keys(key)
    if keys == [key]:
        store.download_file(key, staging / Path(key).name)
        return staging / Path(key).name
    store.download_prefix(key, staging)
    return staging


def ingest_step(src: str, out: str | Path, *, fmt: str = "meds", population: str = "",
                anchor_code: str = "ICU_ADMISSION", tasks: tuple[str, ...] = ("mortality",)) -> dict[str, Any]:
    """Validate and copy a MEDS root or FIDDLE table from a local path, file:// or s3:// URI."""
    if not src:
        raise DataValidationError("empty dataset URI", field="dataset_uri", expected="a path, file:// or s3:// URI")
    codes = TaskCodes(anchor=anchor_code)
    with tempfile.TemporaryDirectory(prefix="autofm-stage-") as staging:
        local_src = _stage_s3(src, Path(staging) / "src") if src.startswith("s3://") else src
        pop = population or None
        if pop and pop.startswith("s3://"):
            pop = str(_stage_s3(pop, Path(staging) / "population"))
        manifest = ingest(local_src, out, fmt=fmt, population=pop, anchor_code=anchor_code,
                          required_codes=required_code_patterns(codes, tuple(tasks)) if fmt == "meds" else None)
    report = manifest.get("validation", manifest)
    keep = ("n_events", "n_subjects", "n_shards", "n_images", "n_anchor_events", "n_codes")
    return {"source": src, "format": fmt, **{k: report[k] for k in keep if k in report},
            "sha256": sha256_file(Path(out) / "manifest.json")}


def label_step(meds_dir: str | Path, out: str | Path, *, tasks: tuple[str, ...],
               anchor_code: str = "ICU_ADMISSION") -> dict[str, Any]:
    """Labels, samples and persisted splits for the binary tasks."""
    summary = label_dataset(meds_dir, out, tasks=tuple(tasks), codes=TaskCodes(anchor=anchor_code))
    per = {t: {"n": m["all"]["n"], "prevalence": m["all"]["prevalence"],
               "oracle_auroc_held_out": m["held_out"].get("oracle_auroc")} for t, m in summary["tasks"].items()}
    return {"n_subjects": summary["n_subjects"], "tasks": per, "sha256": dir_digest(out)}


def featurize_step(meds_dir: str | Path, labels_dir: str | Path, task: str, out: str | Path, *,
                   T: int = 0) -> dict[str, Any]:
    """FIDDLE-style features of one task, fitted on its train split. T=0 takes the task's own window."""
    if task not in BINARY_TASKS:
        raise DataValidationError(f"unknown task '{task}'", field="task", expected=f"one of {sorted(BINARY_TASKS)}")
    task_T = BINARY_TASKS[task][1]
    if T not in (0, task_T):
        raise DataValidationError(f"T={T} h but task '{task}' predicts at anchor + {task_T} h", field="T",
                                  expected=f"0 or {task_T}")
    samples = pl.read_parquet(samples_path(labels_dir, task))
    info = featurize_task(meds_dir, samples, out, T=task_T)
    return {"task": task, "T": task_T, "n_samples": info["n_samples"], "n_features": info["n_features"],
            "featurizer_sha256": info["featurizer_sha256"], "sha256": sha256_file(Path(out) / "manifest.json")}


def profile_step(meds_dir: str | Path, labels_dir: str | Path, task: str, out: str | Path) -> dict[str, Any]:
    """The reference data profile of a task's samples, for monitoring."""
    from monitoring.reference_profile import build_reference_profile

    stats = build_reference_profile(meds_dir, samples_path(labels_dir, task), out)
    return {"task": task, "n_samples": stats["n_samples"], "n_reference": stats["n_reference"],
            "presence_rate": stats["presence_rate"], "sha256": dir_digest(out)}


def read_json(path: str | Path) -> dict:
    """A JSON file, or a clear error naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataValidationError(f"cannot read JSON: {e}", file=str(path)) from e


def summarize_step(eval_dirs: list[str | Path], out: str | Path) -> dict[str, Any]:
    """Collect every task's evaluation into out/summary.json (model vs oracle, genotype, report paths)."""
    tasks = {}
    for d in eval_dirs:
        rec = read_json(Path(d) / "record.json")
        tasks[rec["task"]] = rec | {"report": str(Path(d) / rec.get("report", "report.html")),
                                    "evaluation_dir": str(d)}
    summary = {"tasks": dict(sorted(tasks.items()))}
    Path(out).mkdir(parents=True, exist_ok=True)
    write_json(Path(out) / "summary.json", summary)
    return summary
