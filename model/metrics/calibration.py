"""Calibration: expected calibration error (ECE) with sklearn calibration_curve binning."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from model.errors import DataValidationError
from model.metrics._common import _binary


def expected_calibration_error(
    y_true: Any, y_prob: Any, n_bins: int = 15, strategy: Literal["uniform", "quantile"] = "uniform",
) -> float:
    """Expected calibration error: sum over non-empty bins of (bin share) * |observed rate - mean probability|.

    Bins follow sklearn's `calibration_curve` (same edges, same `searchsorted` assignment), so per-bin
    rates match it. 'uniform': equal-width bins on [0, 1]; 'quantile': equal-count bins on y_prob percentiles.

    Args:
        y_true: Binary labels [N].
        y_prob: Predicted probabilities in [0, 1] [N] (apply a sigmoid to logits first).
        n_bins: Number of bins (>= 1).
        strategy: 'uniform' or 'quantile'.

    Returns:
        ECE in [0, 1]; defined with one class too.
    """
    y, p = _binary(y_true, y_prob)
    if p.min() < 0 or p.max() > 1:
        raise DataValidationError(f"has values in [{p.min():g}, {p.max():g}]", field="y_prob",
                                  expected="probabilities in [0, 1] (apply a sigmoid to logits)")
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise DataValidationError(f"n_bins={n_bins!r}", field="n_bins", expected="an int >= 1")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    else:
        raise DataValidationError(f"unknown value {strategy!r}", field="strategy", expected="'uniform' or 'quantile'")
    bin_id = np.searchsorted(edges[1:-1], p)
    count = np.bincount(bin_id, minlength=n_bins)
    gap = np.abs(np.bincount(bin_id, weights=y, minlength=n_bins) - np.bincount(bin_id, weights=p, minlength=n_bins))
    return float(gap[count > 0].sum() / y.size)  # sum_b n_b/N * |sum_y/n_b - sum_p/n_b| = sum_b |sum_y - sum_p| / N
