"""Throughput of the embedding encoders on this CPU: notes/s, images/s and achieved FLOP/s vs a measured peak.

    python benchmarks/bench_embed.py [--n-notes 64] [--max-length 256] [--n-images 64] [--size 128] [--threads 2]

FLOPs per batch are counted by torch.utils.flop_counter (exact for matmul/conv, which dominate); the peak is an fp32
matmul measured in the same run, because on a shared 2-core machine the achievable peak moves with load.
Inputs are synthetic (filler text of full length, random pixels): no patient data.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
from torch.utils.flop_counter import FlopCounterMode


def matmul_peak(n: int = 2048, reps: int = 5) -> float:
    """Best-of fp32 matmul FLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def timed(fn, reps: int) -> tuple[float, float]:
    """(best seconds, FLOPs) of fn() over `reps` runs after one warm-up, FLOPs counted on the warm-up."""
    with FlopCounterMode(display=False) as fc:
        fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best, float(fc.get_total_flops())


def bench_notes(n: int, max_length: int, batch: int) -> dict:
    """Full-length texts through NoteEncoder.encode (tokenisation included)."""
    from model.embed.config import NoteEncoderConfig
    from model.embed.notes import NoteEncoder

    enc = NoteEncoder(NoteEncoderConfig(max_length=max_length, batch_size=batch, progress=False))
    texts = [f"Nursing: vitals stable overnight, plan {i} " * (max_length // 6) for i in range(n)]

    def run() -> None:
        for i in range(0, n, batch):
            enc.encode(texts[i:i + batch])

    sec, flops = timed(run, 2)
    return {"model_id": enc.model_id, "n": n, "max_length": max_length, "items_per_s": n / sec,
            "flop_per_s": flops / sec, "gflop_per_item": flops / n / 1e9}


def bench_images(n: int, size: int, batch: int, bf16: bool) -> dict:
    """Random [n, 1, size, size] images through the ResNet-34 trunk (preprocessing excluded)."""
    from model.embed.cxr_encoder import CxrEncoder

    model = CxrEncoder(14).eval()
    x = torch.rand(n, 1, size, size)

    @torch.inference_mode()
    def run() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for i in range(0, n, batch):
                model.features(x[i:i + batch])

    sec, flops = timed(run, 2)
    return {"n": n, "size": size, "bf16": bf16, "items_per_s": n / sec, "flop_per_s": flops / sec,
            "gflop_per_item": flops / n / 1e9}


def main() -> None:
    """Run the benchmark and print one JSON line plus a readable summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-notes", type=int, default=64)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--n-images", type=int, default=64)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(a.threads)
    peak_before = matmul_peak()
    notes = bench_notes(a.n_notes, a.max_length, a.batch)
    images = bench_images(a.n_images, a.size, a.batch, bf16=False)
    images_bf16 = bench_images(a.n_images, a.size, a.batch, bf16=True)
    peak = max(peak_before, matmul_peak())
    out = {"threads": a.threads, "matmul_peak_gflop_per_s": peak / 1e9, "notes": notes, "images_fp32": images,
           "images_bf16": images_bf16}
    print(json.dumps(out, default=float))
    for name, r in (("notes", notes), ("images fp32", images), ("images bf16", images_bf16)):
        print(f"{name:12s} {r['items_per_s']:8.1f} /s  {r['flop_per_s'] / 1e9:7.1f} GFLOP/s "
              f"({100 * r['flop_per_s'] / peak:5.1f}% of fp32 matmul peak {peak / 1e9:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
