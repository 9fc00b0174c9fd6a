"""The 1-D temporal CNN baseline: any window length, every hour matters, time series only."""

from __future__ import annotations

import dataclasses

import torch

from model.fusion.baselines import TSCNN, build_model


def test_ts_cnn_any_length_and_every_hour_counts(tiny_model_cfg):
    cfg = dataclasses.replace(tiny_model_cfg, kind="ts_cnn")
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    assert isinstance(model, TSCNN)
    dense = {n: torch.randn(2, d) for n, d in cfg.dense}
    present = torch.ones(2, len(cfg.modalities))
    for t in (1, 7, 48):
        ts = torch.randn(2, t, cfg.n_features)
        out = model(ts, dense, present)
        assert out.shape == (2, cfg.n_outputs)
    # the global pooling sees the whole window: changing only the first hour changes the prediction
    ts2 = ts.clone()
    ts2[:, 0] += 3.0
    assert not torch.allclose(model(ts2, dense, present), out)
    # dense modalities are not inputs of this baseline
    torch.testing.assert_close(model(ts, {n: v + 1 for n, v in dense.items()}, present), out)
