"""Every candidate op: output shapes, padding and absent-partner masking, registry expansion and errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from search_helpers import tiny_config

from model.search.embedding import Embedded
from model.search.fusion import FUSION_OPS, build_fusion_op
from model.search.ops import MaskedAttention, build_op, candidate_ops

CONFIG = tiny_config()
CASES = [(m.name, op) for m in CONFIG.modalities for op in candidate_ops(CONFIG, m.name)]


def _ctx(seed: int = 0, b: int = 3, t: int = 4) -> dict[str, Embedded]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([4, 2, 1])
    ctx = {}
    for m in CONFIG.modalities:
        if m.kind == "sequential":
            mask = torch.arange(t)[None] < lengths[:, None]
            x = torch.randn(b, t, CONFIG.d_e, generator=g) * mask[..., None]
        else:
            mask, x = torch.ones(b, dtype=torch.bool), torch.randn(b, CONFIG.d_e, generator=g)
        ctx[m.name] = Embedded(x, mask)
    return ctx


def test_registry_expands_partners() -> None:
    ops = candidate_ops(CONFIG, "demographics")
    assert ops == ["identity", "linear_relu", "static_static:notes", "static_static:cxr",
                   "static_seq_attn:events_cont", "static_seq_attn:events_disc"]
    assert candidate_ops(CONFIG, "events_cont")[-1] == "seq_seq_attn:events_disc"


@pytest.mark.parametrize("modality,op", CASES, ids=[f"{m}-{o}" for m, o in CASES])
def test_op_shape_and_padding(modality: str, op: str) -> None:
    torch.manual_seed(0)
    module = build_op(CONFIG, modality, op).eval()
    ctx = _ctx()
    e = ctx[modality]
    out = module(e.x, e.mask, ctx)
    assert out.shape == e.x.shape and torch.isfinite(out).all()
    if e.x.dim() == 3:
        # Padded steps: zero on output, and changing their input leaves valid outputs unchanged.
        assert torch.all(out[~e.mask] == 0) or op == "identity"
        noisy = e.x + torch.randn_like(e.x) * (~e.mask)[..., None]
        ctx2 = dict(ctx)
        ctx2[modality] = Embedded(noisy, e.mask)
        out2 = module(noisy, e.mask, ctx2)
        torch.testing.assert_close(out2[e.mask], out[e.mask])


@pytest.mark.parametrize("modality,op", [c for c in CASES if "attn:" in c[1]], ids=lambda v: str(v))
def test_attention_ignores_absent_partner(modality: str, op: str) -> None:
    torch.manual_seed(0)
    module = build_op(CONFIG, modality, op).eval()
    ctx = _ctx()
    partner = op.partition(":")[2]
    absent = Embedded(torch.zeros_like(ctx[partner].x), torch.zeros_like(ctx[partner].mask))
    ctx[partner] = absent
    e = ctx[modality]
    # The attention branch adds nothing; with residual ops the input passes unchanged.
    expected = e.x if CONFIG.residual_ops else torch.zeros_like(e.x)
    assert torch.equal(module(e.x, e.mask, ctx), expected)


def _sdpa_reference(m: MaskedAttention, query: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor
                    ) -> torch.Tensor:
    b, tq, d = query.shape
    h = m.n_heads
    q = m.q(query).view(b, tq, h, d // h).transpose(1, 2)
    k, v = m.kv(keys).view(b, keys.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
    has_key = key_mask.any(dim=1)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=(key_mask | ~has_key[:, None])[:, None, None, :])
    return out.transpose(1, 2).reshape(b, tq, d) * has_key[:, None, None]


@pytest.mark.parametrize("n_heads", [1, 2])
@pytest.mark.parametrize("n_queries", [1, 3, 5])  # fewer queries than keys (projections folded), as many, more
def test_attention_matches_sdpa(n_heads: int, n_queries: int) -> None:
    torch.manual_seed(0)
    m = MaskedAttention(8, n_heads).double()
    query, keys = torch.randn(4, n_queries, 8, dtype=torch.float64), torch.randn(4, 3, 8, dtype=torch.float64)
    key_mask = torch.tensor([[True, True, True], [True, False, False], [False, False, False], [False, True, True]])
    inputs = [query.requires_grad_(), keys.requires_grad_(), *m.parameters()]
    out, ref = m(query, keys, key_mask), _sdpa_reference(m, query, keys, key_mask)
    torch.testing.assert_close(out, ref)
    w = torch.randn_like(out)
    grads = torch.autograd.grad((out * w).sum(), inputs)
    ref_grads = torch.autograd.grad((ref * w).sum(), inputs)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r)


def test_lstm_option_and_errors() -> None:
    cfg = tiny_config(rnn="lstm")
    assert isinstance(build_op(cfg, "events_cont", "rnn").op.rnn, torch.nn.LSTM)
    with pytest.raises(ValueError, match="unknown op"):
        build_op(CONFIG, "events_cont", "linear_relu")
    with pytest.raises(ValueError, match="partner"):
        build_op(CONFIG, "events_cont", "seq_seq_attn:notes")
    with pytest.raises(ValueError, match="unknown op family"):
        candidate_ops(tiny_config(seq_ops=("identity", "bogus")), "events_cont")


@pytest.mark.parametrize("name", list(FUSION_OPS))
def test_fusion_ops_respect_validity(name: str) -> None:
    torch.manual_seed(0)
    op = build_fusion_op(name, 8)
    u = torch.randn(2, 4, 8)
    valid = torch.tensor([[True, True, False, True], [False, False, False, False]])
    out = op(u, valid)
    u2 = u.clone()
    u2[~valid] = 100.0  # invalid inputs must not matter
    torch.testing.assert_close(op(u2, valid), out)
    if name == "sum":
        torch.testing.assert_close(out[0], torch.nn.functional.layer_norm(u[0, [0, 1, 3]].sum(0), (8,)))
    assert torch.all(out[1] == 0)  # no valid input: an exact zero vector
