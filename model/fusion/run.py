"""One command that trains and evaluates a fusion model or baseline on one task.

    python -m model.fusion.run MEDS LABELS OUT [--task mortality|phenotypes] [--emb cxr=DIR ...]
        [--kind fusion] [--missing mask] [--loss uncertainty] [--seed 0] [--epochs 30] [--drop-rate 0]

OUT (written atomically) holds model.safetensors + model.json, metrics.json (held-out metrics beside the oracle)
and predictions.parquet (held-out probabilities). Bad input: one line on stderr, exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from model.errors import DataValidationError
from model.fusion.baselines import build_model
from model.fusion.checkpoint import n_parameters, save_checkpoint
from model.fusion.config import ModelConfig, RunConfig, TrainConfig
from model.fusion.data import FusionData, drop_dense, load_task
from model.fusion.evaluate import evaluate_task
from model.fusion.loss import MultiTaskLoss
from model.fusion.trainer import fit, predict
from model.io_atomic import atomic_dir

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """Held-out labels, predictions, oracle and metrics of one run."""

    y: np.ndarray
    p: np.ndarray
    oracle: np.ndarray | None
    metrics: dict[str, Any]


def train_and_evaluate(data: FusionData, cfg: RunConfig, *, write: bool = True, n_boot: int = 1000) -> RunResult:
    """Train on train, stop on tuning, evaluate on held_out; optionally write the run folder.

    Args:
        data: Prepared task data (`load_task`), shared across seeds by the experiments.
        cfg: Run configuration; model n_features/n_outputs/dense are taken from `data`.
        write: Write cfg.out_dir (checkpoint, metrics, predictions).
        n_boot: Bootstrap resamples of the held-out CIs.
    """
    data = drop_dense(data, cfg.drop_rate, seed=cfg.drop_seed)
    mc = dataclasses.replace(cfg.model, n_features=data.ts.shape[-1], n_outputs=data.y.shape[1],
                             dense=tuple((k, v.shape[1]) for k, v in data.dense.items()))
    import torch

    torch.manual_seed(cfg.train.seed)
    model = build_model(mc)
    loss_fn = MultiTaskLoss(data.y.shape[1], cfg.train.loss)
    t0 = time.time()
    result = fit(model, loss_fn, data.split_of("train"), data.split_of("tuning"), cfg.train)
    test = data.split_of("held_out")
    p = predict(model, test)
    metrics = evaluate_task(test.y, p, test.oracle, data.label_names, n_boot=n_boot, seed=cfg.train.seed)
    metrics["training"] = {**asdict(result), "seconds": round(time.time() - t0, 1), "n_parameters": n_parameters(model),
                           "n_train": int((data.split == "train").sum()), "n_held_out": len(test.y),
                           "presence_rate": data.presence.mean(0).tolist()}
    if write:
        with atomic_dir(cfg.out_dir, overwrite=True) as tmp:
            save_checkpoint(tmp, model, loss_fn, {"model_config": asdict(mc), "run_config": cfg.to_dict(),
                                                  "label_names": data.label_names})
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True, default=str) + "\n")
            cols = {"subject_id": test.subject_id, **{f"p_{n}": p[:, k] for k, n in enumerate(data.label_names)}}
            pl.DataFrame(cols).write_parquet(tmp / "predictions.parquet")
    return RunResult(test.y, p, test.oracle, metrics)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m model.fusion.run", description=__doc__.splitlines()[0])
    ap.add_argument("meds")
    ap.add_argument("labels")
    ap.add_argument("out")
    ap.add_argument("--task", choices=("mortality", "phenotypes"), default="mortality")
    ap.add_argument("--emb", action="append", default=[], metavar="NAME=DIR", help="embedding folder per modality")
    ap.add_argument("--kind", default="fusion")
    ap.add_argument("--missing", choices=("zero", "mask", "token"), default="mask")
    ap.add_argument("--loss", choices=("uncertainty", "bce"), default="uncertainty")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--drop-rate", type=float, default=0.0)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the typed configuration once, train and evaluate; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    a = _parser().parse_args(argv)
    try:
        emb = tuple(tuple(e.split("=", 1)) for e in a.emb)
        if any(len(e) != 2 for e in emb):
            raise DataValidationError("--emb must be NAME=DIR", field="--emb")
        cfg = RunConfig(meds_dir=a.meds, labels_dir=a.labels, task=a.task, embeddings=emb, out_dir=a.out,
                        drop_rate=a.drop_rate, model=ModelConfig(kind=a.kind, missing=a.missing),
                        train=TrainConfig(loss=a.loss, seed=a.seed, max_epochs=a.epochs, patience=a.patience,
                                          lr=a.lr))
        data, _ = load_task(cfg)
        res = train_and_evaluate(data, cfg)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    m = res.metrics
    summary = {"model": {k: m["model"].get(k) for k in ("auroc", "auroc_ci_low", "auroc_ci_high", "macro_auroc",
                                                         "macro_auroc_ci") if k in m["model"]},
               "oracle": {k: m.get("oracle", {}).get(k) for k in ("auroc", "macro_auroc") if k in m.get("oracle", {})},
               "best_epoch": m["training"]["best_epoch"]}
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
