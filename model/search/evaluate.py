"""Evaluation loop of the supernet / derived model: loss, AUROC / AUPR (binary) or Recall@k (multi-label).

``_binary_metrics`` and ``_recall_at_k`` are the single places to swap for ``model.metrics`` once it exists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from torch import nn

from model.search.batch import MultimodalBatch
from model.search.bilevel import autocast_ctx
from model.search.loss import predict_scores, task_loss
from model.search.spec import TaskSpec


def _binary_metrics(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    """AUROC and AUPR of one binary task (NaN when only one class is present)."""
    if len(np.unique(y_true)) < 2:
        return {"auroc": math.nan, "aupr": math.nan}
    return {"auroc": float(roc_auc_score(y_true, y_score)), "aupr": float(average_precision_score(y_true, y_score))}


def _recall_at_k(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Mean over samples with at least one label of (true labels in the top k) / (number of true labels)."""
    top = np.argsort(-scores, axis=1)[:, :k]
    hits = np.take_along_axis(y_true, top, axis=1).sum(axis=1)
    n_true = y_true.sum(axis=1)
    keep = n_true > 0
    return float((hits[keep] / n_true[keep]).mean()) if keep.any() else math.nan


@dataclass
class EvalResult:
    """Mean loss, metrics, and the raw scores/labels [N, n_outputs]."""

    loss: float
    metrics: dict[str, float]
    scores: np.ndarray
    labels: np.ndarray

    def score(self, metric: str) -> tuple[float, float]:
        """Selection key: (metric, -loss), so ties on a coarse metric fall back to the loss."""
        value = -self.loss if metric == "neg_loss" else self.metrics.get(metric, math.nan)
        return (-math.inf if math.isnan(value) else value, -self.loss)


def metrics_for(labels: np.ndarray, scores: np.ndarray, task: TaskSpec) -> dict[str, float]:
    """Macro AUROC/AUPR over binary outputs, or Recall@10/20/30 for multi-label."""
    if task.kind == "multilabel":
        return {f"recall@{k}": _recall_at_k(labels, scores, k) for k in (10, 20, 30)}
    per = [_binary_metrics(labels[:, j], scores[:, j]) for j in range(labels.shape[1])]
    return {m: float(np.nanmean([p[m] for p in per])) if any(not math.isnan(p[m]) for p in per) else math.nan
            for m in ("auroc", "aupr")}


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable[MultimodalBatch], task: TaskSpec, bf16: bool = False) -> EvalResult:
    """Run a model in eval mode over batches (restores its train/eval mode afterwards).

    Args:
        model: Supernet or derived model (``model(batch) -> logits``).
        batches: Labelled batches.
        task: The head's task.
        bf16: Autocast the forward passes.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    losses, weights, all_scores, all_labels = [], [], [], []
    try:
        for batch in batches:
            batch = batch.to(device) if device.type != "cpu" else batch
            with autocast_ctx(bf16, device.type):
                logits = model(batch)
            y = batch.targets()
            losses.append(float(task_loss(logits, y, task)))
            weights.append(y.shape[0])
            all_scores.append(predict_scores(logits, task).cpu().numpy())
            all_labels.append(y.cpu().numpy())
    finally:
        model.train(was_training)
    if not weights:
        raise ValueError("evaluate: no batches")
    labels, scores = np.concatenate(all_labels), np.concatenate(all_scores)
    loss = float(np.average(losses, weights=weights))
    return EvalResult(loss, metrics_for(labels, scores, task), scores, labels)
