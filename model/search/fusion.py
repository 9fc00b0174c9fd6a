"""Fusion operations (Table 2) and the prediction head (Sec. 3.3), shared by the supernet and the derived model.

A fusion op takes the node's inputs stacked as ``u`` [B, n, d_e] with a validity mask [B, n] (False for an
absent modality or an input the selector dropped) and returns [B, d_e]. Every op ends in a LayerNorm, as the
authors' code does (sum+LN, attentive sum+LN, MLP+LN): the node's output scale then no longer follows the
selector weights, so discretising a selector (its identity weight going from ~0.5 to 1 or 0) does not shift the
scale that later nodes and the head were trained on. A sample with no valid input gets an exact zero vector.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SELECTOR_OPS: tuple[str, ...] = ("identity", "zero")


class _NormedFusion(nn.Module):
    """Shared tail: LayerNorm of the fused vector, zero where the node has no valid input."""

    def __init__(self, d_e: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_e)

    def _out(self, fused: Tensor, valid: Tensor) -> Tensor:
        return self.norm(fused) * valid.any(dim=1, keepdim=True).to(fused.dtype)


class SumFusion(_NormedFusion):
    """o(u) = LN(sum_i u_i)."""

    def forward(self, u: Tensor, valid: Tensor) -> Tensor:  # noqa: D102
        return self._out((u * valid[..., None].to(u.dtype)).sum(dim=1), valid)


class MLPFusion(_NormedFusion):
    """o(u) = LN(ReLU(W_3 sum_i u_i + b_3))."""

    def __init__(self, d_e: int) -> None:
        super().__init__(d_e)
        self.linear = nn.Linear(d_e, d_e)

    def forward(self, u: Tensor, valid: Tensor) -> Tensor:  # noqa: D102
        return self._out(F.relu(self.linear((u * valid[..., None].to(u.dtype)).sum(dim=1))), valid)


class AttentiveSumFusion(_NormedFusion):
    """o(u) = LN(sum_i phi_i u_i), phi = softmax_i(W_phi u_i + b_phi) over the valid inputs only."""

    def __init__(self, d_e: int) -> None:
        super().__init__(d_e)
        self.score = nn.Linear(d_e, 1)

    def forward(self, u: Tensor, valid: Tensor) -> Tensor:  # noqa: D102
        logits = self.score(u).squeeze(-1).float().masked_fill(~valid, float("-inf"))
        any_valid = valid.any(dim=1, keepdim=True)
        # No valid input: a zero output instead of softmax over nothing (NaN).
        phi = torch.softmax(logits.masked_fill(~any_valid, 0.0), dim=1) * any_valid
        return self._out((phi.to(u.dtype)[..., None] * u).sum(dim=1), valid)


FUSION_OPS: dict[str, Callable[[int], nn.Module]] = {
    "sum": lambda d_e: SumFusion(d_e),
    "mlp": lambda d_e: MLPFusion(d_e),
    "attentive_sum": lambda d_e: AttentiveSumFusion(d_e),
}


def build_fusion_op(name: str, d_e: int) -> nn.Module:
    """Instantiate a fusion op by name.

    Raises:
        ValueError: Unknown name.
    """
    if name not in FUSION_OPS:
        raise ValueError(f"unknown fusion op {name!r}; known: {sorted(FUSION_OPS)}")
    return FUSION_OPS[name](d_e)


def node_input_names(modality_names: list[str], node: int) -> list[str]:
    """Inputs of fusion node ``node`` (0-based): all modalities, then the earlier nodes ``g1..g{node}``."""
    return list(modality_names) + [f"g{i + 1}" for i in range(node)]


class PredictionHead(nn.Module):
    """h = sum_c w_c g_c, then logits = W_y h + b_y (sigmoid / softmax is applied by the loss)."""

    def __init__(self, n_nodes: int, d_e: int, n_outputs: int) -> None:
        super().__init__()
        self.node_weights = nn.Parameter(torch.full((n_nodes,), 1.0 / n_nodes))
        self.out = nn.Linear(d_e, n_outputs)

    def forward(self, nodes: list[Tensor]) -> Tensor:
        """Logits [B, n_outputs] from the node outputs."""
        g = torch.stack(nodes, dim=1)
        h = (self.node_weights.to(g.dtype)[None, :, None] * g).sum(dim=1)
        return self.out(h)
