"""Benchmark: AutoFM search quality on a synthetic cohort, per task, on the held-out split with 95% bootstrap CIs.

Rows of each task's table: the oracle (the generator's true outcome probability), simple per-modality logistic
regressions (each of AutoFM's modalities alone: discrete events, continuous events, demographics, notes, X-ray; the
best of them is the goal's "best single modality"), all structured tables together (three modalities: a reference)
and a late fusion (the baselines of ``model.data.signal_check``, fitted on train+tuning), the
searched supernet, the derived model (Algorithm 1 pruning picks the architecture; its ops are then retrained from
the searched weights, or fresh ones with ``--final-init scratch``, on all of train, early-stopped on tuning; an
ensemble of ``--final-members`` such trainings), the DARTS argmax genotype and, with ``--darts-pt``, the DARTS-PT
genotype (each given the same final training as the derived model). Wall time per phase is printed,
and the train / tuning / held-out AUROC of the supernet and the derived model (over-fitting check).

A ``--work`` folder is reused: the cohort, labels, features, search and pruning outputs found there are not
recomputed, provided they were made with the same settings (checked; a mismatch stops the run; a search is reused
when only pruning or final-training settings differ).

Note and X-ray inputs (``--embeddings``):
  standin  ``experiments.autofm_cohort.standin_embeddings``: TF-IDF + TruncatedSVD(64) note vectors and 16x16
           X-ray pixels. Not the product's encoders: a clearly cheaper substitute.
  model    ``model.embed.embed_notes`` (bundled MiniLM) and ``embed_images`` after ``pretrain_cxr_encoder``
           (slow on 2 CPU cores).
  encoder  X-rays as in ``model`` (the product's ResNet-34, pretrained on the train split's finding labels),
           notes as in ``standin`` (MiniLM over every note of a 30k cohort takes too long on 2 CPU cores).
  findings as standin, but the X-ray vector is the image's 14 true finding labels: a perfect reader, the upper
           bound of the image channel (analysis only: real data has no labels at inference).
  none     structured tables only.

Usage:
  .venv/bin/python benchmarks/bench_search_quality.py [--n-stays 4000] [--image-size 32] [--tasks mortality arf]
      [--embeddings standin|encoder|findings|model|none] [--epochs 8] [--d-e 16] [--darts-pt] [--work DIR] [--json OUT]
      [--final-init supernet|scratch|kept] [--final-members 1]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the experiments package (cohort helpers)

from experiments.autofm_cohort import TASK_HOURS, logreg_baselines, standin_embeddings  # noqa: E402
from model.data.labeling import label_dataset
from model.data.signal_check import STRUCTURED_MODALITIES
from model.data.synthetic import generate_cohort
from model.data.synthetic_config import CohortConfig
from model.derived import load_derived
from model.features.task_features import featurize_task
from model.fusion.evaluate import bootstrap_paired_diff
from model.metrics import MetricUndefinedWarning, binary_metrics, bootstrap_metric
from model.search.cohort_data import CohortData
from model.search.genotype import Genotype
from model.search.selection import FINAL_INITS, DiscretiseConfig, argmax_genotype
from model.search.task_runner import (
    CohortSearchConfig,
    _load_supernet,
    evaluate_on_cohort,
    finetune_genotype_on_cohort,
    prune_on_cohort,
    search_on_cohort,
    split_scores,
)


class Timer:
    """Wall seconds per named phase, printed as they finish."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the enclosed block under ``name``."""
        t0 = time.perf_counter()
        yield
        self.phases[name] = time.perf_counter() - t0
        print(f"  [{name}] {self.phases[name]:.1f} s", flush=True)


def encoder_images(meds: Path, samples: pl.DataFrame, out: Path, image_size: int, encoder_dir: Path) -> str:
    """X-ray vectors from the product's encoder (ResNet-34, pretrained here on the train split unless saved)."""
    from model.embed import embed_images, pretrain_cxr_encoder
    from model.embed.config import ImageEncoderConfig, ImagePreprocessConfig, PretrainConfig

    pre = ImagePreprocessConfig(size=image_size)
    if not (encoder_dir / "encoder.json").exists():
        summary = pretrain_cxr_encoder(meds, encoder_dir, PretrainConfig(preprocess=pre, epochs=3))
        print(f"  X-ray encoder: {summary}", flush=True)
    keys = samples.select("subject_id", "anchor_time", "prediction_time")
    embed_images(meds, keys, out / "cxr", ImageEncoderConfig(weights_dir=str(encoder_dir), preprocess=pre,
                                                             progress=False))
    return str(out / "cxr")


