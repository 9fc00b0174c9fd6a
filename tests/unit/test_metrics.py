"""Tests for model.metrics: hand-computed values, agreement with scikit-learn, edge cases and errors."""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, roc_auc_score

from model import metrics as M
from model.metrics import MetricUndefinedWarning


def _data(n: int, seed: int = 0, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    s = rng.normal(y * 0.9, 1.0)
    return y, (np.round(s, 1) if ties else s)


# ---------------------------------------------------------------- binary_metrics / auroc
def test_binary_metrics_hand_computed() -> None:
    # Classic example: 3 of the 4 positive/negative pairs are ordered correctly; AP = (1 + 2/3) / 2.
    out = M.binary_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert out == pytest.approx({"auroc": 0.75, "aupr": 5 / 6, "prevalence": 0.5, "n": 4, "n_pos": 2})


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1]], ids=["all-negative", "all-positive"])
def test_binary_metrics_one_class_is_nan_with_reason(y: list[int]) -> None:
    with pytest.warns(MetricUndefinedWarning, match="only one class"):
        out = M.binary_metrics(y, [0.2, 0.5, 0.9])
    assert math.isnan(out["auroc"]) and math.isnan(out["aupr"])
    assert out["n"] == 3 and out["n_pos"] == sum(y) and out["prevalence"] == sum(y) / 3


