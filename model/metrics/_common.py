"""Shared pieces of the metrics package: the NaN warning class and input validation helpers."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from model.errors import DataValidationError


class MetricUndefinedWarning(UserWarning):
    """A metric is NaN because the data cannot define it (e.g. only one class in y_true)."""


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
