"""Training loop shared by the fusion model and every baseline.

Adam, ReduceLROnPlateau, early stopping on the tuning split's mean AUROC, best weights kept in memory
(the checkpoint is written by run.py).
"""

from __future__ import annotations

import copy
import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from model.fusion.config import TrainConfig
from model.fusion.data import FusionData
from model.fusion.loss import MultiTaskLoss
from model.metrics import MetricUndefinedWarning, auroc

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Outcome of `fit`: best epoch (1-based), its tuning AUROC, per-epoch history and the final log σ²."""

    best_epoch: int
    best_tuning_auroc: float
    history: list[dict[str, float]] = field(default_factory=list)
    log_var: list[float] = field(default_factory=list)


def _tensors(d: FusionData) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    return (torch.from_numpy(d.ts), {k: torch.from_numpy(v) for k, v in d.dense.items()},
            torch.from_numpy(d.presence), torch.from_numpy(d.y))


@torch.inference_mode()
def predict(model: nn.Module, data: FusionData, batch_size: int = 256) -> np.ndarray:
    """Probabilities [N, C] in sample order."""
    model.eval()
    ts, dense, pres, _ = _tensors(data)
    out = [torch.sigmoid(model(ts[i:i + batch_size], {k: v[i:i + batch_size] for k, v in dense.items()},
                               pres[i:i + batch_size])) for i in range(0, len(ts), batch_size)]
    return torch.cat(out).numpy().astype(np.float64)


def mean_auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Mean AUROC over labels with both classes present (NaN when none has)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        vals = [auroc(y[:, k], p[:, k]) for k in range(y.shape[1])]
    vals = [v for v in vals if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def fit(model: nn.Module, loss_fn: MultiTaskLoss, train: FusionData, tune: FusionData, cfg: TrainConfig
        ) -> TrainResult:
    """Train in place; on return `model` holds the weights of the best tuning epoch.

    Args:
        model: Any model with forward(ts, dense, presence).
        loss_fn: The multi-task loss (its log σ² in their own optimizer group, as in the paper).
        train: Training samples.
        tune: Tuning samples (early stopping and LR schedule).
        cfg: Optimisation settings.
    """
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": cfg.lr}]
    if loss_fn.log_var.requires_grad:
        groups.append({"params": [loss_fn.log_var], "lr": cfg.loss_lr})
    opt = torch.optim.Adam(groups, betas=(0.9, 0.9), weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=max(1, cfg.patience // 2))
    ts, dense, pres, y = _tensors(train)
    gen = torch.Generator().manual_seed(cfg.seed)
    best = TrainResult(best_epoch=0, best_tuning_auroc=-math.inf)
    best_state = copy.deepcopy(model.state_dict())
    for epoch in range(1, cfg.max_epochs + 1):
        model.train()
        order = torch.randperm(len(ts), generator=gen)
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            if len(idx) < 2:  # a batch of one breaks BatchNorm in the pixel encoder
                continue
            loss = loss_fn(model(ts[idx], {k: v[idx] for k, v in dense.items()}, pres[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        tune_auc = mean_auroc(tune.y, predict(model, tune))
        sched.step(tune_auc if not math.isnan(tune_auc) else -1.0)
        best.history.append({"epoch": epoch, "train_loss": total / len(ts), "tuning_auroc": tune_auc})
        log.info("epoch %d: train loss %.4f, tuning AUROC %.4f", epoch, total / len(ts), tune_auc)
        if tune_auc > best.best_tuning_auroc:
            best.best_epoch, best.best_tuning_auroc = epoch, tune_auc
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best.best_epoch >= cfg.patience:
            break
    model.load_state_dict(best_state)
    best.log_var = loss_fn.log_var.detach().tolist()
    return best
