"""Evaluation metrics: binary and multi-label discrimination, recall@k, calibration, bootstrap CIs, subgroups.

Used by the AutoFM search/pruning loops, the evaluation report and the pipeline's Metrics artifact.
Conventions: metrics that are undefined for the data (one class only) are NaN and raise a
`MetricUndefinedWarning` that says why; malformed input raises `DataValidationError` (a `ValueError`)
naming the argument at fault. Pure numpy + scikit-learn.

Modules: binary, multilabel, calibration, bootstrap, subgroups, curves, evaluate;
shared validation and the warning class live in _common.
"""

from __future__ import annotations

from model.metrics._common import MetricUndefinedWarning
from model.metrics.binary import aupr, auroc, binary_metrics
from model.metrics.bootstrap import BootstrapResult, bootstrap_ci, bootstrap_metric
from model.metrics.calibration import expected_calibration_error
from model.metrics.curves import curves
from model.metrics.evaluate import evaluate_binary
from model.metrics.multilabel import multilabel_metrics, recall_at_k
from model.metrics.subgroups import age_bands, subgroup_metrics

__all__ = [
    "BootstrapResult", "MetricUndefinedWarning", "age_bands", "aupr", "auroc", "binary_metrics", "bootstrap_ci",
    "bootstrap_metric", "curves", "evaluate_binary", "expected_calibration_error", "multilabel_metrics",
    "recall_at_k", "subgroup_metrics",
]
