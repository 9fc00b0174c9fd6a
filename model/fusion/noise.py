"""Seeded Gaussian noise for the robustness experiments of 2405.15442 (pure functions: inputs are never modified).

Three targets, as in the paper: every value of a share of stays, a share of rows (hours), a share of pixels.
Noise goes on the standardised continuous columns only (one-hots and observation masks are not numeric values),
so std 1 means one train-split standard deviation of each variable, whatever its raw unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from model.fusion.data import FusionData

NoiseTarget = Literal["stays", "hours"]


def noise_stays(ts: np.ndarray, n_cont: int, share: float, std: float, seed: int,
                eligible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Add N(0, std²) to every hour of the first `n_cont` columns of a `share` of the eligible stays.

    Args:
        ts: [N, T, F] inputs.
        n_cont: Leading continuous columns that receive noise.
        share: Share of eligible stays chosen (exactly round(share · n_eligible), without replacement).
        std: Noise standard deviation.
        seed: Seed of the choice and of the noise.
        eligible: bool [N] stays that may be chosen (e.g. the train split); None: all.

    Returns:
        (noisy copy of ts, bool [N] chosen stays).
    """
    _check(share, std)
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(np.ones(len(ts), bool) if eligible is None else eligible)
    chosen = np.zeros(len(ts), dtype=bool)
    chosen[rng.choice(pool, size=round(share * len(pool)), replace=False)] = True
    out = ts.copy()
    noise = rng.normal(0.0, std, size=(int(chosen.sum()), *ts.shape[1:-1], n_cont)).astype(ts.dtype)
    out[chosen, ..., :n_cont] += noise
    return out, chosen


def noise_hours(ts: np.ndarray, n_cont: int, share: float, std: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Add N(0, std²) to the first `n_cont` columns of each (stay, hour) row with probability `share`.

    Returns:
        (noisy copy of ts, bool [N, T] noisy rows).
    """
    _check(share, std)
    rng = np.random.default_rng(seed)
    rows = rng.random(ts.shape[:2]) < share
    out = ts.copy()
    out[..., :n_cont] += np.where(rows[..., None], rng.normal(0.0, std, size=(*ts.shape[:2], n_cont)), 0.0
                                  ).astype(ts.dtype)
    return out, rows


def noise_pixels(img: np.ndarray, share: float, std: float, seed: int | tuple[int, ...]) -> np.ndarray:
    """Add N(0, std²) to each pixel with probability `share` (no clipping: the noise is the perturbation)."""
    _check(share, std)
    rng = np.random.default_rng(seed)
    hit = rng.random(img.shape) < share
    return (img + np.where(hit, rng.normal(0.0, std, size=img.shape), 0.0)).astype(img.dtype)


@dataclass(frozen=True)
class PixelNoise:
    """Pixel hook for `model.embed.images.embed_images`: noise_pixels seeded by (seed, sample row).

    std is on the [0, 1] pixel scale; 0.25 = 1 unit of the encoder's normalised input ((x - 0.5) / 0.25).
    """

    share: float = 0.6
    std: float = 0.25
    seed: int = 3000

    def __call__(self, img: np.ndarray, row: int) -> np.ndarray:
        """The noisy image of sample `row` (the same image and row always get the same noise)."""
        return noise_pixels(img, self.share, self.std, seed=(self.seed, row))


def _check(share: float, std: float) -> None:
    if not 0.0 <= share <= 1.0 or std < 0:
        raise ValueError(f"share={share}, std={std}: expected share in [0, 1] and std >= 0")


@dataclass(frozen=True)
class TSNoise:
    """Time-series noise of one experiment condition.

    Attributes:
        target: 'stays' (all hours of a share of stays) or 'hours' (a share of rows of every stay).
        share: 0.5 (stays) / 0.6 (rows) in the paper.
        std: 1.0 in the paper (here: standardised units).
        splits: Splits that receive noise, e.g. ('train',) or ('train', 'tuning', 'held_out').
        seed: Seed of the draw, fixed across training seeds so every model sees the same noisy data.
    """

    target: NoiseTarget
    share: float
    std: float = 1.0
    splits: tuple[str, ...] = ("train",)
    seed: int = 2000


def with_ts_noise(data: FusionData, noise: TSNoise, n_cont: int) -> FusionData:
    """A copy of `data` whose time series carries `noise` in the chosen splits (labels and other inputs unchanged)."""
    eligible = np.isin(data.split, noise.splits)
    if noise.target == "stays":
        ts, _ = noise_stays(data.ts, n_cont, noise.share, noise.std, noise.seed, eligible)
    else:
        noisy, _ = noise_hours(data.ts, n_cont, noise.share, noise.std, noise.seed)
        ts = np.where(eligible[:, None, None], noisy, data.ts)
    return replace(data, ts=ts)
