"""Featurizer settings (FIDDLE's arguments plus its config file), validated once at the entry point."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from model.errors import DataValidationError

# pandas aggregation names FIDDLE passes through; each has an exact re-implementation in derive_series.py.
SUPPORTED_STATS = ("min", "max", "mean", "median", "std", "var", "sum", "count", "first", "last")
# Value types a config may force (FIDDLE's `value_types`); hierarchical ICD types need code tables we do not ship.
SUPPORTED_OVERRIDES = ("Numeric", "Categorical")


@dataclass(frozen=True)
class FeaturizerConfig:
    """What the featurizer computes; the same fields as FIDDLE's command line and config file.

    Attributes:
        T: Window length in hours (events with 0 <= t < T are used).
        dt: Time-bin width in hours; L = floor(T / dt) bins.
        theta_1: Pre-filter: keep variables recorded for more than this share of IDs.
        theta_2: Post-filter: drop features that are almost always 0 or almost always 1 (share of IDs).
        theta_freq: A numeric time-dependent variable is "frequent" when its mean count per ID >= theta_freq * L.
        stats_functions: Per-bin statistics of frequent variables (pandas aggregation names).
        discretize: Quintile-bin numeric columns into one-hot features (FIDDLE `discretize: yes`).
        value_types: Per-variable type overrides ("Numeric" or "Categorical").
        prefilter: Run the pre-filter (FIDDLE's `--no_prefilter` sets this false).
        postfilter: Run the post-filter (FIDDLE's `--no_postfilter` sets this false).
        extend_outer_bins: Cut numbers below / above the training range into the first / last bin instead of
            giving them no bin feature (FIDDLE's behaviour, kept when false).
    """

    T: float
    dt: float = 1.0
    theta_1: float = 0.001
    theta_2: float = 0.001
    theta_freq: float = 1.0
    stats_functions: tuple[str, ...] = ("min", "max", "mean")
    discretize: bool = True
    value_types: dict[str, str] = field(default_factory=dict)
    prefilter: bool = True
    postfilter: bool = True
    extend_outer_bins: bool = False

    def __post_init__(self) -> None:
        for name in ("T", "dt"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise DataValidationError(f"{name}={v!r} is not a positive number", field=name, expected="> 0")
        if math.floor(self.T / self.dt) < 1:
            raise DataValidationError(f"T={self.T} is shorter than one bin of dt={self.dt}", field="T",
                                      expected="T >= dt")
        for name in ("theta_1", "theta_2", "theta_freq"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise DataValidationError(f"{name}={v!r} is not a non-negative number", field=name, expected=">= 0")
        object.__setattr__(self, "stats_functions", tuple(self.stats_functions))
        bad = [s for s in self.stats_functions if s not in SUPPORTED_STATS]
        if bad or len(set(self.stats_functions)) != len(self.stats_functions):
            raise DataValidationError(f"unsupported or repeated stats_functions {bad or list(self.stats_functions)}",
                                      field="stats_functions", expected=f"distinct names among {SUPPORTED_STATS}")
        for var, ty in self.value_types.items():
            if ty not in SUPPORTED_OVERRIDES:
                raise DataValidationError(f"value type {ty!r} of variable {var!r} is not supported",
                                          field="value_types", expected=f"one of {SUPPORTED_OVERRIDES}")

    @property
    def L(self) -> int:
        """Number of time bins."""
        return int(math.floor(self.T / self.dt))

    def time_edges(self) -> np.ndarray:
        """Bin edges [0, dt, ..., L*dt], computed the way FIDDLE does (so float edges match exactly)."""
        return np.arange(0, self.dt * (np.floor(self.T / self.dt) + 1), self.dt)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d = asdict(self)
        d["stats_functions"] = list(self.stats_functions)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeaturizerConfig:
        """Inverse of `to_dict`; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(d) - known)
        if extra:
            raise DataValidationError(f"unknown featurizer settings {extra}", field="config",
                                      expected=f"keys among {sorted(known)}")
        return cls(**d)
