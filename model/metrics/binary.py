"""Binary discrimination metrics: AUROC, AUPR and the point-metric dict, plus the weighted AUROC/AP kernel."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.metrics._common import _binary, _one_class_reason, _warn


def auroc(y_true: Any, y_score: Any) -> float:
    """Rank-based (Mann-Whitney U) AUROC with tied scores counted as 1/2; equals sklearn's roc_auc_score.

    Args:
        y_true: Binary labels, shape [N].
        y_score: Scores (any monotone scale), shape [N].

    Returns:
        AUROC, or NaN (with a MetricUndefinedWarning) when only one class is present.
    """
    y, s = _binary(y_true, y_score)
    if (reason := _one_class_reason(y)) is not None:
        _warn(reason)
        return math.nan
    auc, _ = _weighted_auc_ap(y, s, np.ones((1, y.size)))
    return float(auc[0])


def aupr(y_true: Any, y_score: Any) -> float:
    """Average precision (sklearn's step-wise AUPR); NaN with a warning when only one class is present."""
    y, s = _binary(y_true, y_score)
    if (reason := _one_class_reason(y)) is not None:
        _warn(reason)
        return math.nan
    return float(average_precision_score(y, s))


def binary_metrics(y_true: Any, y_score: Any) -> dict[str, float]:
    """Point metrics of a binary classifier.

    Args:
        y_true: Binary labels (0/1 or bool), shape [N].
        y_score: Finite scores or probabilities, shape [N].

    Returns:
        {'auroc', 'aupr', 'prevalence', 'n', 'n_pos'}. With one class only, auroc and aupr are NaN (AUPR is
        also NaN when all are positive, where it would be a trivial 1.0) and a MetricUndefinedWarning says why.

    Raises:
        DataValidationError: Empty input, labels not 0/1, NaN/inf scores or a shape mismatch.
    """
    y, s = _binary(y_true, y_score)
    n, n_pos = int(y.size), int(y.sum())
    out = {"auroc": math.nan, "aupr": math.nan, "prevalence": n_pos / n, "n": n, "n_pos": n_pos}
    if (reason := _one_class_reason(y)) is not None:
        _warn(reason)
        return out
    out["auroc"] = float(roc_auc_score(y, s))
    out["aupr"] = float(average_precision_score(y, s))
    return out


def _weighted_auc_ap(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUROC and AP for each row of sample weights `w` [B, N] (a resample = integer counts), vectorised.

    Samples are grouped by distinct score so ties are handled as sklearn does: AUROC gives tied
    positive/negative pairs 1/2, AP steps once per distinct threshold.
    """
    order = np.argsort(s, kind="stable")
    s_sorted, y_sorted = s[order], y[order].astype(bool)
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    ws = w[:, order]
    pos = np.add.reduceat(np.where(y_sorted, ws, 0.0), starts, axis=1)  # [B, distinct scores], ascending
    neg = np.add.reduceat(np.where(y_sorted, 0.0, ws), starts, axis=1)
    p_tot, n_tot = pos.sum(axis=1), neg.sum(axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (neg_below + 0.5 * neg)).sum(axis=1) / (p_tot * n_tot)
        tp, fp = np.cumsum(pos[:, ::-1], axis=1), np.cumsum(neg[:, ::-1], axis=1)  # descending thresholds
        ap = (pos[:, ::-1] * tp / np.maximum(tp + fp, 1e-300)).sum(axis=1) / p_tot
    return auc, ap
