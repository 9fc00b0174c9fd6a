"""The image-only baseline must learn a prediction for samples without the image."""

from __future__ import annotations

import dataclasses

import torch

from model.fusion.baselines import build_model


def test_missing_vector_gets_gradient_and_learns_the_absent_rate(tiny_model_cfg):
    cfg = dataclasses.replace(tiny_model_cfg, kind="image_only", n_outputs=1)
    torch.manual_seed(0)
    model = build_model(cfg)
    b = 64
    ts, dense = torch.randn(b, 4, cfg.n_features), {n: torch.randn(b, d) for n, d in cfg.dense}
    present = torch.ones(b, len(cfg.modalities))
    present[: b // 2, 1] = 0
    y = torch.zeros(b, 1)  # absent samples are all negative
    y[b // 2 :] = (torch.rand(b // 2, 1) < 0.5).float()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ts, dense, present), y)
    loss.backward()
    assert model.missing.grad is not None and model.missing.grad.abs().sum() > 0
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(ts, dense, present), y).backward()
        opt.step()
    model.eval()
    assert torch.sigmoid(model(ts, dense, present))[: b // 2].max() < 0.2
