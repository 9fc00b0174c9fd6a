"""Evaluation loop of the supernet / derived model: loss, AUROC / AUPR (binary) or Recall@k (multi-label).

The numbers come from ``model.metrics`` (the same code as the evaluation report), so model selection and the
final report cannot disagree on a definition.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from model.metrics import MetricUndefinedWarning, binary_metrics, recall_at_k
from model.search.batch import MultimodalBatch
from model.search.bilevel import autocast_ctx
from model.search.loss import predict_scores, task_loss
from model.search.spec import TaskSpec


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
    with warnings.catch_warnings():
        # One-class validation slices are NaN here and fall back to the loss in ``EvalResult.score``.
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        if task.kind == "multilabel":
            ks = [k for k in (10, 20, 30) if k <= labels.shape[1]]
            return {f"recall@{k}": recall_at_k(labels, scores, k) for k in ks}
        per = [binary_metrics(labels[:, j], scores[:, j]) for j in range(labels.shape[1])]
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
