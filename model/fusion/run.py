"""One command that trains and evaluates a fusion model or baseline on one task.

    python -m model.fusion.run MEDS LABELS OUT [--task mortality|phenotypes] [--emb cxr=DIR ...]
        [--kind fusion] [--missing mask] [--loss uncertainty] [--seed 0] [--epochs 30] [--drop-rate 0]
        [--cxr-pixels [--image-size 64] [--no-clahe] [--cxr-encoder DIR] [--on-unreadable error|missing]]

--cxr-pixels trains end to end: the X-ray trunk (ResNet-34) is fine-tuned on pixels instead of reading a frozen
embedding folder; --cxr-encoder initialises it from `python -m model.embed pretrain-cxr` output.

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

from model.embed.config import ImagePreprocessConfig
from model.embed.cxr_encoder import FEATURE_DIM
from model.errors import DataValidationError
from model.fusion.baselines import build_model
from model.fusion.checkpoint import n_parameters, save_checkpoint
from model.fusion.config import ModelConfig, PixelConfig, RunConfig, TrainConfig
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
    pixels = any(v.ndim == 4 for v in data.dense.values())  # 'cxr' loaded as [N, 1, H, W] (cfg.cxr_pixels)
    if pixels and cfg.model.kind not in ("fusion", "image_only"):
        raise ValueError(f"kind={cfg.model.kind!r} takes embeddings only; pixels need 'fusion' or 'image_only'")
    mc = dataclasses.replace(cfg.model, n_features=data.ts.shape[-1], n_outputs=data.y.shape[1],
                             image_input="pixels" if pixels else cfg.model.image_input,
                             dense=tuple((k, v.shape[1] if v.ndim == 2 else FEATURE_DIM)
                                         for k, v in data.dense.items()))
    import torch

    torch.manual_seed(cfg.train.seed)
    model = build_model(mc)
    if pixels and cfg.cxr_pixels is not None:
        from model.fusion.pixels import init_trunk

        init_trunk(model, cfg.cxr_pixels)
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
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--cxr-pixels", action="store_true", help="fine-tune the X-ray trunk on pixels (end to end)")
    ap.add_argument("--image-size", type=int, default=64, help="pixel side with --cxr-pixels")
    ap.add_argument("--no-clahe", action="store_true", help="skip CLAHE with --cxr-pixels (ablation only)")
    ap.add_argument("--cxr-encoder", metavar="DIR", help="pretrained encoder folder to initialise the trunk")
    ap.add_argument("--on-unreadable", choices=("error", "missing"), default="error")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the typed configuration once, train and evaluate; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    a = _parser().parse_args(argv)
    try:
        emb = tuple(tuple(e.split("=", 1)) for e in a.emb)
        if any(len(e) != 2 for e in emb):
            raise DataValidationError("--emb must be NAME=DIR", field="--emb")
        px = None
        if a.cxr_pixels:
            try:  # a bad size is a usage error: one line, exit 2, like bad data
                pre = ImagePreprocessConfig(size=a.image_size, clahe=not a.no_clahe)
            except ValueError as exc:
                raise DataValidationError(str(exc), field="--image-size") from exc
            px = PixelConfig(preprocess=pre, on_unreadable=a.on_unreadable, encoder_dir=a.cxr_encoder)
        cfg = RunConfig(meds_dir=a.meds, labels_dir=a.labels, task=a.task, embeddings=emb, cxr_pixels=px,
                        out_dir=a.out, drop_rate=a.drop_rate, model=ModelConfig(kind=a.kind, missing=a.missing),
                        train=TrainConfig(loss=a.loss, seed=a.seed, max_epochs=a.epochs, patience=a.patience,
                                          lr=a.lr, batch_size=a.batch_size, threads=a.threads))
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
