"""Quintile bin edges, pandas-identical interval labels and bin assignment (FIDDLE's discretization).

FIDDLE computes edges with `np.unique(np.nanpercentile(x, [0, 20, 40, 60, 80, 100]))`, cuts with
`pd.cut(x, edges, include_lowest=True)` and names one-hot columns after pandas' interval labels, e.g.
`HR_value_(60.999, 69.2]`. The same numbers are computed here from value counts (so edges can be fitted shard by
shard with exact results) and the labels are formatted without pandas.
"""

from __future__ import annotations

import numpy as np

QUANTILES = np.linspace(0, 100, 6)  # FIDDLE: q = 5 bins


def percentiles_from_counts(values: np.ndarray, counts: np.ndarray, q: np.ndarray = QUANTILES) -> np.ndarray:
    """numpy's linear `percentile` of the multiset {values[i] repeated counts[i]}, without expanding it.

    Mirrors numpy's method="linear": virtual index (n - 1) * q, floor/ceil neighbours and numpy's
    two-sided lerp, so the result equals `np.nanpercentile(np.repeat(values, counts), q)` bit for bit.

    Args:
        values: Distinct finite values, sorted ascending.
        counts: Positive multiplicity of each value.
        q: Percentiles in [0, 100].

    Returns:
        One value per percentile.
    """
    cum = np.cumsum(counts)
    n = int(cum[-1])
    quant = np.true_divide(q, 100)
    virtual = (n - 1) * quant
    prev = np.floor(virtual).astype(np.intp)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = n - 1
    nxt[above] = n - 1
    below = virtual < 0
    prev[below] = 0
    nxt[below] = 0
    gamma = np.asanyarray(virtual - np.floor(virtual))
    a = values[np.searchsorted(cum, prev, side="right")]
    b = values[np.searchsorted(cum, nxt, side="right")]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def bin_edges_from_counts(values: np.ndarray, counts: np.ndarray) -> list[float] | None:
    """FIDDLE's `compute_bin_edges`: None unless there are more than two distinct numbers.

    Args:
        values: Distinct numbers, sorted.
        counts: Their multiplicities.

    Returns:
        The unique quintile edges, or None.
    """
    if len(values) <= 2:
        return None
    return [float(e) for e in np.unique(percentiles_from_counts(values, counts))]


def _round_frac(x: float, precision: int) -> float:
    if not np.isfinite(x) or x == 0:
        return x
    frac, whole = np.modf(x)
    digits = -int(np.floor(np.log10(abs(frac)))) - 1 + precision if whole == 0 else precision
    return float(np.around(x, digits))


def _infer_precision(edges: list[float], base: int = 3) -> int:
    for precision in range(base, 20):
        if len(set(_round_frac(e, precision) for e in edges)) == len(edges):
            return precision
    return base


def interval_labels(edges: list[float]) -> list[str]:
    """pandas' labels for `pd.cut(x, edges, include_lowest=True)`: '(a, b]' with the first left end lowered.

    Args:
        edges: Strictly increasing bin edges (at least two).

    Returns:
        len(edges) - 1 labels.
    """
    precision = _infer_precision(edges)
    breaks = [_round_frac(e, precision) for e in edges]
    breaks[0] = breaks[0] - 10 ** (-precision)
    return [f"({repr(float(lo))}, {repr(float(hi))}]" for lo, hi in zip(breaks[:-1], breaks[1:])]


def assign_bins(values: np.ndarray, edges: np.ndarray, extend: bool = False) -> np.ndarray:
    """Bin index of each value as `pd.cut(..., include_lowest=True)` gives it; -1 outside the edges or NaN.

    Args:
        values: Numbers to cut.
        edges: Strictly increasing edges.
        extend: Put values below the first edge into the first bin and above the last into the last bin
            (serving-time option; FIDDLE leaves them out).

    Returns:
        int64 bin indices in [0, len(edges) - 2], or -1.
    """
    idx = np.searchsorted(edges, values, side="left")
    idx[values == edges[0]] = 1
    if extend:
        idx = np.clip(idx, 1, len(edges) - 1)
    bad = (idx == 0) | (idx == len(edges)) | np.isnan(values)
    out = idx.astype(np.int64) - 1
    out[bad] = -1
    return out
