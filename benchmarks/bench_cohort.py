"""Benchmark: generate and label a synthetic cohort at scale; prints wall time and peak memory per phase.

Each phase runs as its own process tree; peak RSS is sampled over the whole tree (workers included).
Usage: .venv/bin/python benchmarks/bench_cohort.py [--n-stays 100000] [--workers 2] [--repeats 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def run_measured(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS of the process tree in GiB) of a command; raises if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, peak / 2**30


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-stays", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--out", default=None, help="work folder (default: a temporary folder, removed afterwards)")
    a = p.parse_args()
    work = Path(a.out or tempfile.mkdtemp(prefix="bench_cohort_"))
    py = sys.executable
    rows = {"generate": [], "label": []}
    for r in range(a.repeats):
        cohort, labels = work / f"cohort{r}", work / f"labels{r}"
        rows["generate"].append(run_measured([py, "-m", "model.data.synthetic", str(cohort), "--n-stays",
                                              str(a.n_stays), "--workers", str(a.workers), "--overwrite"]))
        code = ("import sys; from model.data.labeling import label_dataset; "
                "label_dataset(sys.argv[1], sys.argv[2], overwrite=True)")
        rows["label"].append(run_measured([py, "-c", code, str(cohort), str(labels)]))
    gen = json.loads((work / "cohort0" / "metadata" / "generation.json").read_text())["summary"]
    print(f"cohort: {gen['n_stays']:,} stays, {gen['n_patients']:,} patients, {gen['n_events']:,} events, "
          f"{gen['n_images']:,} images, {gen['n_shards']} shards; workers={a.workers}, repeats={a.repeats}")
    print(f"{'phase':<10}{'wall s (median)':>17}{'peak RSS GiB (max)':>20}{'events/s':>14}")
    for phase, vals in rows.items():
        wall = statistics.median(v[0] for v in vals)
        rss = max(v[1] for v in vals)
        print(f"{phase:<10}{wall:>17.1f}{rss:>20.2f}{gen['n_events'] / wall:>14,.0f}")
    if a.out is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
