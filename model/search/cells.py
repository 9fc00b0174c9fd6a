"""Modality cells (Sec. 3.2.1): K stacked layers per modality, then masked pooling over time for sequences.

The layers are given by the caller: mixed layers in the supernet, single chosen ops in the derived model, so
both share this code path for masking and pooling.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.search.embedding import Embedded


def masked_max_pool(x: Tensor, mask: Tensor) -> Tensor:
    """Max over valid time steps: [B, T, d] with mask [B, T] -> [B, d]; a sample with no valid step gives 0."""
    neg = torch.finfo(x.dtype).min
    pooled = x.masked_fill(~mask[..., None], neg).amax(dim=1)
    return pooled * mask.any(dim=1)[:, None].to(x.dtype)


def masked_mean_pool(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over valid time steps: [B, T, d] with mask [B, T] -> [B, d]; a sample with no valid step gives 0."""
    m = mask[..., None].to(x.dtype)
    return (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)


class ModalityCell(nn.Module):
    """One modality's encoder: ``x_k = layer_k(x_{k-1})``, pooled to z in R^{d_e}, zeroed where absent.

    Args:
        modality: Name of the modality the cell encodes.
        sequential: Whether the modality is a sequence (pooled over time).
        layers: K modules with signature ``(x, mask, ctx) -> x``.
        pooling: ``"max"`` or ``"max_mean"`` (see ``SearchSpaceConfig.pooling``); ``d_e`` is needed for the latter.
    """

    def __init__(self, modality: str, sequential: bool, layers: list[nn.Module], pooling: str = "max",
                 d_e: int | None = None) -> None:
        super().__init__()
        self.modality = modality
        self.sequential = sequential
        self.layers = nn.ModuleList(layers)
        self.pool_proj: nn.Linear | None = None
        if sequential and pooling == "max_mean":
            if d_e is None:
                raise ValueError("pooling 'max_mean' needs d_e")
            self.pool_proj = nn.Linear(2 * d_e, d_e)
            with torch.no_grad():  # starts as max + mean, so the cell's output scale is unchanged at init
                self.pool_proj.weight.copy_(torch.cat([torch.eye(d_e), torch.eye(d_e)], dim=1))
                self.pool_proj.bias.zero_()

    def forward(self, ctx: dict[str, Embedded]) -> Tensor:
        """Encode the modality from the layer-0 embeddings ``ctx`` (also the interaction partners)."""
        emb = ctx[self.modality]
        x, mask = emb.x, emb.mask
        for layer in self.layers:
            x = layer(x, mask, ctx)
        if self.sequential:
            if self.pool_proj is None:
                return masked_max_pool(x, mask)
            z = self.pool_proj(torch.cat([masked_max_pool(x, mask), masked_mean_pool(x, mask)], dim=-1))
            return z * mask.any(dim=1)[:, None].to(z.dtype)
        # Static ops with a bias (linear, interactions) are non-zero on absent samples: zero them.
        return x * mask[:, None].to(x.dtype)
