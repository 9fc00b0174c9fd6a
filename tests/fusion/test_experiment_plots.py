"""The experiments' figures: every chart kind writes a PNG and leaves no temporary file behind."""

from __future__ import annotations

import math

from experiments.plots import Point, bar_chart, grouped_bars, line_chart


def test_charts_write_png_atomically(tmp_path):
    p, gap = Point(0.62, 0.60, 0.65), Point(math.nan, math.nan, math.nan)
    paths = [bar_chart(["a", "b"], [p, p], 0.8, "bars", tmp_path / "b.png"),
             bar_chart(["a"], [p], None, "no oracle", tmp_path / "b2.png"),
             grouped_bars(["m1", "m2"], {"clean": [p, gap], "noisy": [p, p]}, 0.8, "groups", tmp_path / "g.png"),
             line_chart([0.0, 0.5, 1.0], {"zero": [p, p, p]}, 0.8, "sweep", "rate", tmp_path / "l.png")]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["b.png", "b2.png", "g.png", "l.png"]
