"""Pretrain the grayscale ResNet-34 on the cohort's 14 finding labels, TRAIN-split images only.

Why train-split only: the encoder is later frozen and used for every split; letting tuning/held-out images shape
its features would leak their labels into model selection and the held-out metrics.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
from tqdm.auto import tqdm

from model.data.meds_reader import SPLITS_PARQUET
from model.embed.config import PretrainConfig
from model.embed.cxr_encoder import CxrEncoder, save_encoder
from model.embed.preprocess import load_preprocessed
from model.errors import DataValidationError
from model.metrics import MetricUndefinedWarning, multilabel_metrics

log = logging.getLogger(__name__)
FINDINGS_PARQUET = "metadata/cxr_findings.parquet"
KEY_COLUMNS = ("image_path", "subject_id", "stay_id")


def finding_table(meds_dir: Path) -> tuple[pl.DataFrame, list[str]]:
    """cxr_findings joined to the subject splits; returns the table and the finding names (bool columns)."""
    path, spath = meds_dir / FINDINGS_PARQUET, meds_dir / SPLITS_PARQUET
    for p in (path, spath):
        if not p.is_file():
            raise DataValidationError("file missing", file=str(p))
    df = pl.read_parquet(path)
    for col in ("image_path", "subject_id"):
        if col not in df.columns:
            raise DataValidationError("column missing", file=str(path), field=col)
    findings = [c for c, t in df.schema.items() if c not in KEY_COLUMNS and t == pl.Boolean]
    if not findings:
        raise DataValidationError("no boolean finding columns", file=str(path), expected="14 finding labels")
    splits = pl.read_parquet(spath).select(pl.col("subject_id").cast(pl.Int64), "split")
    return df.with_columns(pl.col("subject_id").cast(pl.Int64)).join(splits, on="subject_id", how="left"), findings


def load_split(meds_dir: Path, df: pl.DataFrame, findings: list[str], cfg: PretrainConfig) -> tuple:
    """Preprocessed images [N, 1, S, S] and labels [N, F] of one split (unreadable files raise, naming the file)."""
    x = np.stack([load_preprocessed(meds_dir / p, cfg.preprocess) for p in df["image_path"]])[:, None]
    y = df.select(findings).to_numpy().astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and a shift of up to 1/16 of the side (the paper flips and applies RandomAffine)."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    pad = max(1, x.shape[-1] // 16)
    xp = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=gen).tolist()
    return xp[..., dy:dy + x.shape[-2], dx:dx + x.shape[-1]]


@torch.inference_mode()
def _predict(model: CxrEncoder, x: torch.Tensor, bs: int) -> np.ndarray:
    model.eval()
    return torch.cat([torch.sigmoid(model(x[i:i + bs])) for i in range(0, len(x), bs)]).numpy()


@contextmanager
def _deterministic() -> Iterator[None]:
    """Deterministic kernels while training: some multithreaded CPU backward kernels are not, and DVC caches the
    encoder by its inputs (same data, config and seed must give the same weights). The global flag is restored."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def _train(x: torch.Tensor, y: torch.Tensor, n_findings: int, cfg: PretrainConfig) -> CxrEncoder:
    model = CxrEncoder(n_findings)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in tqdm(range(0, len(x), cfg.batch_size), desc=f"cxr pretrain {epoch + 1}/{cfg.epochs}",
                      disable=len(x) < 10 * cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            if len(idx) < 2:  # BatchNorm needs two samples per batch in training mode
                continue
            xb = _augment(x[idx], gen) if cfg.augment else x[idx]
            loss = loss_fn(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        log.info("cxr pretrain epoch %d: train loss %.4f", epoch + 1, total / len(x))
    return model


def pretrain_cxr_encoder(meds_dir: str | Path, out_dir: str | Path, cfg: PretrainConfig = PretrainConfig()
                         ) -> dict[str, Any]:
    """Train the encoder on train-split images and save it (safetensors + JSON) to `out_dir`.

    Returns:
        The training summary stored in encoder.json (counts, epochs, tuning macro AUROC) plus the wall time
        (``seconds``, returned only: a folder that differs by its timing alone would rerun every DVC stage after it).

    Raises:
        DataValidationError: Missing metadata, no training images, or an unreadable image (names the file).
    """
    meds_dir = Path(meds_dir)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    df, findings = finding_table(meds_dir)
    train, tune = df.filter(pl.col("split") == "train"), df.filter(pl.col("split") == "tuning")
    if train.height == 0:
        raise DataValidationError("no train-split images", file=str(meds_dir / FINDINGS_PARQUET))
    t0 = time.time()
    if cfg.max_train_images is not None:  # smoke runs and tests: a seeded subset
        train = train.sample(n=min(cfg.max_train_images, train.height), seed=cfg.seed)
    x, y = load_split(meds_dir, train, findings, cfg)
    with _deterministic():
        model = _train(x, y, len(findings), cfg)
    summary: dict[str, Any] = {"n_train_images": train.height, "n_tuning_images": tune.height,
                               "epochs": cfg.epochs, "lr": cfg.lr, "seed": cfg.seed, "tuning_macro_auroc": None}
    if tune.height:
        xt, yt = load_split(meds_dir, tune, findings, cfg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MetricUndefinedWarning)
            summary["tuning_macro_auroc"] = multilabel_metrics(yt.numpy(), _predict(model, xt, 64),
                                                               findings)["macro_auroc"]
    save_encoder(model, out_dir, findings=findings, preprocess=cfg.preprocess, summary=summary)
    return {**summary, "seconds": round(time.time() - t0, 1)}
