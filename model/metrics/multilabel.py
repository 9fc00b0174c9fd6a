"""Multi-label metrics: Recall@k for code prediction and macro/micro/per-label AUROC and AUPR."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.errors import DataValidationError
from model.metrics._common import _labels, _one_class_reason, _scores, _warn


def recall_at_k(y_true_multi: Any, scores: Any, k: int, *, denominator: Literal["true", "min_k"] = "true") -> float:
    """Recall@k for code prediction, as AutoFM evaluates diagnosis prediction.

    Per patient: hits = number of true codes among the k highest-scored codes. The default ``denominator="true"``
    is the AutoFM reference (SH-Src/AUTOMF ``search_recall.py``: ``mean(topk_hits / sum(labels))``), which caps
    below 1 when a patient has more than k codes. ``denominator="min_k"`` divides by ``min(k, |true|)`` so that a
    perfect ranking scores 1. Patients with no true code are excluded (the reference gets 0/0 there). Ties in
    scores go to the lower label index (stable sort), so the result is deterministic.

    Args:
        y_true_multi: 0/1 matrix [N, L] of true codes.
        scores: Score matrix [N, L].
        k: Number of top codes, 1 <= k <= L.
        denominator: "true" (reference) or "min_k".

    Returns:
        Mean recall over patients with at least one true code; NaN (with a warning) when there are none.

    Raises:
        DataValidationError: Bad shapes or values, k out of range or an unknown denominator.
    """
    y = _labels(y_true_multi, "y_true_multi", ndim=2)
    s = _scores(scores, "scores", y.shape)
    if not isinstance(k, int | np.integer) or not 1 <= k <= y.shape[1]:
        raise DataValidationError(f"k={k!r} out of range", field="k", expected=f"an int in [1, {y.shape[1]}]")
    if denominator not in ("true", "min_k"):
        raise DataValidationError(f"unknown value {denominator!r}", field="denominator", expected="'true' or 'min_k'")
    n_true = y.sum(axis=1)
    keep = n_true > 0
    if not keep.any():
        _warn("recall@k undefined: no patient has a true code")
        return math.nan
    top = np.argsort(-s[keep], axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(y[keep], top, axis=1).sum(axis=1)
    denom = n_true[keep] if denominator == "true" else np.minimum(n_true[keep], k)
    return float(np.mean(hits / denom))


def multilabel_metrics(Y: Any, S: Any, label_names: Sequence[str] | None = None) -> dict[str, Any]:  # noqa: N803
    """Macro/micro AUROC and AUPR plus per-label scores for a multi-label task.

    Macro averages over labels with both classes present; labels with one class are listed in
    'excluded_labels' and their per-label row carries the reason. Micro pools all (patient, label) cells.

    Args:
        Y: 0/1 label matrix [N, L].
        S: Score matrix [N, L].
        label_names: L names; defaults to "0".."L-1".

    Returns:
        {'macro_auroc', 'macro_aupr', 'micro_auroc', 'micro_aupr', 'n_labels', 'n_labels_used',
        'excluded_labels', 'per_label': [{'label', 'auroc', 'aupr', 'n_pos', 'prevalence', 'reason'}]}.
    """
    y = _labels(Y, "Y", ndim=2)
    s = _scores(S, "S", y.shape)
    names = [str(i) for i in range(y.shape[1])] if label_names is None else [str(n) for n in label_names]
    if len(names) != y.shape[1]:
        raise DataValidationError(f"has {len(names)} names for {y.shape[1]} labels", field="label_names")
    rows, excluded = [], []
    for j, name in enumerate(names):
        reason = _one_class_reason(y[:, j])
        good = reason is None
        rows.append({"label": name, "auroc": float(roc_auc_score(y[:, j], s[:, j])) if good else math.nan,
                     "aupr": float(average_precision_score(y[:, j], s[:, j])) if good else math.nan,
                     "n_pos": int(y[:, j].sum()), "prevalence": float(y[:, j].mean()), "reason": reason})
        if not good:
            excluded.append(name)
    used = [r for r in rows if r["reason"] is None]
    flat_y, flat_s = y.ravel(), s.ravel()
    micro_ok = _one_class_reason(flat_y) is None
    if not used:
        _warn("macro AUROC/AUPR undefined: every label has only one class")
    return {
        "macro_auroc": float(np.mean([r["auroc"] for r in used])) if used else math.nan,
        "macro_aupr": float(np.mean([r["aupr"] for r in used])) if used else math.nan,
        "micro_auroc": float(roc_auc_score(flat_y, flat_s)) if micro_ok else math.nan,
        "micro_aupr": float(average_precision_score(flat_y, flat_s)) if micro_ok else math.nan,
        "n_labels": len(names), "n_labels_used": len(used), "excluded_labels": excluded, "per_label": rows,
    }