def model_embeddings(meds: Path, samples: pl.DataFrame, out: Path, image_size: int, encoder_dir: Path
                     ) -> dict[str, str]:
    """The product's encoders: ``model.embed`` notes (bundled MiniLM) and X-rays (ResNet-34 pretrained here)."""
    from model.embed import embed_notes
    from model.embed.config import NoteEncoderConfig

    keys = samples.select("subject_id", "anchor_time", "prediction_time")
    embed_notes(meds, keys, out / "notes", NoteEncoderConfig(progress=False, max_length=128))
    return {"notes": str(out / "notes"), "cxr": encoder_images(meds, samples, out, image_size, encoder_dir)}


def ci_row(name: str, y: np.ndarray, s: np.ndarray, n_boot: int, note: str = "") -> dict[str, Any]:
    """AUROC and AUPR with 95% percentile bootstrap CIs."""
    row: dict[str, Any] = {"model": name, "note": note}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        for m in ("auroc", "aupr"):
            r = bootstrap_metric(m, y, s, n_boot=n_boot, seed=0)
            row[m], row[f"{m}_lo"], row[f"{m}_hi"] = r.point, r.low, r.high
    print(f"  row: {name}: AUROC {_fmt(row, 'auroc')}, AUPR {_fmt(row, 'aupr')}", flush=True)
    return row


# Settings the search output depends on: a search is reused when only pruning / final-training settings change.
SEARCH_KEYS = ("d_e", "n_layers", "n_nodes", "epochs", "batch_size", "w_lr", "arch_lr", "order", "penalty_weight",
               "patience", "seed", "metric", "static_ops", "seq_ops", "bf16", "embed_dropout", "w_weight_decay",
               "pooling")


def _require_same(saved: dict[str, Any], wanted: dict[str, Any], where: Path,
                  defaults: dict[str, Any] | None = None) -> None:
    """Stop when a reused output was made with other settings than this run's (a setting newer than the saved
    output counts as its default, ``defaults``)."""
    defaults = defaults or {}
    diff = {k: (saved.get(k, defaults.get(k)), v) for k, v in wanted.items() if saved.get(k, defaults.get(k)) != v}
    if diff:
        raise SystemExit(f"{where} was made with other settings {diff} (saved, wanted): use another --work folder")


