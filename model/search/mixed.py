"""Mixed edges (Eq. 3.5): softmax-weighted candidate ops, architecture weights as real parameters.

Each edge owns its architecture logits ``alpha`` (an ``nn.Parameter``, saved with the state dict) and an
``alive`` bool buffer used by discretisation. Weights are the softmax over the alive ops only, so removing an op
renormalises the rest; removed ops are skipped, not multiplied by zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from model.search.embedding import Embedded


class MixedEdge(nn.Module):
    """Architecture state of one mixed operation.

    Args:
        edge_id: Stable, human-readable id, e.g. ``"cell/notes/0"``, ``"selector/1/notes"``, ``"fusion/1"``.
        op_names: Candidate op names in order.
        init_scale: Std of the initial logits (DARTS: 1e-3 * randn).
    """

    def __init__(self, edge_id: str, op_names: list[str], init_scale: float = 1e-3) -> None:
        super().__init__()
        if not op_names:
            raise ValueError(f"edge {edge_id}: no candidate ops")
        self.edge_id = edge_id
        self.op_names = list(op_names)
        self.alpha = nn.Parameter(init_scale * torch.randn(len(op_names)))
        self.register_buffer("alive", torch.ones(len(op_names), dtype=torch.bool))

    def weights(self) -> Tensor:
        """Softmax over alive ops (0 for removed ones)."""
        logits = self.alpha.masked_fill(~self.alive, float("-inf"))
        return torch.softmax(logits, dim=0)

    def alive_indices(self) -> list[int]:
        """Indices of the ops still on the edge."""
        return [i for i, a in enumerate(self.alive.tolist()) if a]

    def alive_ops(self) -> list[str]:
        """Names of the ops still on the edge."""
        return [self.op_names[i] for i in self.alive_indices()]

    def remove(self, index: int) -> None:
        """Remove one op for good.

        Raises:
            ValueError: The op is already removed or is the last one.
        """
        if not bool(self.alive[index]) or int(self.alive.sum()) <= 1:
            raise ValueError(f"edge {self.edge_id}: cannot remove op {self.op_names[index]!r}")
        self.alive[index] = False

    def keep_only(self, index: int) -> None:
        """Discretise the edge to one op."""
        if not bool(self.alive[index]):
            raise ValueError(f"edge {self.edge_id}: op {self.op_names[index]!r} was removed already")
        self.alive.zero_()
        self.alive[index] = True

    @contextlib.contextmanager
    def without(self, index: int) -> Iterator[None]:
        """Temporarily remove exactly one op (pruning candidates); the mask is restored on exit."""
        saved = self.alive.clone()
        self.remove(index)
        try:
            yield
        finally:
            self.alive.copy_(saved)

    def chosen(self) -> str:
        """The single remaining op.

        Raises:
            ValueError: More than one op is alive.
        """
        ops = self.alive_ops()
        if len(ops) != 1:
            raise ValueError(f"edge {self.edge_id} is not discrete: {ops}")
        return ops[0]


class MixedLayer(MixedEdge):
    """A cell layer: ``x_k = sum_o w_o o(x_{k-1})`` over the alive candidate ops."""

    def __init__(self, edge_id: str, op_names: list[str], ops: list[nn.Module]) -> None:
        super().__init__(edge_id, op_names)
        self.ops = nn.ModuleList(ops)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:
        """Weighted sum of the alive ops' outputs."""
        w = self.weights()
        idx = self.alive_indices()
        if len(idx) == 1:  # discrete edge: w == 1 exactly, skip the multiply
            return self.ops[idx[0]](x, mask, ctx)
        out = None
        for i in idx:
            y = w[i].to(x.dtype) * self.ops[i](x, mask, ctx)
            out = y if out is None else out + y
        return out
