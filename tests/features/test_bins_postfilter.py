"""Discretization and post-filter agree with the libraries FIDDLE uses (numpy, pandas, sklearn) and its rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_selection import VarianceThreshold

from model.features.bins import assign_bins, interval_labels, percentiles_from_counts
from model.features.postfilter import CoProducts, FilterStats, candidate_pairs, correlated


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_from_counts_equal_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        x = np.round(rng.normal(size=int(rng.integers(1, 80))) * rng.choice([0.01, 1, 1000]), int(rng.integers(0, 4)))
        values, counts = np.unique(x, return_counts=True)
        want = np.nanpercentile(x, np.linspace(0, 100, 6))
        np.testing.assert_array_equal(percentiles_from_counts(values, counts), want)


@pytest.mark.parametrize("scale", [1e-4, 0.37, 1.0, 52.0, 1e5])
def test_labels_and_bins_equal_pandas_cut(scale: float) -> None:
    rng = np.random.default_rng(int(scale * 1000) % 97)
    for _ in range(50):
        x = np.round(rng.lognormal(size=40) * scale, int(rng.integers(0, 6)))
        edges = np.unique(np.nanpercentile(x, np.linspace(0, 100, 6)))
        if len(edges) < 2:
            continue
        cut = pd.cut(x, edges, duplicates="drop", include_lowest=True)
        assert [str(c) for c in cut.categories] == interval_labels(list(edges))
        np.testing.assert_array_equal(assign_bins(x, edges), cut.codes)
        probe = np.array([edges[0] - 1, edges[-1] + 1, np.nan])
        np.testing.assert_array_equal(assign_bins(probe, edges), [-1, -1, -1])
        np.testing.assert_array_equal(assign_bins(probe[:2], edges, extend=True), [0, len(edges) - 2])


def _fiddle_correlation_rule(X: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """FIDDLE's CorrelationSelector on a dense matrix: drop i if |r(i, j)| ~ 1 for some j < i."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.corrcoef(X.T)
    np.fill_diagonal(c, 0)
    c *= np.tri(*c.shape)
    flags = np.isclose(np.abs(c), 1.0)
    first = {i: int(np.flatnonzero(flags[i])[0]) for i in range(len(c)) if flags[i].any()}
    return ~flags.any(axis=1), first


def test_candidate_pairs_find_what_the_full_matrix_finds() -> None:
    rng = np.random.default_rng(0)
    n, d = 400, 60
    X = (rng.random((n, d)) < rng.uniform(0.02, 0.6, d)).astype(float)
    X[:, 10] = X[:, 3]            # duplicate
    X[:, 20] = 1 - X[:, 5]        # complement
    X[:, 30] = X[:, 3]            # second duplicate of the same feature
    X[:, 41] = X[:, 40]
    X[7, 41] = 1 - X[7, 41]       # almost a duplicate: |r| < 1, kept
    X[:, 50] = rng.normal(size=n)  # a non-binary feature and its affine copy
    X[:, 55] = 3 * X[:, 50] + 1
    X[:, 59] = 0                  # constant
    m = sp.csr_matrix(X)
    stats = FilterStats(d, None)
    stats.update(m[:150])
    stats.update(m[150:])         # two batches add up
    kept = np.ones(d, bool)
    co = CoProducts(candidate_pairs(stats, kept))
    co.update(m[:150])
    co.update(m[150:])
    names = [f"f{i}" for i in range(d)]
    keep, aliases = correlated(stats, kept, co, names)
    want_keep, first = _fiddle_correlation_rule(X)
    np.testing.assert_array_equal(keep, want_keep)
    assert aliases == {"f3": ["f10", "f30"], "f5": ["~{f20}"], "f50": ["f55"]}
    assert set(first) == {10, 20, 30, 55}


def test_variance_filter_equals_sklearn() -> None:
    """FIDDLE feeds S to VarianceThreshold as a scipy sparse matrix; features on the threshold go its way."""
    rng = np.random.default_rng(1)
    X = (rng.random((1000, 30)) < rng.choice([0.0005, 0.001, 0.002, 0.5, 0.999, 1.0], 30)).astype(float)
    stats = FilterStats(30, None)
    stats.update(sp.csr_matrix(X))
    theta = 0.001
    sel = VarianceThreshold(theta * (1 - theta)).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(stats.frequency_keep(theta), sel.get_support())


def test_temporal_filter_counts_ids_not_rows() -> None:
    L, n_ids = 3, 4
    X = np.zeros((n_ids * L, 3))
    X[0:3, 0] = 1         # feature 0: always 1 for ID 0, always 0 for the others
    X[1, 1] = 1           # feature 1 seen once
    X[:, 2] = 1           # always 1 everywhere -> dropped
    stats = FilterStats(3, L)
    stats.update(sp.csr_matrix(X))
    np.testing.assert_array_equal(stats.ids_nonzero, [1, 1, 4])
    np.testing.assert_array_equal(stats.ids_all_one, [1, 0, 4])
    np.testing.assert_array_equal(stats.frequency_keep(0.2), [True, True, False])
    np.testing.assert_array_equal(stats.frequency_keep(0.3), [False, False, False])
