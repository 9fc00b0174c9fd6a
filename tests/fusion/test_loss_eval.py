"""Uncertainty loss formula and gradients; vectorised bootstrap AUROC against sklearn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from model.fusion.evaluate import bootstrap_seed_mean, weighted_auroc
from model.fusion.loss import MultiTaskLoss


def test_uncertainty_loss_matches_formula():
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(8, 3, generator=g), (torch.rand(8, 3, generator=g) > 0.5).float()
    loss = MultiTaskLoss(3, "uncertainty")
    with torch.no_grad():
        loss.log_var.copy_(torch.tensor([0.0, 1.0, -0.5]))
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(0)
    expected = (torch.exp(-loss.log_var) * bce + 0.5 * loss.log_var).mean()
    torch.testing.assert_close(loss(logits, y), expected)
    loss(logits, y).backward()
    # d/ds_k of mean_k[exp(-s_k) BCE_k + s_k/2] = (-exp(-s_k) BCE_k + 1/2) / K
    torch.testing.assert_close(loss.log_var.grad, ((-torch.exp(-loss.log_var) * bce + 0.5) / 3).detach())


def test_bce_option_is_plain_mean_and_freezes_log_var():
    logits, y = torch.randn(5, 2), torch.ones(5, 2)
    loss = MultiTaskLoss(2, "bce")
    torch.testing.assert_close(loss(logits, y), F.binary_cross_entropy_with_logits(logits, y))
    assert not loss.log_var.requires_grad
    with pytest.raises(ValueError):
        loss(logits, y[:, :1])


def test_weighted_auroc_equals_sklearn_on_resample():
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 200), np.round(rng.random(200), 1)  # rounding makes ties
    idx = rng.integers(0, 200, 200)
    w = np.bincount(idx, minlength=200)[None].astype(float)
    assert weighted_auroc(y, s, w)[0] == pytest.approx(roc_auc_score(y[idx], s[idx]))


def test_bootstrap_seed_mean_brackets_point():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (300, 3))
    preds = [y + rng.normal(0, 1.0, y.shape) for _ in range(3)]
    point, low, high = bootstrap_seed_mean(y, preds, n_boot=200)
    mean_auc = np.mean([np.mean([roc_auc_score(y[:, k], p[:, k]) for k in range(3)]) for p in preds])
    assert point == pytest.approx(mean_auc) and low < point < high and high - low < 0.2


def test_bootstrap_paired_diff_sign_and_zero():
    from model.fusion.evaluate import bootstrap_paired_diff

    rng = np.random.default_rng(0)
    y = (rng.random((300, 3)) < 0.3).astype(np.float32)
    good = y + rng.normal(0, 0.5, y.shape)
    bad = y + rng.normal(0, 2.0, y.shape)
    assert bootstrap_paired_diff(y, [good], [good], n_boot=200) == (0.0, 0.0, 0.0)
    point, lo, hi = bootstrap_paired_diff(y, [good, good], [bad], n_boot=200)
    assert 0 < lo < point < hi