def run_task(task: str, meds: Path, labels: Path, work: Path, args: argparse.Namespace,
             cfg: CohortSearchConfig) -> dict[str, Any]:
    """All phases of one task; returns its table rows and phase times."""
    print(f"\n=== {task} (T={TASK_HOURS[task]} h) ===", flush=True)
    timer = Timer()
    tdir = work / task
    samples_path = labels / "samples" / f"{task}.parquet"
    samples = pl.read_parquet(samples_path)
    features = tdir / "features"
    with timer.phase("featurize"):
        if not (features / "manifest.json").exists():
            featurize_task(meds, samples, features, TASK_HOURS[task], overwrite=True)
    emb: dict[str, str] = {}
    if args.embeddings != "none":
        with timer.phase(f"embeddings ({args.embeddings})"):
            edir = tdir / f"emb_{args.embeddings}"
            if args.embeddings in ("standin", "findings"):
                emb = standin_embeddings(meds, samples, edir, xray="pixels" if args.embeddings == "standin" else
                                         "findings")
            elif args.embeddings == "encoder":
                if not (edir / "notes" / "vectors.npy").exists():
                    standin_embeddings(meds, samples, edir)  # its pixel folder is replaced just below
                emb = {"notes": str(edir / "notes"),
                       "cxr": encoder_images(meds, samples, edir, args.image_size, work / "cxr_encoder")}
            else:
                emb = model_embeddings(meds, samples, edir, args.image_size, work / "cxr_encoder")
    cohort = CohortData(features, samples_path, emb)
    test = cohort.indices("held_out")
    y = cohort.labels[test].astype(int)
    counts = {s: int(len(cohort.indices(s))) for s in ("train", "tuning", "held_out")}
    print(f"  samples {counts}, held-out positives {int(y.sum())}, modalities "
          f"{[m.name for m in cohort.modalities()]}", flush=True)
    rows = [ci_row("oracle", y, cohort.oracle[test], args.n_boot, "generator's true probability")]
    with timer.phase("logreg baselines"):
        lr = logreg_baselines(meds, samples)
    singles = [m for m in (*STRUCTURED_MODALITIES, "notes", "cxr") if m in lr]  # AutoFM's modalities, one each
    for name in singles:
        rows.append(ci_row(f"LR {name} only", y, lr[name], args.n_boot, "signal_check logistic regression"))
    best_single = max(rows[1:], key=lambda r: r["auroc"])
    best_scores = lr[best_single["model"].split()[1]]
    rows.append(ci_row("LR structured tables", y, lr["structured"], args.n_boot,
                       "events_disc + events_cont + demographics: three modalities, a reference, not the goal's"))
    rows.append(ci_row("LR late fusion", y, lr["fusion"], args.n_boot, "signal_check fusion"))
    rdir = tdir / args.embeddings  # search / prune / eval per input mode: a reused work folder never mixes them
    search_dir, prune_dir = rdir / "search", rdir / "prune"
    with timer.phase("search"):
        if (search_dir / "search_log.json").exists():  # reuse a finished search of this work folder
            log = json.loads((search_dir / "search_log.json").read_text())
            wanted = {k: v for k, v in asdict(cfg).items() if k in SEARCH_KEYS}
            _require_same(log["config"], wanted, search_dir, asdict(CohortSearchConfig()))
        else:
            log = search_on_cohort(features, samples_path, search_dir, cfg, emb)
    sup_scores = split_scores(_load_supernet(search_dir), cohort)
    rows.append(ci_row("AutoFM supernet", y, sup_scores, args.n_boot,
                       f"best epoch {log['best_epoch']}"))
    with timer.phase("prune (+DARTS-PT genotype)" if cfg.baselines else "prune"):
        if (prune_dir / "trajectory.json").exists():
            saved = json.loads((prune_dir / "trajectory.json").read_text())
            _require_same(saved["config"], asdict(cfg.discretise()), prune_dir, asdict(DiscretiseConfig()))
            summary = saved["summary"]
        else:
            summary = prune_on_cohort(search_dir, features, samples_path, prune_dir, cfg, emb)
    with timer.phase("evaluate derived"):
        metrics = evaluate_on_cohort(prune_dir, features, samples_path, rdir / "eval", emb, n_boot=args.n_boot)
    scores = np.load(rdir / "eval" / "scores.npy")
    rows.append(ci_row("AutoFM derived (pruning)", y, scores, args.n_boot, f"ECE {metrics['ece']:.3f}"))
    with timer.phase("DARTS genotypes: fine-tune + evaluate"):
        genotypes = {"darts_argmax": argmax_genotype(_load_supernet(search_dir))} if args.darts_argmax else {}
        if cfg.baselines:
            genotypes["darts_pt"] = Genotype.load(prune_dir / "genotypes" / "darts_pt.json")
        for name, g in genotypes.items():
            same = "same genotype as derived; " if g.digest() == summary["genotype"] else ""
            model = finetune_genotype_on_cohort(search_dir, g, cohort, cfg)
            rows.append(ci_row(f"{name} genotype", y, split_scores(model, cohort), args.n_boot,
                               same + f"the derived model's final training ({cfg.final_init} start, "
                               f"{cfg.final_members} member(s))"))
    print_table(task, rows)
    fit = {}  # train vs tuning AUROC: over-fitting shows as a train AUROC far above the tuning one
    for name, model in (("supernet", _load_supernet(search_dir)), ("derived", load_derived(prune_dir))):
        fit[name] = {s: binary_metrics(cohort.labels[cohort.indices(s)], split_scores(model, cohort, s))["auroc"]
                     for s in ("train", "tuning", "held_out")}
    print(f"  fit (AUROC train / tuning / held-out): {json.dumps(fit)}", flush=True)
    # Paired bootstrap (same resamples for both scores): the goals are differences on the same samples.
    yy = y[:, None].astype(float)
    goals = {k: bootstrap_paired_diff(yy, [scores[:, None]], [ref[:, None]], n_boot=args.n_boot)
             for k, ref in (("derived_vs_oracle", cohort.oracle[test]), ("derived_vs_best_single", best_scores),
                            ("derived_vs_supernet", sup_scores), ("derived_vs_structured_tables", lr["structured"]))}
    print("  goals, paired AUROC differences [95% CI]: " + "; ".join(
        f"{k} {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] (goal >= {g})"
        for (k, d), g in zip(goals.items(), ("-0.02", "0", "-0.005", "none: reference"))
    ) + f" (best single: {best_single['model']})",
        flush=True)
    return {"task": task, "samples": counts, "held_out_pos": int(y.sum()), "rows": rows, "goals": goals,
            "phases_s": timer.phases, "fit": fit, "derived_genotype": summary["genotype"],
            "search_best_epoch": log["best_epoch"]}


def _fmt(r: dict[str, Any], m: str) -> str:
    if not math.isfinite(r[m]):
        return "n/a"
    return f"{r[m]:.3f} [{r[f'{m}_lo']:.3f}, {r[f'{m}_hi']:.3f}]"


def print_table(task: str, rows: list[dict[str, Any]]) -> None:
    """A Markdown table of the rows."""
    print(f"\n| {task}: model | held-out AUROC [95% CI] | held-out AUPR [95% CI] | note |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {_fmt(r, 'auroc')} | {_fmt(r, 'aupr')} | {r['note']} |")
    print(flush=True)


