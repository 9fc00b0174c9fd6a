"""Where the synthetic cohort's signal lives: held-out AUROC of simple per-modality models, their late fusion, and
the oracle, per task (a check of the generator's design, not of the product's models).

Usage: .venv/bin/python benchmarks/bench_modality_signal.py [--n-stays 8000] [--seed 0] [--tasks mortality arf shock]
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import polars as pl

from model.data.labeling import label_dataset
from model.data.signal_check import modality_comparison
from model.data.synthetic import generate_cohort
from model.data.synthetic_config import CohortConfig


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-stays", type=int, default=8000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tasks", nargs="+", default=["mortality", "arf", "shock"])
    a = p.parse_args()
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as d:
        root, labels = Path(d) / "cohort", Path(d) / "labels"
        generate_cohort(root, CohortConfig(n_stays=a.n_stays, seed=a.seed, image_size=64, workers=2))
        label_dataset(root, labels, tasks=tuple(a.tasks))
        cols = ["structured", "notes", "image", "fusion", "oracle"]
        print(f"n_stays={a.n_stays} seed={a.seed}; held-out AUROC (logistic regression per modality, stacked fusion)")
        print(f"{'task':<11}" + "".join(f"{c:>12}" for c in cols) + f"{'n_test':>8}")
        for task in a.tasks:
            s = pl.read_parquet(labels / "samples" / f"{task}.parquet")
            r = modality_comparison(root, s)
            n_test = int((s["split"] == "held_out").sum())
            print(f"{task:<11}" + "".join(f"{r[c]:>12.3f}" for c in cols) + f"{n_test:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
