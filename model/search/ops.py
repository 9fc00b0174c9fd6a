"""Candidate operations of the modality-specific search (Table 1), as registries of factories.

Every op has one signature, ``op(x, mask, ctx) -> Tensor``: ``x`` is [B, d_e] (static) or [B, T, d_e]
(sequential), ``mask`` the cell input's validity mask ([B] or [B, T]), ``ctx`` the layer-0 embeddings of all
modalities (the interaction partners ``x'`` of Table 1). Interaction families expand to one op per partner,
named ``"<family>:<partner>"``. Padded steps and absent partners are masked out of every attention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model.search.embedding import Embedded
from model.search.spec import SearchSpaceConfig


class MaskedAttention(nn.Module):
    """``Softmax((W_q x)(W_k x')^T / sqrt(d)) (W_v x')`` with a key mask; queries without any valid key give 0.

    Written out with matmuls: for EHR lengths this beats the fused kernel, whose bf16 backward on CPU is twice as
    slow. With fewer queries than keys (a static vector querying a sequence) the key and value projections move to
    the query side, which has fewer rows: ``q.(W_k x' + b_k) = (W_k^T q).x' + q.b_k`` and
    ``sum_j a_j (W_v x'_j + b_v) = W_v (sum_j a_j x'_j) + b_v``. Same function, Tq/Tk of the projection cost.
    """

    def __init__(self, d_e: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q = nn.Linear(d_e, d_e)
        self.kv = nn.Linear(d_e, 2 * d_e)

    def forward(self, query: Tensor, keys: Tensor, key_mask: Tensor) -> Tensor:
        """Attend ``query`` [B, Tq, d] over ``keys`` [B, Tk, d] where ``key_mask`` [B, Tk] is True."""
        b, tq, d = query.shape
        h, dh, tk = self.n_heads, d // self.n_heads, keys.shape[1]
        q = self.q(query).view(b, tq, h, dh).transpose(1, 2) * dh**-0.5  # [B, h, Tq, dh]
        has_key = key_mask.any(dim=1)
        # A row with no valid key would softmax over nothing (NaN): let it attend anywhere, then zero it.
        drop = ~(key_mask | ~has_key[:, None])[:, None, None, :]
        if tq < tk:
            # Tiny matmuls: kept in the keys' precision, as casting the keys would cost more than they do.
            with torch.autocast(query.device.type, enabled=False):
                q = q.to(keys.dtype)
                w_k, w_v = self.kv.weight.to(keys.dtype).view(2, h, dh, d).unbind(0)
                b_k, b_v = self.kv.bias.to(keys.dtype).view(2, h, dh).unbind(0)
                scores = torch.einsum("bhqd,bkd->bhqk", torch.einsum("bhqe,hed->bhqd", q, w_k), keys) \
                    + torch.einsum("bhqe,he->bhq", q, b_k)[..., None]
                att = torch.softmax(scores.masked_fill(drop, float("-inf")), dim=-1)
                ctx = torch.einsum("bhqk,bkd->bhqd", att, keys)
                out = torch.einsum("bhqd,hed->bhqe", ctx, w_v) + b_v[:, None, :]
        else:
            k, v = self.kv(keys).view(b, tk, 2, h, dh).permute(2, 0, 3, 1, 4)
            out = torch.softmax((q @ k.transpose(-1, -2)).masked_fill(drop, float("-inf")), dim=-1) @ v
        out = out.transpose(1, 2).reshape(b, tq, d)
        return out * has_key[:, None, None].to(out.dtype)


class Identity(nn.Module):
    """o(x) = x."""

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return x


class LinearReLU(nn.Module):
    """Static: ReLU(W_1 x + b_1)."""

    def __init__(self, d_e: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d_e, d_e)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return F.relu(self.linear(x))


class StaticStatic(nn.Module):
    """Static-static interaction: W_2 [x; x'] + b_2 with x' the partner's embedding (0 where absent)."""

    def __init__(self, d_e: int, partner: str) -> None:
        super().__init__()
        self.partner = partner
        self.linear = nn.Linear(2 * d_e, d_e)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return self.linear(torch.cat([x, ctx[self.partner].x], dim=-1))


class _PartnerAttention(nn.Module):
    """Attention from this modality to a named partner sequence (shared by the two interaction ops)."""

    def __init__(self, d_e: int, n_heads: int, partner: str) -> None:
        super().__init__()
        self.partner = partner
        self.attn = MaskedAttention(d_e, n_heads)


class StaticSeqAttn(_PartnerAttention):
    """Static-sequential interaction: the static vector queries the partner sequence."""

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        other = ctx[self.partner]
        return self.attn(x[:, None, :], other.x, other.mask)[:, 0, :]


class Recurrent(nn.Module):
    """GRU (paper) or LSTM over time; right padding keeps valid outputs free of padded steps (causal)."""

    def __init__(self, d_e: int, kind: str) -> None:
        super().__init__()
        cls = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = cls(d_e, d_e, batch_first=True)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return self.rnn(x)[0] * mask[..., None].to(x.dtype)


class SelfAttn(nn.Module):
    """Self-attention over the valid steps of the sequence."""

    def __init__(self, d_e: int, n_heads: int) -> None:
        super().__init__()
        self.attn = MaskedAttention(d_e, n_heads)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return self.attn(x, x, mask) * mask[..., None].to(x.dtype)


class Conv1d(nn.Module):
    """ReLU(Conv1d(k=3, same padding)); padded steps are zeroed first, so they act as zero padding."""

    def __init__(self, d_e: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(d_e, d_e, kernel_size=3, padding=1)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        m = mask[..., None].to(x.dtype)
        return F.relu(self.conv((x * m).transpose(1, 2))).transpose(1, 2) * m


class FeedForward(nn.Module):
    """ReLU(W x_t + b) at every time step."""

    def __init__(self, d_e: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d_e, d_e)

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return F.relu(self.linear(x)) * mask[..., None].to(x.dtype)


class SeqSeqAttn(_PartnerAttention):
    """Sequential-sequential interaction: this sequence queries the partner sequence."""

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        other = ctx[self.partner]
        return self.attn(x, other.x, other.mask) * mask[..., None].to(x.dtype)


class Residual(nn.Module):
    """``x + o(x)``; ``o`` already zeroes padded steps, and ``x`` is zero there, so masking is kept."""

    def __init__(self, op: nn.Module) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: Tensor, mask: Tensor, ctx: dict[str, Embedded]) -> Tensor:  # noqa: D102
        return x + self.op(x, mask, ctx)


OpFactory = Callable[[SearchSpaceConfig, str | None], nn.Module]


@dataclass(frozen=True)
class OpFamily:
    """A registry entry: how to build the op and which kind of partner modality it needs (None: no partner)."""

    factory: OpFactory
    partner_kind: str | None = None


STATIC_OPS: dict[str, OpFamily] = {
    "identity": OpFamily(lambda c, p: Identity()),
    "linear_relu": OpFamily(lambda c, p: LinearReLU(c.d_e)),
    "static_static": OpFamily(lambda c, p: StaticStatic(c.d_e, p), "static"),
    "static_seq_attn": OpFamily(lambda c, p: StaticSeqAttn(c.d_e, c.n_heads, p), "sequential"),
}

SEQ_OPS: dict[str, OpFamily] = {
    "identity": OpFamily(lambda c, p: Identity()),
    "rnn": OpFamily(lambda c, p: Recurrent(c.d_e, c.rnn)),
    "self_attn": OpFamily(lambda c, p: SelfAttn(c.d_e, c.n_heads)),
    "conv1d": OpFamily(lambda c, p: Conv1d(c.d_e)),
    "ffn": OpFamily(lambda c, p: FeedForward(c.d_e)),
    "seq_seq_attn": OpFamily(lambda c, p: SeqSeqAttn(c.d_e, c.n_heads, p), "sequential"),
}


def registry_for(config: SearchSpaceConfig, modality: str) -> tuple[dict[str, OpFamily], tuple[str, ...]]:
    """The registry and enabled families for one modality's kind."""
    if config.modality(modality).kind == "static":
        return STATIC_OPS, config.static_ops
    return SEQ_OPS, config.seq_ops


def candidate_ops(config: SearchSpaceConfig, modality: str) -> list[str]:
    """Expanded op names for one modality's cell, e.g. ``["identity", "rnn", "seq_seq_attn:events_disc"]``.

    Raises:
        ValueError: An enabled family is not in the registry.
    """
    registry, enabled = registry_for(config, modality)
    names: list[str] = []
    for fam in enabled:
        if fam not in registry:
            raise ValueError(f"unknown op family {fam!r} for modality {modality}; known: {sorted(registry)}")
        kind = registry[fam].partner_kind
        if kind is None:
            names.append(fam)
        else:
            names += [f"{fam}:{m.name}" for m in config.modalities if m.kind == kind and m.name != modality]
    return names


def build_op(config: SearchSpaceConfig, modality: str, op_name: str) -> nn.Module:
    """Instantiate one expanded op by name (shared by the supernet and the derived model).

    Raises:
        ValueError: Unknown op or partner.
    """
    registry, _ = registry_for(config, modality)
    fam, _, partner = op_name.partition(":")
    if fam not in registry:
        raise ValueError(f"unknown op {op_name!r} for modality {modality}")
    entry = registry[fam]
    if entry.partner_kind is not None:
        if partner not in config.modality_names or config.modality(partner).kind != entry.partner_kind \
                or partner == modality:
            raise ValueError(f"op {op_name!r}: partner must be another {entry.partner_kind} modality")
        op = entry.factory(config, partner)
    elif partner:
        raise ValueError(f"op {op_name!r} takes no partner")
    else:
        op = entry.factory(config, None)
    return Residual(op) if config.residual_ops and fam != "identity" else op
