"""Shared steps of the AutoFM ablations (the paper's Tables 5-7): cached cohort, one cached search + pruning per
(task, variant, seed), seed-mean tables with 95% bootstrap CIs next to the oracle, and a two-task figure.

A run's held-out scores are cached under ``--cache`` keyed by its settings, so the three tables share the
full-modality, penalty-on runs (Table 5's and Table 6's AutoFM rows, and Table 7's three selections).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from experiments.autofm_cohort import TaskInputs, cohort_dirs, task_inputs
from model.fusion.evaluate import bootstrap_paired_diff, bootstrap_seed_mean
from model.metrics import binary_metrics
from model.search.task_runner import (
    CohortSearchConfig,
    finetune_genotype_on_cohort,
    prune_cohort,
    search_cohort,
    split_scores,
)

log = logging.getLogger("experiments.autofm")
REPO = Path(__file__).resolve().parents[1]
RESULTS_DOC = REPO / "docs" / "results-autofm.md"
FIGURES = REPO / "docs" / "figures"
# (n_layers, n_nodes, static_ops, seq_ops); None: every op family (the paper's space).
SPACES: dict[str, tuple[int, int, tuple[str, ...] | None, tuple[str, ...] | None]] = {
    "paper": (2, 3, None, None),
    "small": (1, 2, ("identity", "linear_relu", "static_seq_attn"), ("identity", "rnn", "self_attn", "ffn")),
}


def base_parser(doc: str) -> argparse.ArgumentParser:
    """Arguments every AutoFM ablation shares (CPU-sized defaults; the paper's d_e is 256)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--n-stays", type=int, default=2000)
    ap.add_argument("--cohort-seed", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--tasks", nargs="+", default=["mortality", "arf"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--d-e", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--space", choices=sorted(SPACES), default="small",
                    help="paper: K=2, C=3, every op family; small (CPU-sized): K=1, C=2, 3 static / 4 sequential "
                         "op families")
    ap.add_argument("--cache", default=str(REPO / "runs" / "autofm-exp"))
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--no-write", action="store_true", help="print the tables only")
    return ap


def command(module: str, args: argparse.Namespace, extra: str = "") -> str:
    """The command line that reproduces a section (stated above its table)."""
    return (f"python -m experiments.{module}{extra} --tasks {' '.join(args.tasks)} --seeds "
            f"{' '.join(map(str, args.seeds))} --n-stays {args.n_stays} --d-e {args.d_e} --epochs {args.epochs} "
            f"--space {args.space}")


def space_text(args: argparse.Namespace) -> str:
    """The search space in words, for the reports."""
    k, c, static_ops, seq_ops = SPACES[args.space]
    ops = "every op family" if static_ops is None else f"static ops {static_ops}, sequential ops {seq_ops}"
    return f"K = {k}, C = {c}, {ops}"


def search_config(args: argparse.Namespace, seed: int) -> CohortSearchConfig:
    """The CPU-sized search and pruning settings of ``bench_search_quality.py`` (lr 3e-3, 2/2 pruning steps)."""
    n_layers, n_nodes, static_ops, seq_ops = SPACES[args.space]
    return replace(CohortSearchConfig(), d_e=args.d_e, epochs=args.epochs, n_layers=n_layers, n_nodes=n_nodes,
                   static_ops=static_ops, seq_ops=seq_ops, w_lr=3e-3, arch_lr=3e-3, seed=seed,
                   metric="auroc", finetune_steps=2, finetune_lr=1e-3, candidate_finetune_steps=2,
                   final_finetune_steps=1000, eval_every=20, final_lr=1e-3, final_patience=5, baselines=False,
                   embed_dropout=0.1)  # the generated Tables 5-7 were run with the earlier default


def inputs(args: argparse.Namespace, task: str) -> TaskInputs:
    """The task's features and stand-in embeddings on the cached cohort."""
    root = Path(args.cache) / f"cohort-n{args.n_stays}-s{args.cohort_seed}-px{args.image_size}"
    meds, labels = cohort_dirs(root, args.n_stays, args.cohort_seed, args.image_size)
    return task_inputs(meds, labels, task, root)


@dataclass(frozen=True)
class Point:
    """A seed-mean AUROC and its 95% CI."""

    mean: float
    low: float
    high: float


@dataclass
class Run:
    """Held-out labels, oracle and scores (per method) of one search + pruning."""

    y: np.ndarray
    oracle: np.ndarray
    scores: dict[str, np.ndarray]
    seconds: float


def run_variant(args: argparse.Namespace, task: str, variant: str, cfg: CohortSearchConfig,
                drop: str | None = None) -> Run:
    """Search + prune (+ the Table 7 genotypes when ``cfg.baselines``) once; cached by settings."""
    ti = inputs(args, task)
    key = hashlib.sha1(json.dumps([asdict(cfg), drop], sort_keys=True).encode()).hexdigest()[:10]
    path = Path(args.cache) / "runs" / f"n{args.n_stays}-s{args.cohort_seed}" / task / f"{variant}-{key}.npz"
    if path.exists():
        z = np.load(path)
        return Run(z["y"], z["oracle"], {k[2:]: z[k] for k in z.files if k.startswith("s_")}, float(z["seconds"]))
    t0 = time.time()
    cohort = ti.cohort(drop)
    run = prune_cohort(search_cohort(cohort, cfg), cohort, cfg)
    assert run.pruned is not None
    scores = {"supernet": split_scores(run.supernet, cohort), "derived": split_scores(run.pruned.derived, cohort)}
    for name, g in run.baselines.items():
        scores[name] = split_scores(finetune_genotype_on_cohort(run.supernet, g, cohort, cfg), cohort)
    test = cohort.indices("held_out")
    assert cohort.oracle is not None
    out = Run(cohort.labels[test].astype(int), cohort.oracle[test], scores, time.time() - t0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, y=out.y, oracle=out.oracle, seconds=out.seconds, **{f"s_{k}": v for k, v in scores.items()})
    tmp.replace(path)
    log.info("%s %s seed %d: derived AUROC %.3f (%.0f s)", task, variant, cfg.seed,
             binary_metrics(out.y, scores["derived"])["auroc"], out.seconds)
    return out


@dataclass
class Cell:
    """One table entry: seed-mean AUROC with its CI, seed-mean AUPR, paired difference to the reference."""

    auroc: Point
    aupr: float
    diff: tuple[float, float, float] | None
    seconds: float


def cell(runs: list[Run], method: str, n_boot: int, ref: tuple[list[Run], str] | None = None) -> Cell:
    """Summarise ``method`` over the seeds' runs (all on the same held-out samples)."""
    y = runs[0].y[:, None]
    preds = [r.scores[method][:, None] for r in runs]
    point = Point(*bootstrap_seed_mean(y, preds, n_boot=n_boot))
    aupr = float(np.mean([binary_metrics(r.y, r.scores[method])["aupr"] for r in runs]))
    diff = None
    if ref is not None:
        diff = bootstrap_paired_diff(y, preds, [r.scores[ref[1]][:, None] for r in ref[0]], n_boot=n_boot)
    return Cell(point, aupr, diff, float(np.mean([r.seconds for r in runs])))


def oracle_cell(runs: list[Run], n_boot: int) -> Cell:
    """The generator's true probability on the same held-out samples."""
    y = runs[0].y
    return Cell(Point(*bootstrap_seed_mean(y[:, None], [runs[0].oracle[:, None]], n_boot=n_boot)),
                binary_metrics(y, runs[0].oracle)["aupr"], None, 0.0)


def table(rows: dict[str, dict[str, Cell]], tasks: list[str]) -> str:
    """Markdown: one row per configuration, per task the AUROC [CI], AUPR, the paired difference to the row's
    reference and the seconds per run (seed mean)."""
    head = "| configuration | " + " | ".join(
        f"{t}: AUROC [95% CI] | {t}: AUPR | {t}: Δ AUROC [95% CI] | {t}: s/run" for t in tasks) + " |"
    lines = [head, "|---|" + "---|---|---|---|" * len(tasks)]
    for name, per_task in rows.items():
        parts = []
        for t in tasks:
            c = per_task[t]
            d = "" if c.diff is None else f"{c.diff[0]:+.3f} [{c.diff[1]:+.3f}, {c.diff[2]:+.3f}]"
            sec = f"{c.seconds:.0f}" if c.seconds else ""
            parts.append(f"{c.auroc.mean:.3f} [{c.auroc.low:.3f}, {c.auroc.high:.3f}] | {c.aupr:.3f} | {d} | {sec}")
        lines.append(f"| {name} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def figure(rows: dict[str, dict[str, Cell]], tasks: list[str], title: str, name: str) -> str:
    """docs/figures/<name>.png: one panel per task, a bar per configuration, the oracle as a dashed line.

    Returns:
        The markdown link (relative to the results doc).
    """
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt

    labels = [n for n in rows if n != "oracle"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 + 0.55 * len(labels) * len(tasks), 4.2), squeeze=False)
    for ax, t in zip(axes[0], tasks):
        pts = [rows[n][t].auroc for n in labels]
        err = np.array([[p.mean - p.low for p in pts], [p.high - p.mean for p in pts]])
        ax.bar(np.arange(len(labels)), [p.mean for p in pts], yerr=err, capsize=3, color="tab:blue", alpha=0.8)
        if "oracle" in rows:
            ax.axhline(rows["oracle"][t].auroc.mean, color="k", ls="--", lw=1, label="oracle")
            ax.legend(fontsize=8)
        ax.set_xticks(np.arange(len(labels)), labels, rotation=35, ha="right", fontsize=8)
        ax.set_ylim(max(0.0, min(p.low for p in pts) - 0.05), 1.0)
        ax.set_title(t, fontsize=10)
        ax.set_ylabel("held-out AUROC (seed mean, 95% CI)")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{name}.png"
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return f"![{name}](figures/{path.name})"
