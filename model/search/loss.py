"""Task losses for the binary (Eq. 3.6) and multi-label (Eq. 3.7) heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from model.search.spec import TaskSpec


def task_loss(logits: Tensor, targets: Tensor, task: TaskSpec) -> Tensor:
    """Mean loss of a batch.

    Args:
        logits: [B, n_outputs].
        targets: Float [B, n_outputs] in {0, 1}.
        task: The head's task.

    Returns:
        Scalar loss (fp32 even under autocast).
    """
    logits = logits.float()
    if task.kind == "multilabel" and task.multilabel_loss == "softmax":
        # Eq. 3.7: softmax over labels; cross-entropy against the label set normalised to a distribution.
        dist = targets / targets.sum(dim=1, keepdim=True).clamp_min(1.0)
        return -(dist * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    return F.binary_cross_entropy_with_logits(logits, targets)


def predict_scores(logits: Tensor, task: TaskSpec) -> Tensor:
    """Scores in [0, 1]: sigmoid, or softmax for the softmax multi-label head."""
    logits = logits.float()
    if task.kind == "multilabel" and task.multilabel_loss == "softmax":
        return torch.softmax(logits, dim=1)
    return torch.sigmoid(logits)
