"""Search-step throughput of the AutoFM supernet at the paper's ARF sizes, on CPU.

Prints, in one run: the machine's fp32 and bf16 matmul peaks (measured before and after), then per
(order, precision) the median time of a full search step (architecture step + weight step, batch 64), samples/s,
GFLOP per step (counted with torch's FlopCounterMode; the sparse embedding-bag is not a matmul and is not
counted), achieved GFLOP/s and the worker's peak RSS. Each configuration runs in its own process so that peak
RSS is its own. Optionally (--quality) trains the same planted task in fp32 and bf16 and prints both AUROCs.

    .venv/bin/python benchmarks/bench_search_step.py --threads 2 --repeats 7
    .venv/bin/python benchmarks/bench_search_step.py --quality
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The authors' code on this machine kind (../shared/reference/autofm-reference-code.md), for the ratio column.
REFERENCE_SAMPLES_PER_S = {"first": 76.0, "second": 26.0}
ROOT = Path(__file__).resolve().parents[1]


def matmul_peak(dtype_name: str, n: int = 2048, repeats: int = 5) -> float:
    """Median GFLOP/s of an n x n matmul."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def worker(order: str, precision: str, repeats: int, threads: int, density: float) -> dict:
    """Time search steps of one configuration (run in a child process)."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from model.search.bilevel import BilevelSearcher, SearchConfig
    from model.search.spec import SearchSpaceConfig, paper_modalities
    from model.search.supernet import Supernet
    from model.search.toy_data import random_cohort

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = SearchSpaceConfig(paper_modalities(4452, 680, 96, 768), d_e=256)
    net = Supernet(cfg)
    cohort = random_cohort(cfg, 512, 12, density=density, seed=0)
    batches = [cohort.batch(np.arange(i, i + 64)) for i in range(0, 512, 64)]
    searcher = BilevelSearcher(net, SearchConfig(order=order, bf16=precision == "bf16"))
    arch_t, weight_t = [], []
    for i in range(repeats + 2):
        tb, ab = batches[(2 * i) % 8], batches[(2 * i + 1) % 8]
        t0 = time.perf_counter()
        searcher.arch_step(tb, ab)
        t1 = time.perf_counter()
        searcher.weight_step(tb)
        t2 = time.perf_counter()
        if i >= 2:  # warm-up steps excluded
            arch_t.append(t1 - t0)
            weight_t.append(t2 - t1)
    with FlopCounterMode(display=False) as fc:
        searcher.arch_step(batches[0], batches[1])
        searcher.weight_step(batches[0])
    step = [a + w for a, w in zip(arch_t, weight_t)]
    med = statistics.median(step)
    gflop = fc.get_total_flops() / 1e9
    nnz = batches[0].inputs["events_cont"].indices.numel() + batches[0].inputs["events_disc"].indices.numel()
    return {"order": order, "precision": precision, "step_s": med, "arch_s": statistics.median(arch_t),
            "weight_s": statistics.median(weight_t), "samples_per_s": 64 / med, "gflop_per_step": gflop,
            "achieved_gflop_s": gflop / med, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "nnz_per_batch": nnz, "threads": threads, "steps_timed": len(step)}


def quality(threads: int, epochs: int, n: int, n_signal: int | None, seeds: list[int]) -> dict:
    """Same planted task, same seed, fp32 vs bf16 first-order search: held-out AUROC of each, per seed.

    The oracle's AUROC (the planted probabilities) is printed too: a run near 0.5 has not learned the task, and
    then agreement between the two precisions says nothing.
    """
    import numpy as np
    import torch

    from model.metrics import auroc
    from model.search.bilevel import SearchConfig
    from model.search.evaluate import evaluate
    from model.search.search_loop import indexed_search_data, run_search
    from model.search.spec import SearchSpaceConfig, paper_modalities
    from model.search.supernet import Supernet
    from model.search.toy_data import planted_cohort

    torch.set_num_threads(threads)
    cfg = SearchSpaceConfig(paper_modalities(4452, 680, 96, 768), d_e=256)
    runs = []
    for seed in seeds:
        cohort = planted_cohort(cfg, n, 12, density=0.03, seed=seed, n_signal=n_signal)
        idx = np.arange(n)
        tr, va, te = idx[: int(0.7 * n)], idx[int(0.7 * n): int(0.85 * n)], idx[int(0.85 * n):]
        run = {"seed": seed, "oracle_test_auroc": auroc(cohort.labels[te, 0], cohort.prob[te])}
        for precision in ("fp32", "bf16"):
            torch.manual_seed(seed)
            net = Supernet(cfg)
            sc = SearchConfig(epochs=epochs, w_lr=1e-3, arch_lr=3e-4, bf16=precision == "bf16", seed=seed)
            data = indexed_search_data(cohort.batch, tr, va, 64, seed=seed)
            t = time.perf_counter()
            run_search(net, data, sc, metric="auroc")
            test = (cohort.batch(te[i:i + 128]) for i in range(0, len(te), 128))
            run[precision] = {"test_auroc": evaluate(net, test, cfg.task).metrics["auroc"],
                              "search_s": time.perf_counter() - t}
        run["auroc_diff"] = run["bf16"]["test_auroc"] - run["fp32"]["test_auroc"]
        print(json.dumps(run), flush=True)
        runs.append(run)
    diffs = [r["auroc_diff"] for r in runs]
    return {"n": n, "epochs": epochs, "n_signal": n_signal, "runs": runs,
            "mean_fp32": statistics.mean(r["fp32"]["test_auroc"] for r in runs),
            "mean_bf16": statistics.mean(r["bf16"]["test_auroc"] for r in runs),
            "mean_diff": statistics.mean(diffs), "max_abs_diff": max(abs(d) for d in diffs)}


def main() -> None:
    """Parse arguments, run the workers, print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", default="first,second")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--density", type=float, default=0.03)
    ap.add_argument("--quality", action="store_true", help="fp32 vs bf16 AUROC on a planted task instead")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--n-signal", type=int, default=None, help="planted task: signal features (default 5%%)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="planted task: one cohort + search per seed")
    ap.add_argument("--worker", nargs=2, metavar=("ORDER", "PRECISION"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker, args.repeats, args.threads, args.density)))
        return
    import torch

    torch.set_num_threads(args.threads)
    if args.quality:
        print(json.dumps(quality(args.threads, args.epochs, args.n, args.n_signal, args.seeds), indent=2))
        return
    peaks_before = {d: matmul_peak(d) for d in ("float32", "bfloat16")}
    rows = []
    for order in args.orders.split(","):
        for precision in args.precisions.split(","):
            cmd = [sys.executable, __file__, "--worker", order, precision, "--repeats", str(args.repeats),
                   "--threads", str(args.threads), "--density", str(args.density)]
            res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    peaks_after = {d: matmul_peak(d) for d in ("float32", "bfloat16")}
    print(f"threads={args.threads}  matmul peak GFLOP/s (2048^2, median of 5), before/after: "
          f"fp32 {peaks_before['float32']:.0f}/{peaks_after['float32']:.0f}  "
          f"bf16 {peaks_before['bfloat16']:.0f}/{peaks_after['bfloat16']:.0f}")
    print(f"{'order':7}{'prec':6}{'step s':>8}{'arch s':>8}{'wt s':>7}{'samp/s':>8}{'x ref':>7}{'GFLOP':>7}"
          f"{'GFLOP/s':>9}{'RSS MiB':>9}")
    for r in rows:
        ratio = r["samples_per_s"] / REFERENCE_SAMPLES_PER_S[r["order"]]
        print(f"{r['order']:7}{r['precision']:6}{r['step_s']:8.3f}{r['arch_s']:8.3f}{r['weight_s']:7.3f}"
              f"{r['samples_per_s']:8.1f}{ratio:7.2f}{r['gflop_per_step']:7.1f}{r['achieved_gflop_s']:9.1f}"
              f"{r['peak_rss_mib']:9.0f}")
    print(json.dumps({"peaks_before": peaks_before, "peaks_after": peaks_after, "rows": rows}))


if __name__ == "__main__":
    main()
