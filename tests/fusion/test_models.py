"""Every model × missing policy × presence pattern: shapes, masking semantics, bad input."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from model.fusion.baselines import MODELS, build_model
from model.fusion.config import ModelConfig

PATTERNS = {"all_present": [1, 1, 1, 1], "all_dense_missing": [0, 0, 0, 0], "mixed": [1, 0, 1, 0]}


def _inputs(cfg: ModelConfig, pattern: list[int], b: int = 4, t: int = 6):
    g = torch.Generator().manual_seed(0)
    ts = torch.randn(b, t, cfg.n_features, generator=g)
    dense = {n: torch.randn(b, d, generator=g) for n, d in cfg.dense}
    present = torch.ones(b, len(cfg.modalities))
    present[:, 1:] = torch.tensor(pattern, dtype=torch.float32)[:, None]
    return ts, dense, present


@pytest.mark.parametrize("pattern", PATTERNS, ids=list(PATTERNS))
@pytest.mark.parametrize("kind,missing", [("fusion", "zero"), ("fusion", "mask"), ("fusion", "token"),
                                          *[(k, "mask") for k in MODELS if k != "fusion"]])
def test_forward_and_missing_inputs_are_ignored(tiny_model_cfg, kind, missing, pattern):
    cfg = dataclasses.replace(tiny_model_cfg, kind=kind, missing=missing)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    ts, dense, present = _inputs(cfg, PATTERNS[pattern])
    out = model(ts, dense, present)
    assert out.shape == (4, cfg.n_outputs) and torch.isfinite(out).all()
    # whatever sits in an absent modality's slot (even NaN) must not change the prediction
    garbage = {n: torch.where(present[:, j + 1, None].bool(), v, torch.full_like(v, float("nan")))
               for j, (n, v) in enumerate(dense.items())}
    torch.testing.assert_close(model(ts, garbage, present), out)
    out.sum().backward()


def test_mask_policy_differs_from_zero_token(tiny_model_cfg):
    """'mask' must drop a missing token from attention; the paper's 'zero' still attends to it."""
    ts, dense, present = _inputs(tiny_model_cfg, [0, 0, 0, 0])
    torch.manual_seed(0)
    masked = build_model(dataclasses.replace(tiny_model_cfg, missing="mask")).eval()
    zero = build_model(dataclasses.replace(tiny_model_cfg, missing="zero")).eval()
    zero.load_state_dict(masked.state_dict())
    assert not torch.allclose(masked(ts, dense, present), zero(ts, dense, present))


def test_mask_policy_rejects_all_absent_and_bad_shapes(tiny_model_cfg):
    model = build_model(tiny_model_cfg).eval()
    ts, dense, present = _inputs(tiny_model_cfg, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="every modality absent"):
        model(ts, dense, torch.zeros_like(present))
    with pytest.raises(ValueError, match="presence"):
        model(ts, dense, present[:, :2])
    with pytest.raises(ValueError, match="ts must be"):
        model(ts[..., :5], dense, present)
    with pytest.raises(ValueError, match="do not match"):
        model(ts, {"cxr": dense["cxr"]}, present)


def test_fusion_has_no_positional_embedding(tiny_model_cfg):
    """Modality tokens are a set (the paper uses no positional embedding): no position table may exist."""
    model = build_model(tiny_model_cfg)
    assert not any("pos" in name for name, _ in model.named_parameters())


def test_pixel_image_encoder(tiny_model_cfg):
    cfg = dataclasses.replace(tiny_model_cfg, dense=(("cxr", 512),), image_input="pixels")
    model = build_model(cfg)
    ts = torch.randn(2, 4, cfg.n_features)
    out = model(ts, {"cxr": torch.rand(2, 1, 32, 32)}, torch.tensor([[1, 1], [1, 0]]))
    assert out.shape == (2, cfg.n_outputs)
    out.sum().backward()
    assert model.dense["cxr"][0].enc.trunk.conv1.weight.grad is not None
