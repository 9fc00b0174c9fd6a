"""Multi-task losses: the uncertainty-weighted loss of Kendall et al. (2018) as 2405.15442 uses it, or plain BCE.

Classification form with s_k = log σ_k² (initialised 0): L = mean_k [exp(−s_k)·BCE_k + ½·s_k]. A task with noisy,
hard labels learns a large s_k and is down-weighted; the ½·s_k term stops s_k from growing without bound.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiTaskLoss(nn.Module):
    """Per-task BCE combined with learned uncertainty weights or uniformly.

    Args:
        n_tasks: Number of binary tasks (1 for mortality, 25 for phenotypes: each label is a task).
        kind: 'uncertainty' or 'bce'.
    """

    def __init__(self, n_tasks: int, kind: str = "uncertainty") -> None:
        super().__init__()
        if kind not in ("uncertainty", "bce"):
            raise ValueError(f"kind={kind!r}: expected 'uncertainty' or 'bce'")
        self.kind = kind
        # log σ² lives here even for 'bce' (unused, no gradient) so checkpoints have one layout.
        self.log_var = nn.Parameter(torch.zeros(n_tasks), requires_grad=kind == "uncertainty")

    def per_task(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean BCE per task [K] from logits and 0/1 targets [B, K]."""
        if logits.shape != y.shape:
            raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(y.shape)} differ")
        return F.binary_cross_entropy_with_logits(logits, y.float(), reduction="none").mean(0)

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scalar training loss."""
        bce = self.per_task(logits, y)
        if self.kind == "bce":
            return bce.mean()
        return (torch.exp(-self.log_var) * bce + 0.5 * self.log_var).mean()
