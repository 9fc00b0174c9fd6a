"""Benchmark: does bf16 autocast change what the search learns? fp32 vs bf16 supernets on the synthetic cohort.

For each task and seed, the same search (same cohort, seed, batches and settings; only ``bf16`` differs) runs
twice; the searched supernets (best tuning epoch) are scored on the held-out split. Prints each pair's AUROCs,
their difference, and the mean difference over seeds with a paired bootstrap CI (same resamples for both models),
next to the oracle (a pair near chance would agree without meaning anything). The throughput side of bf16 is
``bench_search_step.py``.

    .venv/bin/python benchmarks/bench_search_bf16.py --n-stays 4000 --tasks mortality arf --seeds 0 1 2 \
        --d-e 256 --epochs 8 --work /tmp/bf16
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the experiments package (cohort helpers)

from experiments.autofm_cohort import TASK_HOURS, cohort_dirs, task_inputs  # noqa: E402
from model.fusion.evaluate import bootstrap_paired_diff  # noqa: E402
from model.metrics import binary_metrics  # noqa: E402
from model.search.evaluate import evaluate  # noqa: E402
from model.search.task_runner import CohortSearchConfig, search_cohort  # noqa: E402


def held_out(net: torch.nn.Module, cohort, split: str = "held_out") -> np.ndarray:
    """Scores of ``split`` (evaluated in fp32 whatever the training precision)."""
    idx = cohort.indices(split)
    return evaluate(net, (cohort.batch(idx[i:i + 256]) for i in range(0, len(idx), 256)),
                    net.config.task).scores[:, 0]


def main() -> int:
    """Parse arguments, run the pairs, print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-stays", type=int, default=4000)
    p.add_argument("--cohort-seed", type=int, default=0)
    p.add_argument("--tasks", nargs="+", default=["mortality", "arf"], choices=sorted(TASK_HOURS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="search seeds (same cohort)")
    p.add_argument("--d-e", type=int, default=256)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3, help="weight learning rate (architecture: lr / 10)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--work", required=True, help="work folder (cohort, features, embeddings reused when present)")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    work = Path(a.work)
    meds, labels = cohort_dirs(work, a.n_stays, a.cohort_seed, image_size=32)
    base = replace(CohortSearchConfig(), d_e=a.d_e, epochs=a.epochs, w_lr=a.lr, arch_lr=a.lr / 10, metric="auroc",
                   baselines=False, embed_dropout=0.1)  # the setting of the recorded fp32 / bf16 figures
    print(f"config: {json.dumps(asdict(base))}", flush=True)
    out: dict = {"args": vars(a), "tasks": {}}
    for task in a.tasks:
        cohort = task_inputs(meds, labels, task, work).cohort()
        test = cohort.indices("held_out")
        y = cohort.labels[test].astype(float)
        oracle = binary_metrics(y, cohort.oracle[test])["auroc"]
        print(f"\n=== {task}: held-out {len(test)} ({int(y.sum())} positive), oracle AUROC {oracle:.4f}", flush=True)
        pairs, scores = [], {"fp32": [], "bf16": []}
        for seed in a.seeds:
            row: dict = {"seed": seed}
            for prec in ("fp32", "bf16"):
                t = time.perf_counter()
                run = search_cohort(cohort, replace(base, seed=seed, bf16=prec == "bf16"))
                s = held_out(run.supernet, cohort)
                scores[prec].append(s)
                row[prec] = {"auroc": binary_metrics(y, s)["auroc"], "best_epoch": run.log["best_epoch"],
                             "tuning": run.log["best_score"], "search_s": time.perf_counter() - t}
            row["diff"] = row["bf16"]["auroc"] - row["fp32"]["auroc"]
            print(f"  seed {seed}: fp32 {row['fp32']['auroc']:.4f} (epoch {row['fp32']['best_epoch']}, "
                  f"{row['fp32']['search_s']:.0f} s)  bf16 {row['bf16']['auroc']:.4f} (epoch "
                  f"{row['bf16']['best_epoch']}, {row['bf16']['search_s']:.0f} s)  diff {row['diff']:+.4f}", flush=True)
            pairs.append(row)
        # Seed-mean scores of each precision, paired over the same held-out resamples.
        diff = bootstrap_paired_diff(y[:, None], [np.mean(scores["bf16"], 0)[:, None]],
                                     [np.mean(scores["fp32"], 0)[:, None]], n_boot=a.n_boot)
        mean_diff = statistics.mean(r["diff"] for r in pairs)
        print(f"  mean over seeds: fp32 {statistics.mean(r['fp32']['auroc'] for r in pairs):.4f}  bf16 "
              f"{statistics.mean(r['bf16']['auroc'] for r in pairs):.4f}  mean diff {mean_diff:+.4f}; "
              f"seed-mean-score diff {diff[0]:+.4f} [95% CI {diff[1]:+.4f}, {diff[2]:+.4f}]", flush=True)
        out["tasks"][task] = {"oracle": oracle, "pairs": pairs, "mean_diff": mean_diff,
                              "ensemble_diff_ci": list(diff)}
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
