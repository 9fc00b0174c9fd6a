"""Percentile bootstrap CIs (vectorised for AUROC/AUPR, optional cluster resampling)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from model.errors import DataValidationError
from model.metrics._common import MetricUndefinedWarning, _binary, _warn
from model.metrics.binary import _weighted_auc_ap, aupr, auroc

_BOOT_CELLS = 2_000_000  # resamples x samples per vectorised block: caps each temporary near 16 MB


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile bootstrap of one metric.

    Attributes:
        point: Metric on the full data.
        low: Lower percentile bound (alpha/2), NaN when fewer than 2 resamples were usable.
        high: Upper percentile bound (1 - alpha/2).
        n_boot: Resamples drawn.
        n_skipped: Resamples skipped because they held one class only.
        alpha: Two-sided level.
    """

    point: float
    low: float
    high: float
    n_boot: int
    n_skipped: int
    alpha: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict of the fields."""
        return asdict(self)


def _fast_path(metric_fn: Callable[..., float] | str) -> int | None:
    """Column of `_weighted_auc_ap` that computes `metric_fn`, or None for an arbitrary callable."""
    if metric_fn in ("auroc", auroc, roc_auc_score):
        return 0
    if metric_fn in ("aupr", aupr, average_precision_score):
        return 1
    if isinstance(metric_fn, str):
        raise DataValidationError(f"unknown metric {metric_fn!r}", field="metric_fn", expected="'auroc', 'aupr'")
    return None


def bootstrap_metric(
    metric_fn: Callable[..., float] | str, y_true: Any, y_score: Any, *, n_boot: int = 1000, alpha: float = 0.05,
    seed: int = 0, groups: Any = None, skip_single_class: bool = True,
) -> BootstrapResult:
    """Percentile bootstrap CI of `metric_fn(y_true, y_score)`, with the count of skipped resamples.

    AUROC/AUPR ('auroc', 'aupr', this module's `auroc`/`aupr`, or sklearn's roc_auc_score /
    average_precision_score) are computed for all resamples at once from resample counts; any other callable
    is called once per resample. With `groups` (e.g. patient ids for several stays per patient) whole groups are
    resampled (cluster bootstrap), keeping their samples together.

    Args:
        metric_fn: Metric name or callable (y_true, y_score) -> float.
        y_true: Binary labels [N].
        y_score: Scores [N].
        n_boot: Number of resamples (>= 1).
        alpha: Two-sided level; the interval is the [alpha/2, 1-alpha/2] percentiles.
        seed: Seed of numpy's default_rng; same seed, same interval.
        groups: Optional cluster id per sample [N].
        skip_single_class: Skip (and count) resamples whose labels hold one class only.

    Returns:
        A BootstrapResult.
    """
    y, s = _binary(y_true, y_score)
    if not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise DataValidationError(f"n_boot={n_boot!r}", field="n_boot", expected="an int >= 1")
    if not 0 < alpha < 1:
        raise DataValidationError(f"alpha={alpha!r}", field="alpha", expected="0 < alpha < 1")
    fast = _fast_path(metric_fn)
    if groups is None:
        cluster, n_clusters = np.arange(y.size), y.size
    else:
        g = np.asarray(groups)
        if g.shape != y.shape:
            raise DataValidationError(f"has shape {g.shape} but y_true has shape {y.shape}", field="groups")
        try:
            _, cluster = np.unique(g, return_inverse=True)
        except TypeError:  # mixed-type object ids are not orderable: compare them as strings
            _, cluster = np.unique(g.astype(str), return_inverse=True)
        n_clusters = int(cluster.max()) + 1
    rng = np.random.default_rng(seed)
    values: list[np.ndarray] = []
    chunk = max(1, min(250, _BOOT_CELLS // y.size))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        draws = rng.integers(0, n_clusters, size=(b, n_clusters))
        counts = np.bincount((draws + n_clusters * np.arange(b)[:, None]).ravel(), minlength=b * n_clusters)
        w = counts.reshape(b, n_clusters)[:, cluster].astype(np.float64)  # resample counts per sample
        n_pos_w = w @ y
        ok = (n_pos_w > 0) & (n_pos_w < w.sum(axis=1)) if skip_single_class else np.ones(b, dtype=bool)
        if fast is not None:
            vals = _weighted_auc_ap(y, s, w[ok])[fast]
        else:
            picks = (np.repeat(np.arange(y.size), wi.astype(np.int64)) for wi in w[ok])
            vals = np.array([metric_fn(y[i], s[i]) for i in picks], dtype=np.float64)
        values.append(vals)
    boot = np.concatenate(values)
    boot = boot[np.isfinite(boot)]
    n_skipped = n_boot - boot.size
    if n_skipped:
        _warn(f"bootstrap: {n_skipped} of {n_boot} resamples skipped (one class only or undefined metric)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)  # one-class data is already in the skip warning
        point = _point(metric_fn, fast, y, s)
    low, high = (np.percentile(boot, [50 * alpha, 100 - 50 * alpha]) if boot.size >= 2 else (math.nan, math.nan))
    return BootstrapResult(point, float(low), float(high), int(n_boot), int(n_skipped), float(alpha))


def _point(metric_fn: Callable[..., float] | str, fast: int | None, y: np.ndarray, s: np.ndarray) -> float:
    if fast is not None:
        return (auroc, aupr)[fast](y, s)
    return float(metric_fn(y, s))


def bootstrap_ci(
    metric_fn: Callable[..., float] | str, y_true: Any, y_score: Any, n_boot: int = 1000, alpha: float = 0.05,
    seed: int = 0, groups: Any = None,
) -> tuple[float, float, float]:
    """Percentile bootstrap CI as (point, low, high); see `bootstrap_metric` for details and the skip count."""
    r = bootstrap_metric(metric_fn, y_true, y_score, n_boot=n_boot, alpha=alpha, seed=seed, groups=groups)
    return r.point, r.low, r.high
