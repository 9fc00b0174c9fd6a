"""Time the synthetic renderers: per chest X-ray (render, PNG, DICOM) and per note, by category.

Run by hand (not a test): `.venv/bin/python benchmarks/bench_renderers.py [--images N] [--notes N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from model.data.render_cxr import FINDINGS, render_cxr, with_no_finding, write_dicom, write_png
from model.data.render_notes import NOTE_CATEGORIES, NOTE_FACTS, compose_note


def _per_call_us(fn: Callable[[int], object], n: int) -> float:
    """Mean CPU time of `fn(i)` over i in range(n), in microseconds (CPU, not wall: the 2 cores here are shared)."""
    start = time.process_time()
    for i in range(n):
        fn(i)
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    """Print per-image and per-note timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=500, help="images to render per setting")
    parser.add_argument("--notes", type=int, default=5000, help="notes to compose per category")
    parser.add_argument("--size", type=int, default=128, help="image size in pixels")
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    none = with_no_finding(np.zeros(len(FINDINGS), dtype=bool))
    every = with_no_finding(np.ones(len(FINDINGS), dtype=bool))
    mixed = [with_no_finding(rng.random(len(FINDINGS)) < 0.2) for _ in range(args.images)]
    print(f"chest X-ray {args.size}x{args.size}, per image:")
    for label, pick in (("no findings", lambda i: none), ("all findings", lambda i: every),
                        ("20% each finding", lambda i: mixed[i])):
        ms = _per_call_us(lambda i: render_cxr(pick(i), rng, size=args.size), args.images) / 1e3
        print(f"  render, {label:17s} {ms:6.2f} ms")
    image = render_cxr(mixed[0], rng, size=args.size)
    with tempfile.TemporaryDirectory() as tmp:
        png = _per_call_us(lambda i: write_png(Path(tmp) / f"{i}.png", image), args.images)
        dcm = _per_call_us(lambda i: write_dicom(Path(tmp) / f"{i}.dcm", image, seed=i), args.images)
    print(f"  write_png                {png / 1e3:6.2f} ms\n  write_dicom              {dcm / 1e3:6.2f} ms")

    print("note, per note (30% of facts true):")
    facts = [frozenset(f for f in NOTE_FACTS if rng.random() < 0.3) for _ in range(args.notes)]
    as_dicts = [{f: f in fs for f in NOTE_FACTS} for fs in facts]
    for category in NOTE_CATEGORIES:
        by_set = _per_call_us(lambda i: compose_note(category, facts[i], rng, age=70, sex="F"), args.notes)
        by_dict = _per_call_us(lambda i: compose_note(category, as_dicts[i], rng, age=70, sex="F"), args.notes)
        print(f"  {category:12s} {by_set:6.1f} us (frozenset)  {by_dict:6.1f} us (dict)")


if __name__ == "__main__":
    main()
