"""The evaluation report: metrics with CIs, ROC / PR / calibration plots and the subgroup table, as one
self-contained HTML file (inline SVG, no scripts, no network) and a Markdown twin.

Input is what evaluation writes (``model.metrics.evaluate_binary``'s dict and ``model.metrics.curves``'s dict);
the reliability curve is computed here from (y_true, y_score) when they are given.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.io_atomic import atomic_file

W, H, PAD = 320, 300, 44
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def reliability_bins(y_true: Sequence[float], y_score: Sequence[float], n_bins: int = 10) -> dict[str, list]:
    """Mean predicted probability, observed rate and count per uniform bin of [0, 1] (empty bins left out)."""
    y, s = np.asarray(y_true, dtype=float), np.clip(np.asarray(y_score, dtype=float), 0.0, 1.0)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"y_true {y.shape} and y_score {s.shape}: expected two 1-D arrays of one length")
    idx = np.minimum((s * n_bins).astype(int), n_bins - 1)
    out: dict[str, list] = {"predicted": [], "observed": [], "n": []}
    for b in range(n_bins):
        m = idx == b
        if m.any():
            out["predicted"].append(float(s[m].mean()))
            out["observed"].append(float(y[m].mean()))
            out["n"].append(int(m.sum()))
    return out


def svg_plot(title: str, series: Sequence[tuple[str, Sequence[float], Sequence[float]]], xlabel: str, ylabel: str,
             *, diagonal: bool = False, baseline: float | None = None, markers: bool = False) -> str:
    """A small line plot on [0, 1] x [0, 1] as an SVG string."""
    iw, ih = W - PAD - 10, H - PAD - 28

    def px(x: float, y: float) -> tuple[float, float]:
        return PAD + x * iw, 28 + (1 - y) * ih

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
             f'<rect x="{PAD}" y="28" width="{iw}" height="{ih}" fill="none" stroke="#888"/>']
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x0, y0 = px(t, 0)
        x1, y1 = px(0, t)
        parts.append(f'<text x="{x0:.1f}" y="{y0 + 14:.1f}" font-size="10" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{x1 - 4:.1f}" y="{y1 + 3:.1f}" font-size="10" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{PAD + iw / 2}" y="{H - 4}" font-size="11" text-anchor="middle">{html.escape(xlabel)}'
                 f'</text><text x="12" y="{28 + ih / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {28 + ih / 2})">{html.escape(ylabel)}</text>')
    if diagonal:
        (a, b), (c, d) = px(0, 0), px(1, 1)
        parts.append(f'<line x1="{a}" y1="{b}" x2="{c}" y2="{d}" stroke="#aaa" stroke-dasharray="4 3"/>')
    if baseline is not None and math.isfinite(baseline):
        (a, b), (c, d) = px(0, baseline), px(1, baseline)
        parts.append(f'<line x1="{a}" y1="{b}" x2="{c}" y2="{d}" stroke="#aaa" stroke-dasharray="4 3"/>')
    for k, (name, xs, ys) in enumerate(series):
        color = COLORS[k % len(COLORS)]
        pts = " ".join(f"{px(x, y)[0]:.1f},{px(x, y)[1]:.1f}" for x, y in zip(xs, ys, strict=True)
                       if x is not None and y is not None)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{pts}"/>')
        if markers:
            parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{color}"/>'
                      for p in pts.split()]
        parts.append(f'<text x="{PAD + 8}" y="{44 + 13 * k}" font-size="11" fill="{color}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _ci(m: dict, name: str) -> str:
    lo, hi = m.get(f"{name}_ci_low"), m.get(f"{name}_ci_high")
    return f"{_fmt(m.get(name))} [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None else _fmt(m.get(name))


def _rows(metrics: dict, oracle: dict | None) -> list[tuple[str, str, str]]:
    o = oracle or {}
    return [("n (positives)", f"{metrics.get('n')} ({metrics.get('n_pos')})", _fmt(o.get("n"))),
            ("prevalence", _fmt(metrics.get("prevalence")), _fmt(o.get("prevalence"))),
            ("AUROC [95% CI]", _ci(metrics, "auroc"), _fmt(o.get("oracle_auroc"))),
            ("AUPR [95% CI]", _ci(metrics, "aupr"), _fmt(o.get("oracle_aupr"))),
            ("ECE", _fmt(metrics.get("ece")), "")]


def write_report(out_dir: str | Path, title: str, metrics: dict, curves: dict, *, y_true: Sequence | None = None,
                 y_score: Sequence | None = None, oracle: dict | None = None, extra: dict | None = None) -> dict:
    """Write out_dir/report.html and out_dir/report.md (each atomically).

    Args:
        out_dir: Folder for the two files (created if needed).
        title: Heading, e.g. 'mortality: held-out evaluation'.
        metrics: ``evaluate_binary`` output (auroc, CIs, aupr, ece, subgroups, notes).
        curves: ``curves`` output ({'roc': {fpr, tpr}, 'pr': {recall, precision}}).
        y_true, y_score: Held-out labels and probabilities, for the reliability plot (optional).
        oracle: The Bayes-optimal reference on the same samples ({'oracle_auroc', 'oracle_aupr', ...}), if known.
        extra: Key -> value lines shown under the title (genotype, data hashes, ...).

    Returns:
        {'html': path, 'markdown': path, 'plots': [plot titles]}.
    """
    for key in ("auroc", "aupr"):
        if key not in metrics:
            raise ValueError(f"metrics: field '{key}' missing (expected model.metrics.evaluate_binary output)")
    out = Path(out_dir)
    roc, pr = curves.get("roc", {}), curves.get("pr", {})
    plots = [("ROC", svg_plot("ROC curve", [("model", roc.get("fpr", []), roc.get("tpr", []))],
                              "false positive rate", "true positive rate", diagonal=True)),
             ("PR", svg_plot("Precision-recall curve", [("model", pr.get("recall", []), pr.get("precision", []))],
                             "recall", "precision", baseline=metrics.get("prevalence")))]
    if y_true is not None and y_score is not None:
        rb = reliability_bins(y_true, y_score)
        plots.append(("Calibration", svg_plot("Calibration (10 bins)", [("model", rb["predicted"], rb["observed"])],
                                              "mean predicted probability", "observed rate", diagonal=True,
                                              markers=True)))
    rows = _rows(metrics, oracle)
    subgroups = metrics.get("subgroups") or []
    extra = extra or {}
    md = [f"# {title}", ""] + [f"- **{k}**: {v}" for k, v in extra.items()] + [
        "", "| metric | model | oracle |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if subgroups:
        md += ["", "## Subgroups", "", "| group | value | n | prevalence | AUROC [95% CI] | AUPR |",
               "|---|---|---|---|---|---|"]
        md += [f"| {r['group']} | {r['value']} | {r['n']} | {_fmt(r.get('prevalence'))} | {_ci(r, 'auroc')} | "
               f"{_fmt(r.get('aupr'))} |" for r in subgroups]
    md += ["", f"Plots ({', '.join(p[0] for p in plots)}) are in report.html."]
    for note in metrics.get("notes") or []:
        md.append(f"- note: {note}")
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>", "<ul>"] + [f"<li><b>{esc(str(k))}</b>: {esc(str(v))}</li>" for k, v in
                                                 extra.items()] + ["</ul>", "<table><tr><th>metric</th><th>model</th>"
                                                                   "<th>oracle</th></tr>"]
    body += [f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>" for a, b, c in rows] + ["</table>"]
    body += ['<div class="plots">'] + [svg for _, svg in plots] + ["</div>"]
    if subgroups:
        body += ["<h2>Subgroups</h2><table><tr><th>group</th><th>value</th><th>n</th><th>prevalence</th>"
                 "<th>AUROC [95% CI]</th><th>AUPR</th></tr>"]
        body += [f"<tr><td>{esc(str(r['group']))}</td><td>{esc(str(r['value']))}</td><td>{r['n']}</td>"
                 f"<td>{_fmt(r.get('prevalence'))}</td><td>{esc(_ci(r, 'auroc'))}</td><td>{_fmt(r.get('aupr'))}</td>"
                 "</tr>" for r in subgroups] + ["</table>"]
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + esc(title) + "</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.plots svg{margin-right:1em}"
            "</style></head><body>" + "\n".join(body) + "</body></html>\n")
    with atomic_file(out / "report.html") as fh:
        fh.write(page)
    with atomic_file(out / "report.md") as fh:
        fh.write("\n".join(md) + "\n")
    return {"html": str(out / "report.html"), "markdown": str(out / "report.md"), "plots": [p[0] for p in plots]}
