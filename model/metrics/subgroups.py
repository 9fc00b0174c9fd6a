"""Per-subgroup AUROC/AUPR (with optional bootstrap CIs) and age-band labelling."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.errors import DataValidationError
from model.metrics._common import MetricUndefinedWarning, _binary, _one_class_reason
from model.metrics.bootstrap import bootstrap_metric


def age_bands(ages: Any, edges: Sequence[int] = (18, 40, 60, 75, 200)) -> np.ndarray:
    """Label ages by band [edges[i], edges[i+1]) as 'lo-(hi-1)', e.g. 39.9 -> '18-39' and 40 -> '40-59'.

    Ages below the first edge get '<18', at or above the last '200+', NaN gets 'unknown'.

    Args:
        ages: Ages in years [N] (floats allowed).
        edges: Strictly increasing integer edges (at least 2).

    Returns:
        Array of str labels [N].
    """
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or np.any(e != np.round(e)):
        raise DataValidationError(f"edges={tuple(edges)!r}", field="edges", expected="at least 2 increasing integers")
    a = np.asarray(ages, dtype=np.float64)
    if a.ndim != 1:
        raise DataValidationError(f"must be 1-D, got shape {a.shape}", field="ages")
    ei = [int(v) for v in e]
    names = [f"<{ei[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in zip(ei[:-1], ei[1:], strict=True)] + [f"{ei[-1]}+"]
    out = np.asarray(names, dtype=object)[np.searchsorted(e, np.nan_to_num(a, nan=0.0), side="right")]
    out[np.isnan(a)] = "unknown"
    return out.astype(str)


def _group_values(v: Any, name: str, n: int) -> np.ndarray:
    arr = np.asarray(v, dtype=object)
    if arr.shape != (n,):
        raise DataValidationError(f"has shape {arr.shape} but y_true has shape ({n},)", field=f"groups['{name}']")
    missing = np.array([x is None or (isinstance(x, float) and math.isnan(x)) for x in arr], dtype=bool)
    return np.where(missing, "unknown", arr.astype(str))


def subgroup_metrics(
    y_true: Any, y_score: Any, groups: Mapping[str, Any], *, n_boot: int = 0, alpha: float = 0.05, seed: int = 0,
) -> list[dict[str, Any]]:
    """AUROC/AUPR per value of each grouping variable (e.g. {'sex': sex, 'age_band': age_bands(age)}).

    Args:
        y_true: Binary labels [N].
        y_score: Scores [N].
        groups: Grouping name -> values [N]; None/NaN values form the group 'unknown'.
        n_boot: When > 0, add 'auroc_ci_low'/'auroc_ci_high' from a bootstrap within each subgroup.
        alpha: CI level.
        seed: Bootstrap seed.

    Returns:
        Rows {'group', 'value', 'n', 'n_pos', 'prevalence', 'auroc', 'aupr', 'reason'} sorted by group then
        value; auroc/aupr NaN with a 'reason' when the subgroup has one class only.
    """
    y, s = _binary(y_true, y_score)
    rows = []
    for name, raw in groups.items():
        vals = _group_values(raw, name, y.size)
        for value in sorted(set(vals.tolist())):
            m = vals == value
            ys, ss = y[m], s[m]
            reason = _one_class_reason(ys)
            row = {"group": str(name), "value": value, "n": int(m.sum()), "n_pos": int(ys.sum()),
                   "prevalence": float(ys.mean()), "auroc": math.nan, "aupr": math.nan, "reason": reason}
            if reason is None:
                row["auroc"], row["aupr"] = float(roc_auc_score(ys, ss)), float(average_precision_score(ys, ss))
            if n_boot > 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", MetricUndefinedWarning)  # small groups: reported in the row
                    b = bootstrap_metric("auroc", ys, ss, n_boot=n_boot, alpha=alpha, seed=seed)
                row.update(auroc_ci_low=b.low, auroc_ci_high=b.high, n_boot_skipped=b.n_skipped)
            rows.append(row)
    return rows
