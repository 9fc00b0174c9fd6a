"""FIDDLE's step 3, the post-filter, from statistics that add up over batches of training rows.

1. Nearly constant features are dropped: for S, sklearn's VarianceThreshold(theta_2 * (1 - theta_2)); for X,
   FIDDLE's temporal rule (kept when more than theta_2 of IDs are not always 0 and more than theta_2 are not
   always 1 over their bins).
2. Of features whose Pearson correlation with an earlier kept-so-far feature is +-1 (np.isclose), only the
   first is kept; the others become its aliases (`~{name}` for -1), as FIDDLE's CorrelationSelector does.
FIDDLE forms the full D x D correlation matrix; here only pairs that can reach |r| ~ 1 are examined: for 0/1
features |r| <= sqrt(a(n-b) / (b(n-a))) (a <= b their counts), so such pairs have nearly equal log-odds
log(a / (n - a)) (or opposite ones for r ~ -1). Pairs with a non-binary feature are always examined.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import scipy.sparse as sp

_WINDOW = 1e-4  # log-odds gap beyond which |r| < 1 - 2e-5 for sure (np.isclose needs |r| >= 1 - 1.0001e-5)
_PAIR_NNZ = 1 << 24


class FilterStats:
    """Per-feature sums over training rows (one table: S or X).

    Args:
        n_features: Features before filtering.
        L: Bins per ID (X) or None for S (one row per ID).
    """

    def __init__(self, n_features: int, L: int | None) -> None:
        self.L = L
        self.n_rows = 0
        self.n_ids = 0
        self.sum = np.zeros(n_features)
        self.sumsq = np.zeros(n_features)
        self.nnz = np.zeros(n_features, np.int64)
        self.nonbinary = np.zeros(n_features, bool)
        self.ids_nonzero = np.zeros(n_features, np.int64)
        self.ids_all_one = np.zeros(n_features, np.int64)
        self._static_parts: list[sp.csr_matrix] = []  # S is small (IDs x d): kept for sklearn's exact variance

    def update(self, m: sp.csr_matrix) -> None:
        """Add one batch (rows: IDs for S, ID-major (ID, bin) for X)."""
        csc = m.tocsc()
        csc.sort_indices()
        n_feat = csc.shape[1]
        col = np.repeat(np.arange(n_feat), np.diff(csc.indptr))
        x = csc.data
        self.n_rows += m.shape[0]
        self.n_ids += m.shape[0] // (self.L or 1)
        self.sum += np.bincount(col, x, n_feat)
        self.sumsq += np.bincount(col, x * x, n_feat)
        self.nnz += np.diff(csc.indptr)
        self.nonbinary |= np.bincount(col, x != 1, n_feat) > 0
        if self.L is None:
            self._static_parts.append(m.tocsr())
            return
        ids = csc.indices // self.L
        self.ids_nonzero += _count_runs(col, ids, n_feat, min_len=1)
        one = x == 1
        self.ids_all_one += _count_runs(col[one], ids[one], n_feat, min_len=self.L)

    def frequency_keep(self, theta: float) -> np.ndarray:
        """Step 1 decision per feature."""
        if self.L is None:
            return _sklearn_sparse_variance(self._static_parts, len(self.sum), theta == 0) > theta * (1 - theta)
        n = max(self.n_ids, 1)
        return (self.ids_nonzero / n > theta) & ((self.n_ids - self.ids_all_one) / n > theta)


def _sklearn_sparse_variance(parts: list[sp.csr_matrix], n_feat: int, with_ptp: bool) -> np.ndarray:
    """Column variances computed as sklearn's VarianceThreshold does on a sparse matrix (FIDDLE's input).

    Same operations in the same order (sequential sums over stored values in row order, the corrected two-pass
    formula), so features lying exactly on the threshold are kept or dropped as FIDDLE keeps or drops them.
    """
    if not parts:
        return np.zeros(n_feat)
    csc = sp.vstack(parts, format="csc")
    csc.sort_indices()
    n = csc.shape[0]
    var = np.zeros(n_feat)
    for j in range(n_feat):
        x = csc.data[csc.indptr[j]:csc.indptr[j + 1]].astype(np.float64)
        k = len(x)
        mean = (np.cumsum(x)[-1] if k else 0.0) / n
        diff = x - mean
        acc = np.cumsum(diff * diff)[-1] if k else 0.0
        corr = np.cumsum(diff)[-1] if k else 0.0
        if k != n:
            corr -= (n - k) * mean
            acc += (n - k) * mean ** 2
        var[j] = (acc - corr ** 2 / n) / n
        if with_ptp:  # sklearn: with threshold 0, peak-to-peak guards against rounding
            lo = min(x.min(initial=np.inf), 0.0 if k < n else np.inf)
            hi = max(x.max(initial=-np.inf), 0.0 if k < n else -np.inf)
            var[j] = min(var[j], hi - lo)
    return var


def _count_runs(col: np.ndarray, ids: np.ndarray, n_feat: int, min_len: int) -> np.ndarray:
    """Per feature, the number of IDs with at least `min_len` entries (entries sorted by feature, then row)."""
    if len(col) == 0:
        return np.zeros(n_feat, np.int64)
    start = np.ones(len(col), bool)
    start[1:] = (col[1:] != col[:-1]) | (ids[1:] != ids[:-1])
    begins = np.flatnonzero(start)
    lengths = np.diff(np.append(begins, len(col)))
    return np.bincount(col[begins][lengths >= min_len], minlength=n_feat)


def candidate_pairs(stats: FilterStats, kept: np.ndarray) -> np.ndarray:
    """Pairs (i, j), i < j feature indices among `kept`, that could be perfectly correlated."""
    n = stats.n_rows
    idx = np.flatnonzero(kept)
    s = stats.sum[idx]
    var = stats.sumsq[idx] - s * s / max(n, 1)
    varying = var > 0
    binary = ~stats.nonbinary[idx] & varying
    pairs = []
    b = idx[binary]
    if len(b) > 1:
        u = np.log(stats.sum[b]) - np.log(n - stats.sum[b])
        order = np.argsort(u, kind="stable")
        us, bs = u[order], b[order]
        for target, sign in ((us, 1), (-us, -1)):
            lo = np.searchsorted(us, target - _WINDOW, "left")
            hi = np.searchsorted(us, target + _WINDOW, "right")
            cnt = hi - lo
            left = np.repeat(bs, cnt)
            right = bs[np.concatenate([np.arange(a, z) for a, z in zip(lo, hi)])] if cnt.sum() else left[:0]
            pairs.append(np.stack([left, right], 1))
    nb = idx[~binary & varying]
    others = idx[varying]
    if len(nb):
        pairs.append(np.stack([np.repeat(nb, len(others)), np.tile(others, len(nb))], 1))
    if not pairs:
        return np.zeros((0, 2), np.int64)
    p = np.concatenate(pairs)
    p = np.sort(p[p[:, 0] != p[:, 1]], axis=1)
    return np.unique(p, axis=0) if len(p) else p.reshape(0, 2)


class CoProducts:
    """Sum over training rows of x_i * x_j for candidate pairs, batch by batch."""

    def __init__(self, pairs: np.ndarray) -> None:
        self.pairs = pairs
        self.co = np.zeros(len(pairs))

    def update(self, m: sp.csr_matrix) -> None:
        """Add one batch."""
        if len(self.pairs) == 0:
            return
        csc = m.tocsc()
        nnz = np.diff(csc.indptr)
        cum = np.cumsum(nnz[self.pairs[:, 0]] + nnz[self.pairs[:, 1]])
        start = 0
        while start < len(self.pairs):
            limit = (cum[start - 1] if start else 0) + _PAIR_NNZ
            stop = max(int(np.searchsorted(cum, limit, "right")), start + 1)
            a = csc[:, self.pairs[start:stop, 0]]
            b = csc[:, self.pairs[start:stop, 1]]
            self.co[start:stop] += np.asarray(a.multiply(b).sum(axis=0)).ravel()
            start = stop


def correlated(stats: FilterStats, kept: np.ndarray, co: CoProducts,
               names: list[str]) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Step 2 decision: the kept mask after dropping perfectly correlated features, and FIDDLE's alias map.

    Args:
        stats: Training sums.
        kept: Features surviving step 1.
        co: Co-products of `candidate_pairs(stats, kept)`.
        names: All feature names.

    Returns:
        New kept mask over all features, and {kept name: [aliases]}.
    """
    n = stats.n_rows
    p = co.pairs
    keep = kept.copy()
    if len(p) == 0 or n < 2:
        return keep, {}
    s, q = stats.sum, stats.sumsq
    cov = (co.co - s[p[:, 0]] * s[p[:, 1]] / n) / (n - 1)
    d = (q - s * s / n) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(d[p[:, 0]] * d[p[:, 1]])
    flag = np.isclose(np.abs(r), 1.0)
    first: dict[int, tuple[int, float]] = {}
    for j, i, rr in sorted(zip(p[flag, 0], p[flag, 1], r[flag]), key=lambda x: (x[1], x[0])):
        first.setdefault(int(i), (int(j), float(rr)))
    aliases: dict[str, list[str]] = defaultdict(list)
    for i in sorted(first):
        j, rr = first[i]
        keep[i] = False
        aliases[names[j]].append(names[i] if np.isclose(rr, 1.0) else "~{" + names[i] + "}")
    return keep, dict(aliases)
