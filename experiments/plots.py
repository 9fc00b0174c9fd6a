"""Figures of the fusion experiments: seed-mean AUROC with 95% bootstrap CIs, the oracle as a dashed line.

Each figure is written atomically next to the results doc (docs/figures/<section>.png) and linked from its section.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on the experiment machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


@dataclass(frozen=True)
class Point:
    """A seed-mean AUROC and its 95% CI."""

    mean: float
    low: float
    high: float


def _save(fig: plt.Figure, path: Path) -> Path:
    """Write the PNG through a temporary file in the same folder, then rename (never a half-written figure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png.tmp")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _err(points: Sequence[Point]) -> np.ndarray:
    return np.array([[p.mean - p.low for p in points], [p.high - p.mean for p in points]])


def _oracle(ax: plt.Axes, oracle: float | None) -> None:
    if oracle is not None:
        ax.axhline(oracle, color="k", ls="--", lw=1, label=f"oracle {oracle:.3f}")


def bar_chart(names: Sequence[str], points: Sequence[Point], oracle: float | None, title: str, path: Path) -> Path:
    """One bar per configuration (horizontal labels wrap poorly, so names go on a rotated axis)."""
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(names) + 2), 4.2))
    x = np.arange(len(names))
    ax.bar(x, [p.mean for p in points], yerr=_err(points), capsize=3, color="tab:blue", alpha=0.8)
    _oracle(ax, oracle)
    ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
    _finish(ax, points, oracle, title)
    return _save(fig, path)


def grouped_bars(groups: Sequence[str], series: dict[str, Sequence[Point]], oracle: float | None, title: str,
                 path: Path) -> Path:
    """Bars grouped by `groups` (e.g. models), one colour per series (e.g. clean / noisy); NaN means no bar."""
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(groups) + 2), 4.2))
    x, width = np.arange(len(groups)), 0.8 / max(1, len(series))
    for k, (label, pts) in enumerate(series.items()):
        ok = [i for i, p in enumerate(pts) if np.isfinite(p.mean)]
        sel = [pts[i] for i in ok]
        ax.bar(x[ok] + (k - (len(series) - 1) / 2) * width, [p.mean for p in sel], width, yerr=_err(sel),
               capsize=3, label=label)
    _oracle(ax, oracle)
    ax.set_xticks(x, groups, rotation=20, ha="right", fontsize=8)
    _finish(ax, [p for pts in series.values() for p in pts if np.isfinite(p.mean)], oracle, title)
    return _save(fig, path)


def line_chart(xs: Sequence[float], series: dict[str, Sequence[Point]], oracle: float | None, title: str,
               xlabel: str, path: Path) -> Path:
    """AUROC against a swept setting, one line with a CI band per series."""
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for label, pts in series.items():
        m = [p.mean for p in pts]
        ax.plot(xs, m, marker="o", label=label)
        ax.fill_between(xs, [p.low for p in pts], [p.high for p in pts], alpha=0.15)
    _oracle(ax, oracle)
    ax.set_xlabel(xlabel)
    _finish(ax, [p for pts in series.values() for p in pts], oracle, title)
    return _save(fig, path)


def _finish(ax: plt.Axes, points: Sequence[Point], oracle: float | None, title: str) -> None:
    lows = [p.low for p in points] + ([oracle] if oracle is not None else [])
    highs = [p.high for p in points] + ([oracle] if oracle is not None else [])
    lo, hi = max(0.0, min(lows) - 0.03), min(1.0, max(highs) + 0.03)
    ax.set_ylim(lo, hi)
    if lo < 0.5 < hi:
        ax.axhline(0.5, color="grey", ls=":", lw=1, label="chance 0.5")
    ax.set_ylabel("held-out AUROC (seed mean, 95% CI)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never covers a bar
