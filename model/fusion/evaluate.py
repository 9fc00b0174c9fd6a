"""Held-out evaluation beside the oracle, and a bootstrap CI of a seed-averaged macro AUROC.

Single runs use model.metrics (evaluate_binary / multilabel_metrics). Across seeds, the reported figure is the mean
of the seeds' macro AUROCs; its CI resamples held-out samples once per draw and recomputes every seed on the same
draw, so it reflects test-set sampling of the seed-averaged metric.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from model.metrics import MetricUndefinedWarning, evaluate_binary, multilabel_metrics


def evaluate_task(y: np.ndarray, p: np.ndarray, oracle: np.ndarray | None, names: list[str],
                  n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Model metrics and, where known, the oracle's on the same samples.

    Args:
        y: 0/1 labels [N, C].
        p: Predicted probabilities [N, C].
        oracle: True probabilities [N, C] or None.
        names: Label names.
        n_boot: Bootstrap resamples for CIs.
        seed: Bootstrap seed.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        if y.shape[1] == 1:
            out = {"model": evaluate_binary(y[:, 0], p[:, 0], n_boot=n_boot, seed=seed)}
            if oracle is not None:
                out["oracle"] = evaluate_binary(y[:, 0], oracle[:, 0], n_boot=n_boot, seed=seed)
            return out
        out = {"model": multilabel_metrics(y, p, names)}
        out["model"]["macro_auroc_ci"] = list(bootstrap_seed_mean(y, [p], n_boot=n_boot, seed=seed)[1:])
        if oracle is not None:
            out["oracle"] = multilabel_metrics(y, oracle, names)
        return out


def weighted_auroc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUROC per row of resample counts w [B, N] (ties count ½), NaN where a resample has one class."""
    order = np.argsort(s, kind="stable")
    s_sorted, pos_mask = s[order], y[order].astype(bool)
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    ws = w[:, order]
    pos = np.add.reduceat(np.where(pos_mask, ws, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(pos_mask, 0.0, ws), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(1) / (pos.sum(1) * neg.sum(1))


def _macro(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Macro AUROC per resample over labels defined in that resample [B]."""
    per = np.stack([weighted_auroc(y[:, k], p[:, k], w) for k in range(y.shape[1])], 1)
    return np.nanmean(per, axis=1)


def bootstrap_seed_mean(y: np.ndarray, preds: list[np.ndarray], n_boot: int = 1000, seed: int = 0,
                        alpha: float = 0.05) -> tuple[float, float, float]:
    """(point, low, high) of the mean over seeds of the macro AUROC (plain AUROC when C = 1).

    Args:
        y: 0/1 labels [N, C] (the same held-out samples for every seed).
        preds: One [N, C] score matrix per seed.
        n_boot: Resamples.
        seed: Resampling seed.
        alpha: Two-sided level.
    """
    n = y.shape[0]
    ones = np.ones((1, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # labels absent from a resample are skipped by nanmean
        point = float(np.mean([_macro(y, p, ones)[0] for p in preds]))
        rng = np.random.default_rng(seed)
        vals = []
        for start in range(0, n_boot, 200):
            b = min(200, n_boot - start)
            w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)]).astype(np.float64)
            vals.append(np.mean([_macro(y, p, w) for p in preds], axis=0))
        boot = np.concatenate(vals)
    boot = boot[np.isfinite(boot)]
    low, high = np.percentile(boot, [50 * alpha, 100 - 50 * alpha])
    return point, float(low), float(high)


def bootstrap_paired_diff(y: np.ndarray, preds_a: list[np.ndarray], preds_b: list[np.ndarray], n_boot: int = 1000,
                          seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
    """(point, low, high) of seed-mean macro AUROC of A minus that of B, both scored on the same resamples.

    Pairing removes the shared test-set sampling noise, so this CI is what decides whether A beats B (two
    overlapping unpaired CIs decide nothing).
    """
    n = y.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ones = np.ones((1, n))
        point = float(np.mean([_macro(y, p, ones)[0] for p in preds_a]) -
                      np.mean([_macro(y, p, ones)[0] for p in preds_b]))
        rng = np.random.default_rng(seed)
        vals = []
        for start in range(0, n_boot, 200):
            b = min(200, n_boot - start)
            w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)]).astype(np.float64)
            vals.append(np.mean([_macro(y, p, w) for p in preds_a], axis=0)
                        - np.mean([_macro(y, p, w) for p in preds_b], axis=0))
        diff = np.concatenate(vals)
    diff = diff[np.isfinite(diff)]
    low, high = np.percentile(diff, [50 * alpha, 100 - 50 * alpha])
    return point, float(low), float(high)
