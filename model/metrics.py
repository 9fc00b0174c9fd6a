"""Evaluation metrics: binary and multi-label discrimination, recall@k, calibration, bootstrap CIs, subgroups.

Used by the AutoFM search/pruning loops, the evaluation report and the pipeline's Metrics artifact.
Conventions: metrics that are undefined for the data (one class only) are NaN and raise a
`MetricUndefinedWarning` that says why; malformed input raises `DataValidationError` (a `ValueError`)
naming the argument at fault. Pure numpy + scikit-learn.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from model.errors import DataValidationError

__all__ = [
    "BootstrapResult", "MetricUndefinedWarning", "age_bands", "aupr", "auroc", "binary_metrics", "bootstrap_ci",
    "bootstrap_metric", "curves", "evaluate_binary", "expected_calibration_error", "multilabel_metrics",
    "recall_at_k", "subgroup_metrics",
]

_BOOT_CELLS = 2_000_000  # resamples x samples per vectorised block: caps each temporary near 16 MB


class MetricUndefinedWarning(UserWarning):
    """A metric is NaN because the data cannot define it (e.g. only one class in y_true)."""


# ---------------------------------------------------------------- validation
def _labels(y: Any, name: str, ndim: int = 1) -> np.ndarray:
    """Return `y` as an int8 array of 0/1 with `ndim` dims, or raise naming `name`."""
    arr = np.asarray(y)
    if arr.ndim != ndim:
        raise DataValidationError(f"must be {ndim}-D, got shape {arr.shape}", field=name)
    if arr.size == 0:
        raise DataValidationError("is empty", field=name)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise DataValidationError(f"has non-numeric dtype {arr.dtype}", field=name, expected="0/1 or bool labels")
    bad = ~np.isin(arr, (0, 1))  # NaN is caught here too
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise DataValidationError(
            f"has {int(bad.sum())} values outside {{0, 1}} (first at flat index {first}: {arr.ravel()[first]!r})",
            field=name, expected="0/1 labels")
    return arr.astype(np.int8)


def _scores(s: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return `s` as finite float64 of the given shape, or raise naming `name`."""
    arr = np.asarray(s, dtype=np.float64)
    if arr.shape != shape:
        raise DataValidationError(f"has shape {arr.shape} but the labels have shape {shape}", field=name)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise DataValidationError(f"has {int(bad.sum())} NaN/inf values (first at flat index {first})",
                                  field=name, expected="finite scores")
    return arr


def _binary(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(y_true, "y_true")
    return y, _scores(y_score, "y_score", y.shape)


def _one_class_reason(y: np.ndarray) -> str | None:
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        return f"only one class in y_true (n={y.size}, n_pos={n_pos}): AUROC/AUPR undefined"
    return None


def _warn(reason: str) -> None:
    warnings.warn(reason, MetricUndefinedWarning, stacklevel=3)


# ---------------------------------------------------------------- binary
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


# ---------------------------------------------------------------- multi-label
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


# ---------------------------------------------------------------- bootstrap
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


# ---------------------------------------------------------------- calibration
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


# ---------------------------------------------------------------- subgroups
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


# ---------------------------------------------------------------- curves and report
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
