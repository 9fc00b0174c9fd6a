"""Patient-level splits: a subject's split is a fixed function of its id, so it never changes between runs."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "tuning", "held_out")
DEFAULT_FRACTIONS = (0.7, 0.15, 0.15)


def _unit_hash(subject_ids: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per id (splitmix64), stable across platforms and numpy versions."""
    x = (np.asarray(subject_ids, dtype=np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def assign_splits(subject_ids: np.ndarray, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
                  salt: int = 0) -> np.ndarray:
    """Split name per subject id (train / tuning / held_out) from a hash of the id.

    Raises:
        ValueError: fractions are negative or do not sum to 1.
    """
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or (f < 0).any() or abs(f.sum() - 1) > 1e-9:
        raise ValueError(f"split fractions {fractions}: expected three non-negative shares summing to 1")
    u = _unit_hash(subject_ids, salt)
    edges = np.cumsum(f)[:2]
    return np.array(SPLITS, dtype=object)[np.searchsorted(edges, u, side="right")]