@pytest.mark.parametrize(
    ("y", "s", "match"),
    [
        ([0, 1, 1], [0.1, np.nan, 0.3], r"y_score.*1 NaN/inf.*index 1"),
        ([0, 1, 1], [0.1, np.inf, 0.3], r"y_score.*NaN/inf"),
        ([0, 1, 1], [0.1, 0.2], r"y_score.*shape \(2,\).*\(3,\)"),
        ([0, 2, 1], [0.1, 0.2, 0.3], r"y_true.*outside \{0, 1\}"),
        ([0, np.nan, 1], [0.1, 0.2, 0.3], r"y_true.*outside"),
        ([[0, 1]], [[0.1, 0.2]], r"y_true.*1-D"),
        ([], [], r"y_true.*empty"),
        (["a", "b"], [0.1, 0.2], r"y_true.*non-numeric"),
    ],
    ids=["nan-score", "inf-score", "shape", "label-2", "nan-label", "2d", "empty", "strings"],
)
def test_binary_metrics_invalid_input(y: list, s: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        M.binary_metrics(y, s)


def test_bool_labels_accepted() -> None:
    assert M.binary_metrics(np.array([False, True]), [0.2, 0.7])["auroc"] == 1.0


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "tied"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_auroc_matches_sklearn(seed: int, ties: bool) -> None:
    y, s = _data(777, seed, ties)
    assert M.auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert M.aupr(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_rank_auroc_extremes() -> None:
    y = [0, 0, 1, 1]
    assert M.auroc(y, [1, 2, 3, 4]) == 1.0
    assert M.auroc(y, [4, 3, 2, 1]) == 0.0
    assert M.auroc(y, [5, 5, 5, 5]) == 0.5  # all tied: every pair counts 1/2
    with pytest.warns(MetricUndefinedWarning):
        assert math.isnan(M.auroc([1, 1], [0.1, 0.2]))


# ---------------------------------------------------------------- recall@k
def test_recall_at_k_hand_computed() -> None:
    y = [[1, 1, 1, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
    s = [[0.9, 0.8, 0.1, 0.7, 0.0], [0.1, 0.9, 0.2, 0.3, 0.4], [0.5, 0.4, 0.3, 0.2, 0.1]]
    # Patient 0: 2 hits of 3 true codes; patient 1: 1 of 1; patient 2 has no true code and is excluded.
    assert M.recall_at_k(y, s, 2) == pytest.approx((2 / 3 + 1) / 2)
    assert M.recall_at_k(y, s, 2, denominator="min_k") == pytest.approx((2 / 2 + 1) / 2)
    assert M.recall_at_k(y, s, 5) == pytest.approx(1.0)


def test_recall_at_k_matches_autofm_reference_formula() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random((200, 40)) < 0.1).astype(int)
    y[:, 0] = 1  # every patient has a code, as the reference code assumes (it divides by the count)
    s = rng.random((200, 40))
    top = np.argsort(-s, axis=1)[:, :10]
    ref = np.mean(np.take_along_axis(y, top, axis=1).sum(axis=1) / y.sum(axis=1))
    assert M.recall_at_k(y, s, 10) == pytest.approx(ref)


def test_recall_at_k_ties_go_to_lower_index_and_errors() -> None:
    assert M.recall_at_k([[1, 0, 0, 1]], [[0.5, 0.5, 0.5, 0.5]], 1) == 0.5  # picks label 0
    assert M.recall_at_k([[0, 0, 1, 1]], [[0.5, 0.5, 0.5, 0.5]], 2) == 0.0
    with pytest.raises(ValueError, match="k=5"):
        M.recall_at_k([[1, 0]], [[0.1, 0.2]], 5)
    with pytest.raises(ValueError, match="denominator"):
        M.recall_at_k([[1, 0]], [[0.1, 0.2]], 1, denominator="k")
    with pytest.raises(ValueError, match="scores.*shape"):
        M.recall_at_k([[1, 0]], [[0.1, 0.2, 0.3]], 1)
    with pytest.warns(MetricUndefinedWarning, match="no patient"):
        assert math.isnan(M.recall_at_k([[0, 0]], [[0.1, 0.2]], 1))


# ---------------------------------------------------------------- multilabel
def test_multilabel_matches_sklearn_and_excludes_one_class_labels() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random((300, 4)) < 0.3).astype(int)
    y[:, 2] = 0  # label 'c' has no positives
    s = rng.normal(y, 1.0)
    out = M.multilabel_metrics(y, s, ["a", "b", "c", "d"])
    used = [0, 1, 3]
    assert out["macro_auroc"] == pytest.approx(roc_auc_score(y[:, used], s[:, used], average="macro"))
    assert out["macro_aupr"] == pytest.approx(average_precision_score(y[:, used], s[:, used], average="macro"))
    assert out["micro_auroc"] == pytest.approx(roc_auc_score(y, s, average="micro"))
    assert out["micro_aupr"] == pytest.approx(average_precision_score(y, s, average="micro"))
    assert out["excluded_labels"] == ["c"] and out["n_labels"] == 4 and out["n_labels_used"] == 3
    row_c = out["per_label"][2]
    assert math.isnan(row_c["auroc"]) and "only one class" in row_c["reason"] and row_c["n_pos"] == 0
    assert out["per_label"][0]["auroc"] == pytest.approx(roc_auc_score(y[:, 0], s[:, 0]))


def test_multilabel_errors_and_all_excluded() -> None:
    with pytest.raises(ValueError, match="label_names.*3 names for 2"):
        M.multilabel_metrics([[0, 1]], [[0.1, 0.2]], ["a", "b", "c"])
    with pytest.warns(MetricUndefinedWarning, match="every label"):
        out = M.multilabel_metrics([[0, 1], [0, 1]], [[0.1, 0.2], [0.3, 0.4]])
    # Pooled cells: 3 of the 4 positive/negative pairs (0.2, 0.4 vs 0.1, 0.3) are ordered correctly.
    assert math.isnan(out["macro_auroc"]) and out["micro_auroc"] == 0.75


# ---------------------------------------------------------------- bootstrap
@pytest.mark.parametrize(("name", "sk"), [("auroc", roc_auc_score), ("aupr", average_precision_score)])
def test_vectorised_bootstrap_equals_sklearn_on_same_resamples(name: str, sk) -> None:
    y, s = _data(300, 5, ties=True)
    fast = M.bootstrap_metric(name, y, s, n_boot=300, seed=7)
    slow = M.bootstrap_metric(lambda a, b: sk(a, b), y, s, n_boot=300, seed=7)  # lambda: forces the loop path
    assert (fast.low, fast.high, fast.point) == pytest.approx((slow.low, slow.high, slow.point), abs=1e-12)
    assert fast.low < fast.point < fast.high and fast.n_skipped == 0


def test_bootstrap_ci_deterministic_and_alpha() -> None:
    y, s = _data(500, 6)
    a = M.bootstrap_ci("auroc", y, s, n_boot=400, seed=1)
    assert a == M.bootstrap_ci(M.auroc, y, s, n_boot=400, seed=1) == M.bootstrap_ci(roc_auc_score, y, s, 400, seed=1)
    assert a != M.bootstrap_ci("auroc", y, s, n_boot=400, seed=2)
    wide = M.bootstrap_ci("auroc", y, s, n_boot=400, seed=1, alpha=0.01)
    assert wide[1] < a[1] < a[2] < wide[2]


def test_bootstrap_skips_and_counts_one_class_resamples() -> None:
    y = np.zeros(20, dtype=int)
    y[0] = 1
    s = np.linspace(0, 1, 20)
    with pytest.warns(MetricUndefinedWarning, match="resamples skipped"):
        r = M.bootstrap_metric("auroc", y, s, n_boot=2000, seed=0)
    expected = 2000 * (19 / 20) ** 20  # P(no positive drawn in 20 draws) ~ 0.358
    assert abs(r.n_skipped - expected) < 5 * math.sqrt(expected)
    with pytest.warns(MetricUndefinedWarning):
        none = M.bootstrap_metric("auroc", [0, 0, 0], [0.1, 0.2, 0.3], n_boot=50)
    assert none.n_skipped == 50 and math.isnan(none.point) and math.isnan(none.low) and math.isnan(none.high)


def test_cluster_bootstrap_resamples_whole_groups() -> None:
    y, s = _data(150, 8)
    rep_y, rep_s, patient = np.repeat(y, 4), np.repeat(s, 4), np.repeat(np.arange(150), 4)
    # Four identical stays per patient: resampling patients equals resampling the de-duplicated data.
    by_patient = M.bootstrap_ci("auroc", rep_y, rep_s, n_boot=300, seed=3, groups=patient)
    assert by_patient == pytest.approx(M.bootstrap_ci("auroc", y, s, n_boot=300, seed=3))
    naive = M.bootstrap_ci("auroc", rep_y, rep_s, n_boot=300, seed=3)
    assert naive[2] - naive[1] < by_patient[2] - by_patient[1]  # ignoring clusters understates uncertainty
    with pytest.raises(ValueError, match="groups.*shape"):
        M.bootstrap_ci("auroc", y, s, groups=patient)


def test_bootstrap_errors() -> None:
    with pytest.raises(ValueError, match="metric_fn"):
        M.bootstrap_ci("brier", [0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="n_boot"):
        M.bootstrap_ci("auroc", [0, 1], [0.1, 0.2], n_boot=0)
    with pytest.raises(ValueError, match="alpha"):
        M.bootstrap_ci("auroc", [0, 1], [0.1, 0.2], alpha=1.5)


def test_bootstrap_auroc_speed() -> None:
    y, s = _data(5000, 9)
    start = time.perf_counter()
    M.bootstrap_ci("auroc", y, s, n_boot=1000, seed=0)
    assert time.perf_counter() - start < 3.0


# ---------------------------------------------------------------- calibration
def test_ece_hand_computed() -> None:
    # Bins [0, .5], (.5, 1]: |0 - .2| * 2/4 + |1 - .85| * 2/4 = 0.175
    assert M.expected_calibration_error([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3], n_bins=2) == pytest.approx(0.175)
    assert M.expected_calibration_error([1, 0, 0, 0], [0.25] * 4) == pytest.approx(0.0)
    assert M.expected_calibration_error([1, 1], [0.0, 0.0]) == pytest.approx(1.0)  # one class is fine


def test_ece_quantile_matches_sklearn_calibration_curve() -> None:
    rng = np.random.default_rng(10)
    p = rng.random(600)
    y = (rng.random(600) < p**2).astype(int)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=6, strategy="quantile")
    # Quantile bins of 600 distinct values hold 100 each, so ECE is the plain mean gap.
    ece = M.expected_calibration_error(y, p, n_bins=6, strategy="quantile")
    assert ece == pytest.approx(np.mean(np.abs(prob_true - prob_pred)))


def test_ece_errors() -> None:
    with pytest.raises(ValueError, match="y_prob.*sigmoid"):
        M.expected_calibration_error([0, 1], [-1.0, 2.0])
    with pytest.raises(ValueError, match="strategy"):
        M.expected_calibration_error([0, 1], [0.1, 0.2], strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins"):
        M.expected_calibration_error([0, 1], [0.1, 0.2], n_bins=0)


# ---------------------------------------------------------------- subgroups
def test_age_bands() -> None:
    got = M.age_bands([17, 18, 39.9, 40, 59, 60, 74, 75, 199, 200, np.nan])
    assert got.tolist() == ["<18", "18-39", "18-39", "40-59", "40-59", "60-74", "60-74", "75-199", "75-199", "200+",
                            "unknown"]
    assert M.age_bands([5, 50], edges=(0, 50, 120)).tolist() == ["0-49", "50-119"]
    with pytest.raises(ValueError, match="edges"):
        M.age_bands([30], edges=(40, 18))
    with pytest.raises(ValueError, match="edges"):
        M.age_bands([30], edges=(18.5, 40))


def test_subgroup_metrics_rows() -> None:
    y = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    s = np.array([0.1, 0.9, 0.4, 0.3, 0.2, 0.6, 0.7, 0.8])
    sex = np.array(["F", "F", "F", "F", "M", "M", None, None], dtype=object)
    rows = M.subgroup_metrics(y, s, {"sex": sex})
    assert [(r["group"], r["value"], r["n"], r["n_pos"]) for r in rows] == [
        ("sex", "F", 4, 2), ("sex", "M", 2, 0), ("sex", "unknown", 2, 2)]
    f = rows[0]
    assert f["auroc"] == pytest.approx(0.75) and f["aupr"] == pytest.approx(average_precision_score(y[:4], s[:4]))
    assert math.isnan(rows[1]["auroc"]) and "only one class" in rows[1]["reason"] and rows[1]["prevalence"] == 0
    with_ci = M.subgroup_metrics(y, s, {"sex": sex}, n_boot=50)
    assert with_ci[1]["n_boot_skipped"] == 50 and math.isnan(with_ci[1]["auroc_ci_low"])
    with pytest.raises(ValueError, match=r"groups\['sex'\].*shape"):
        M.subgroup_metrics(y, s, {"sex": sex[:3]})


# ---------------------------------------------------------------- curves and report
def test_curves_thinned_and_json_safe() -> None:
    y, s = _data(5000, 11)
    c = M.curves(y, s)
    roc, pr = c["roc"], c["pr"]
    assert 2 < len(roc["fpr"]) <= 200 and 2 < len(pr["recall"]) <= 200
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(roc["fpr"]) >= 0) and roc["threshold"][0] is None
    assert pr["recall"][0] == 1.0 and (pr["recall"][-1], pr["precision"][-1], pr["threshold"][-1]) == (0.0, 1.0, None)
    assert len(roc["fpr"]) == len(roc["tpr"]) == len(roc["threshold"])
    json.dumps(c, allow_nan=False)
    with pytest.warns(MetricUndefinedWarning):
        empty = M.curves([0, 0], [0.1, 0.2])
    assert empty["roc"]["fpr"] == [] and "only one class" in empty["reason"]


def test_evaluate_binary_bundle_is_strict_json() -> None:
    y, s = _data(800, 12)
    p = 1 / (1 + np.exp(-s))
    sex = np.where(np.arange(800) % 2 == 0, "F", "M")
    out = M.evaluate_binary(y, p, groups={"sex": sex, "age_band": M.age_bands(np.arange(800) % 90)}, n_boot=200)
    json.dumps(out, allow_nan=False)
    assert out["auroc"] == pytest.approx(roc_auc_score(y, p)) and out["n"] == 800
    assert out["auroc_ci_low"] < out["auroc"] < out["auroc_ci_high"]
    assert out["aupr_ci_low"] < out["aupr"] < out["aupr_ci_high"]
    assert out["ece"] == pytest.approx(M.expected_calibration_error(y, p)) and out["notes"] == []
    assert out["bootstrap"] == {"n_boot": 200, "alpha": 0.05, "seed": 0, "method": "percentile", "n_skipped": 0}
    assert {r["group"] for r in out["subgroups"]} == {"sex", "age_band"}


def test_evaluate_binary_logits_and_one_class() -> None:
    y, s = _data(200, 13)
    logits = M.evaluate_binary(y, s * 10, n_boot=0)
    assert logits["ece"] is None and "not probabilities" in logits["notes"][0] and logits["auroc_ci_low"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reasons belong in 'notes', not in warnings
        one = M.evaluate_binary(np.zeros(10, dtype=int), np.linspace(0, 1, 10), n_boot=50)
    json.dumps(one, allow_nan=False)
    assert one["auroc"] is None and one["auroc_ci_high"] is None and "only one class" in one["notes"][0]
