"""Featurizer benchmarks: wall time and peak RSS, each measured on a fresh process.

    python benchmarks/bench_featurize.py fiddle [--runs 3]            # FIDDLE format, 200 stays, ~65,000 rows, T=4
    python benchmarks/bench_featurize.py meds [--root DIR] [--n-stays 20000]   # MEDS cohort, T=48, fit + transform

Targets (issue 3): fiddle <= 1.5 s and <= 0.3 GB (FIDDLE itself: 75 s, 0.9 GB); meds at 20,000 stays
(>= 20 million events) <= 2 minutes and <= 4 GB on 2 cores. The meds benchmark generates the synthetic cohort
with `model.data.synthetic.generate_cohort` when --root does not exist yet (generation is not timed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._measure import measure, python_cmd  # noqa: E402


def bench_fiddle(runs: int, n_ids: int = 200, T: float = 4.0) -> dict:
    """Time the drop-in command on a generated FIDDLE-format table."""
    from model.features.fiddle_synth import write_fiddle_csv

    with tempfile.TemporaryDirectory() as tmp:
        data, pop = write_fiddle_csv(tmp, n_ids=n_ids, T=T)
        n_rows = sum(1 for _ in data.open()) - 1
        results = []
        for k in range(runs):
            m = measure(python_cmd("model.features.cli", f"--data_fname={data}", f"--population_fname={pop}",
                                   f"--output_dir={tmp}/out{k}", f"--T={T}", "--dt=1.0", "--theta_1=0.001",
                                   "--theta_2=0.001", "--theta_freq=1", "--stats_functions", "min", "max", "mean"))
            if m.returncode != 0:
                raise SystemExit(f"featurizer failed: {m.stderr.strip()}")
            results.append(m)
        summary = json.loads(results[-1].stdout.strip().splitlines()[-1])
    walls = [m.wall_s for m in results]
    return {"benchmark": "fiddle", "ids": n_ids, "rows": n_rows, "T": T, "runs": runs,
            "wall_s_median": round(statistics.median(walls), 3), "wall_s_max": round(max(walls), 3),
            "peak_rss_gb": round(max(m.peak_rss_mb for m in results) / 1024, 3),
            "rows_per_s": round(n_rows / statistics.median(walls)), "output_shapes": summary}


def meds_samples(root: Path, T: float):  # noqa: ANN201 - polars frame
    """One sample per ICU stay: anchor = ICU admission, prediction = anchor + T h; with the subject's split."""
    import polars as pl

    adm = (pl.scan_parquet(str(root / "data" / "**" / "*.parquet"))
           .filter(pl.col("code").str.starts_with("ICU_ADMISSION")).select("subject_id", anchor_time="time").collect())
    smp = adm.with_columns(prediction_time=pl.col("anchor_time") + pl.duration(microseconds=int(T * 3.6e9)))
    return smp.join(pl.read_parquet(root / "metadata" / "subject_splits.parquet"), on="subject_id", how="left")


def run_meds(root: Path, out: Path, T: float) -> dict:
    """Fit on the train split and transform every split (what the timed child process does)."""
    import polars as pl

    from model.features.config import FeaturizerConfig
    from model.features.meds_featurize import fit_meds, transform_meds

    start = time.perf_counter()
    smp = meds_samples(root, T)
    cfg = FeaturizerConfig(T=T, dt=1.0, extend_outer_bins=True)
    fitted = fit_meds(root, smp.filter(pl.col("split") == "train"), cfg, workdir=out)
    t_fit = time.perf_counter() - start
    fitted.save(out / "featurizer.json")
    shapes = {}
    for split in ("train", "tuning", "held_out"):
        m = transform_meds(fitted, root, smp.filter(pl.col("split") == split), out / split, overwrite=True)
        shapes[split] = {"n": m["n_samples"], **{k: v["n_features"] for k, v in m["tables"].items()}}
    return {"fit_s": round(t_fit, 2), "total_s": round(time.perf_counter() - start, 2), "samples": smp.height,
            "splits": shapes}


def bench_meds(root: Path, n_stays: int, T: float) -> dict:
    """Time fit + transform of a MEDS cohort in a fresh process."""
    import polars as pl

    if not (root / "data").is_dir():
        from model.data.synthetic import generate_cohort
        from model.data.synthetic_config import CohortConfig

        print(f"generating {n_stays} stays into {root} (not timed) ...", file=sys.stderr)
        generate_cohort(root, CohortConfig(n_stays=n_stays, seed=0, image_rate=0.0, workers=2))
    n_events = pl.scan_parquet(str(root / "data" / "**" / "*.parquet")).select(pl.len()).collect().item()
    n_shards = len(list((root / "data").rglob("*.parquet")))
    with tempfile.TemporaryDirectory() as tmp:
        m = measure([sys.executable, __file__, "_meds_child", str(root), tmp, str(T)])
    if m.returncode != 0:
        raise SystemExit(f"featurizer failed: {m.stderr.strip()[-2000:]}")
    child = json.loads(m.stdout.strip().splitlines()[-1])
    return {"benchmark": "meds", "events": n_events, "shards": n_shards, "T": T, "wall_s": round(m.wall_s, 2),
            "peak_rss_gb": round(m.peak_rss_mb / 1024, 3), "events_per_s": round(n_events / m.wall_s), **child}


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line of figures per benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="which", required=True)
    f = sub.add_parser("fiddle")
    f.add_argument("--runs", type=int, default=3)
    f.add_argument("--ids", type=int, default=200)
    m = sub.add_parser("meds")
    m.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "autofm-bench-meds-20k")
    m.add_argument("--n-stays", type=int, default=20000)
    m.add_argument("--T", type=float, default=48.0)
    c = sub.add_parser("_meds_child")
    c.add_argument("root", type=Path)
    c.add_argument("out", type=Path)
    c.add_argument("T", type=float)
    args = p.parse_args(argv)
    if args.which == "fiddle":
        print(json.dumps(bench_fiddle(args.runs, args.ids)))
    elif args.which == "meds":
        print(json.dumps(bench_meds(args.root, args.n_stays, args.T)))
    else:
        print(json.dumps(run_meds(args.root, args.out, args.T)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
