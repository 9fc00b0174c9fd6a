"""ROC and PR curve points for plotting, thinned along the curve length."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from model.errors import DataValidationError
from model.metrics._common import _binary, _one_class_reason, _warn


def _thin(x: np.ndarray, y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most `max_points` points spread evenly along the curve's length (ends kept)."""
    if x.size <= max_points:
        return np.arange(x.size)
    dist = np.r_[0.0, np.cumsum(np.hypot(np.diff(x), np.diff(y)))]
    idx = np.searchsorted(dist, np.linspace(0.0, dist[-1], max_points - 1))
    return np.unique(np.r_[np.minimum(idx, x.size - 1), x.size - 1])


def curves(y_true: Any, y_score: Any, max_points: int = 200) -> dict[str, Any]:
    """ROC and PR curve points for plotting, thinned to at most `max_points` each (ends kept).

    Returns:
        {'roc': {'fpr', 'tpr', 'threshold'}, 'pr': {'recall', 'precision', 'threshold'}, 'reason'} as lists;
        thresholds with no finite value (ROC's first, PR's last point) are None. With one class only the lists
        are empty and 'reason' says why.
    """
    y, s = _binary(y_true, y_score)
    if max_points < 2:
        raise DataValidationError(f"max_points={max_points!r}", field="max_points", expected="an int >= 2")
    if (reason := _one_class_reason(y)) is not None:
        _warn(reason)
        empty = {"fpr": [], "tpr": [], "threshold": []}
        return {"roc": empty, "pr": {"recall": [], "precision": [], "threshold": []}, "reason": reason}
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=True)
    prec, rec, pthr = precision_recall_curve(y, s)
    pthr = np.r_[pthr, np.inf]  # PR's last point (recall 0, precision 1) has no threshold
    i, j = _thin(fpr, tpr, max_points), _thin(rec, prec, max_points)

    def fin(a: np.ndarray) -> list[float | None]:
        return [float(v) if np.isfinite(v) else None for v in a]

    return {"roc": {"fpr": fin(fpr[i]), "tpr": fin(tpr[i]), "threshold": fin(thr[i])},
            "pr": {"recall": fin(rec[j]), "precision": fin(prec[j]), "threshold": fin(pthr[j])}, "reason": None}