def main() -> int:
    """Parse arguments, build the cohort once, run each task."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-stays", type=int, default=4000)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tasks", nargs="+", default=["mortality", "arf"], choices=sorted(TASK_HOURS))
    p.add_argument("--embeddings", choices=("standin", "encoder", "findings", "model", "none"), default="standin")
    p.add_argument("--d-e", type=int, default=16)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3, help="weight and architecture learning rate of the search")
    p.add_argument("--final-finetune-steps", type=int, default=1000)
    p.add_argument("--retrain-all", action=argparse.BooleanOptionalAction, default=True,
                   help="final fine-tune of the kept architecture on all of train (off: the weight half only)")
    p.add_argument("--n-layers", type=int, default=2)
    p.add_argument("--n-nodes", type=int, default=3)
    p.add_argument("--finetune-steps", type=int, default=2, help="pruning: weight steps after each removal")
    p.add_argument("--candidate-steps", type=int, default=2, help="pruning: recovery steps per candidate")
    p.add_argument("--candidate-split", choices=("tuning", "arch"), default="tuning",
                   help="pruning / DARTS-PT candidates scored on the tuning split or the architecture half of train")
    p.add_argument("--darts-argmax", action=argparse.BooleanOptionalAction, default=True,
                   help="also give the DARTS argmax genotype the final training (Table 7's row; off saves its time)")
    p.add_argument("--darts-pt", action=argparse.BooleanOptionalAction, default=False,
                   help="also run DARTS-PT selection (costly: one evaluation per op of every edge); the DARTS "
                        "argmax genotype is evaluated unless --no-darts-argmax")
    p.add_argument("--embed-dropout", type=float, default=0.3, help="dropout after each input embedding")
    p.add_argument("--weight-decay", type=float, default=1e-3, help="the search weights' Adam L2 penalty")
    p.add_argument("--pooling", choices=("max", "max_mean"), default="max",
                   help="sequential cells' pooling over time (max: the paper)")
    p.add_argument("--final-init", choices=FINAL_INITS, default="supernet",
                   help="start weights of the kept architecture's final training (scratch: fresh, DARTS's retrain)")
    p.add_argument("--final-members", type=int, default=1,
                   help="final trainings of the kept architecture; > 1: the derived model is their ensemble")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (1: on a shared, loaded 2-core machine more threads only spin)")
    p.add_argument("--work", default=None, help="work folder, reused when present (default: temporary, removed)")
    p.add_argument("--json", default=None, help="also write all rows and timings here")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    work = Path(a.work or tempfile.mkdtemp(prefix="bench_search_quality_"))
    cfg = replace(CohortSearchConfig(), d_e=a.d_e, n_layers=a.n_layers, n_nodes=a.n_nodes, epochs=a.epochs,
                  batch_size=a.batch_size, w_lr=a.lr, arch_lr=a.lr, seed=a.seed, metric="auroc",
                  finetune_steps=a.finetune_steps, finetune_lr=1e-3, candidate_finetune_steps=a.candidate_steps,
                  final_finetune_steps=a.final_finetune_steps, eval_every=20, final_lr=1e-3, final_patience=5,
                  n_boot=a.n_boot, baselines=a.darts_pt, retrain_all_train=a.retrain_all,
                  candidate_split=a.candidate_split, embed_dropout=a.embed_dropout, w_weight_decay=a.weight_decay,
                  pooling=a.pooling, final_init=a.final_init, final_members=a.final_members)
    print(f"config: {json.dumps(asdict(cfg))}\nembeddings: {a.embeddings}, work: {work}", flush=True)
    timer = Timer()
    meds, labels = work / "meds", work / "labels"
    t_start = time.perf_counter()
    try:
        cohort_cfg = CohortConfig(n_stays=a.n_stays, image_size=a.image_size, seed=a.seed)
        with timer.phase("generate"):
            gen_json = meds / "metadata" / "generation.json"
            if gen_json.exists():
                _require_same(json.loads(gen_json.read_text())["config"], json.loads(json.dumps(cohort_cfg.to_dict())),
                              meds)
            else:
                gen = generate_cohort(meds, cohort_cfg, overwrite=True)
                print(f"  cohort: {gen}", flush=True)
        with timer.phase("label"):
            if (labels / "summary.json").exists():
                missing = set(a.tasks) - set(json.loads((labels / "summary.json").read_text())["tasks"])
                if missing:
                    raise SystemExit(f"{labels} has no labels for {sorted(missing)}: use another --work folder")
            else:
                label_dataset(meds, labels, tasks=tuple(a.tasks), overwrite=True)
        results = [run_task(t, meds, labels, work, a, cfg) for t in a.tasks]
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - t_start
    print(f"total wall time {total:.0f} s")
    if a.json:
        Path(a.json).write_text(json.dumps({"args": vars(a), "config": asdict(cfg), "phases_s": timer.phases,
                                            "tasks": results, "total_s": total}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
