"""`evaluate_binary`: every binary evaluation number in one strict-JSON dict (the report's input)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from model.metrics._common import MetricUndefinedWarning, _binary, _one_class_reason
from model.metrics.binary import binary_metrics
from model.metrics.bootstrap import bootstrap_metric
from model.metrics.calibration import expected_calibration_error
from model.metrics.subgroups import subgroup_metrics


def _json_safe(obj: Any) -> Any:
    """Numpy scalars to Python, NaN/inf to None, recursively (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def evaluate_binary(
    y_true: Any, y_score: Any, *, groups: Mapping[str, Any] | None = None, n_boot: int = 1000, seed: int = 0,
    alpha: float = 0.05, n_bins: int = 15,
) -> dict[str, Any]:
    """All binary evaluation numbers in one strict-JSON-serialisable dict (NaN becomes None).

    Keys: 'n', 'n_pos', 'prevalence', 'auroc', 'auroc_ci_low', 'auroc_ci_high', 'aupr', 'aupr_ci_low',
    'aupr_ci_high', 'ece' (None unless y_score is in [0, 1]), 'bootstrap' (n_boot, n_skipped, alpha, seed,
    method), 'subgroups' (rows of `subgroup_metrics` with AUROC CIs) and 'notes' (why anything is None).

    Args:
        y_true: Binary labels [N].
        y_score: Scores or probabilities [N].
        groups: Optional grouping name -> values [N] for subgroup rows.
        n_boot: Bootstrap resamples for the CIs (0 disables CIs).
        seed: Bootstrap seed.
        alpha: CI level.
        n_bins: ECE bins (uniform).
    """
    y, s = _binary(y_true, y_score)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)  # reasons go to 'notes' instead
        point = binary_metrics(y, s)
        out: dict[str, Any] = dict(point)
        if (reason := _one_class_reason(y)) is not None:
            notes.append(reason)
        boot_info: dict[str, Any] = {"n_boot": n_boot, "alpha": alpha, "seed": seed, "method": "percentile",
                                     "n_skipped": None}
        for name in ("auroc", "aupr"):
            low = high = math.nan
            if n_boot > 0 and reason is None:
                r = bootstrap_metric(name, y, s, n_boot=n_boot, alpha=alpha, seed=seed)
                low, high, boot_info["n_skipped"] = r.low, r.high, r.n_skipped
            out[f"{name}_ci_low"], out[f"{name}_ci_high"] = low, high
        out["bootstrap"] = boot_info
        if 0.0 <= s.min() and s.max() <= 1.0:
            out["ece"] = expected_calibration_error(y, s, n_bins=n_bins)
        else:
            out["ece"] = None
            notes.append("ece: y_score is not in [0, 1] (not probabilities)")
        out["subgroups"] = subgroup_metrics(y, s, groups or {}, n_boot=n_boot, alpha=alpha, seed=seed)
    out["notes"] = notes
    return _json_safe(out)
