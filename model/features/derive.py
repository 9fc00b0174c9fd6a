"""FIDDLE's step 2 before encoding: the per-ID table S and the per-(ID, bin) table X, as long "cells".

A derived column is one column of FIDDLE's S or X table before discretization (`AGE_value`, `HR_mask`,
`HR_delta_time`, `HR_value`, `HR_min`, ...). Instead of FIDDLE's dense pandas tables, each column is kept as
its non-missing cells: (col, cell, raw, num) with cell = id for S and id * L + bin for X. Every rule below is
per ID, so a batch of one stay gives the same cells as the same stay inside a large batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from model.features.config import FeaturizerConfig

CELL_SCHEMA = {"col": pl.UInt32(), "cell": pl.UInt32(), "raw": pl.String(), "num": pl.Float64()}

# Column kinds: how missing cells read and how category values print.
RAW, FLOAT, INT, MASK = "raw", "float", "int", "mask"


@dataclass(frozen=True)
class Column:
    """One derived column.

    Attributes:
        name: FIDDLE's column name (`{var}_value`, `{var}_mask`, `{var}_delta_time`, `{var}_{stat}`).
        var: The variable it comes from.
        kind: raw (values as recorded), float (statistics), int (delta_time; missing cells read 0), mask (0/1).
    """

    name: str
    var: str
    kind: str


@dataclass(frozen=True)
class Structure:
    """Which variables are time-invariant, and which time-dependent ones are frequent (fitted on training data)."""

    invariant: tuple[str, ...]
    nonfrequent: tuple[str, ...]
    frequent: tuple[str, ...]
    stats: tuple[str, ...]

    def s_columns(self) -> list[Column]:
        """S columns in FIDDLE's order (variables sorted)."""
        return [Column(f"{v}_value", v, RAW) for v in self.invariant]

    def x_columns(self) -> list[Column]:
        """X columns in FIDDLE's order: masks, then other values, then delta times, values and statistics."""
        f = self.frequent
        return ([Column(f"{v}_mask", v, MASK) for v in f]
                + [Column(f"{v}_value", v, RAW) for v in self.nonfrequent]
                + [Column(f"{v}_delta_time", v, INT) for v in f]
                + [Column(f"{v}_value", v, RAW) for v in f]
                + [Column(f"{v}_{s}", v, FLOAT) for v in f for s in self.stats])


def _col_ids(names: list[str]) -> dict[str, int]:
    return {n: i for i, n in enumerate(names)}


def derive_static(events: pl.DataFrame, st: Structure) -> pl.DataFrame:
    """S cells: each time-invariant variable's last value per ID (input order), as FIDDLE's pivot 'last'."""
    ids = _col_ids([c.name for c in st.s_columns()])
    inv = events.filter(pl.col("var").is_in(list(st.invariant)))
    if inv.height == 0:
        return pl.DataFrame(schema=CELL_SCHEMA)
    last = inv.sort(["id", "var", "ord"]).group_by(["id", "var"], maintain_order=True).agg(
        pl.col("raw").last(), pl.col("num").last())
    col = (pl.col("var") + "_value").replace_strict(ids, return_dtype=pl.UInt32)
    return last.select(col=col, cell=pl.col("id").cast(pl.UInt32), raw="raw", num="num")


def _with_bins(events: pl.DataFrame, cfg: FeaturizerConfig) -> pl.DataFrame:
    """Time-dependent rows with their bin index (k*dt <= t < (k+1)*dt, FIDDLE's float edges); others dropped."""
    edges = cfg.time_edges()
    t = events["t"].to_numpy()
    b = np.searchsorted(edges, t, side="right").astype(np.int64) - 1
    return events.with_columns(bin=pl.Series(b, dtype=pl.Int32)).filter(
        (pl.col("bin") >= 0) & (pl.col("bin") < cfg.L))


def _stat_expr(stat: str) -> pl.Expr:
    n = pl.col("num")
    return {"min": n.min(), "max": n.max(), "mean": n.mean(), "median": n.median(), "std": n.std(ddof=1),
            "var": n.var(ddof=1), "sum": n.sum(), "count": n.count().cast(pl.Float64), "first": n.first(),
            "last": n.last()}[stat]


def _imputed_stat(stat: str) -> pl.Expr:
    """A bin without measurements holds one forward-filled value: its statistics as pandas computes them."""
    v = pl.col("ff").struct.field("num")
    return {"count": pl.lit(1.0), "std": pl.lit(None, pl.Float64), "var": pl.lit(None, pl.Float64)}.get(stat, v)


def derive_series(events: pl.DataFrame, st: Structure, cfg: FeaturizerConfig) -> pl.DataFrame:
    """X cells of a batch (see the module docstring); FIDDLE's per-ID time-series encoding, all IDs at once."""
    L = cfg.L
    ids = _col_ids([c.name for c in st.x_columns()])
    td_vars = list(st.nonfrequent + st.frequent)
    # variables as integer codes: sorting and grouping on integers is much cheaper than on strings
    vid = {v: i for i, v in enumerate(td_vars)}
    td = events.filter(pl.col("t").is_not_null() & pl.col("var").is_in(td_vars))
    td = td.with_columns(vid=pl.col("var").replace_strict(vid, return_dtype=pl.UInt32)).drop("var")
    td = _with_bins(td, cfg).sort(["id", "vid", "t", "ord"])
    cell = (pl.col("id").cast(pl.UInt32) * L + pl.col("bin").cast(pl.UInt32)).alias("cell")
    n_nf = len(st.nonfrequent)
    parts = []
    nf = td.filter(pl.col("vid") < n_nf)
    if nf.height:
        last = nf.group_by(["id", "vid", "bin"]).agg(pl.col("raw").last(), pl.col("num").last())
        col = _col_expr(td_vars, "_value", ids)
        parts.append(last.select(col=col, cell=cell, raw="raw", num="num"))
    fr = td.filter(pl.col("vid") >= n_nf)
    if fr.height:
        parts.extend(_frequent_cells(fr, st, L, ids, cell, td_vars))
    if not parts:
        return pl.DataFrame(schema=CELL_SCHEMA)
    return pl.concat([p.select(list(CELL_SCHEMA)).cast(CELL_SCHEMA) for p in parts])


def _col_expr(td_vars: list[str], suffix: str, ids: dict[str, int]) -> pl.Expr:
    """Derived column id of each row's variable code for one column family (`_value`, `_mask`, ...)."""
    lookup = [ids.get(v + suffix, 0) for v in td_vars]
    return pl.col("vid").replace_strict(list(range(len(td_vars))), lookup, return_dtype=pl.UInt32)


def _frequent_cells(fr: pl.DataFrame, st: Structure, L: int, ids: dict[str, int], cell: pl.Expr,
                    td_vars: list[str]) -> list[pl.DataFrame]:
    """Mask, delta time, forward-filled value and statistics of frequent variables from their first bin on."""
    stats = {f"s_{s}": _stat_expr(s) for s in st.stats}
    meas = fr.group_by(["id", "vid", "bin"]).agg(last=pl.struct(pl.col("raw").last(), pl.col("num").last()), **stats)
    first = meas.group_by(["id", "vid"]).agg(b0=pl.col("bin").min())
    grid = first.select("id", "vid", bin=pl.int_ranges("b0", L, dtype=pl.Int32)).explode("bin", empty_as_null=True)
    full = grid.join(meas, on=["id", "vid", "bin"], how="left").sort(["id", "vid", "bin"])
    seen = pl.col("last").is_not_null()
    # every (id, variable) run starts at its first measured bin, so a plain forward fill never crosses runs
    full = full.with_columns(measured=seen, ff=pl.col("last").forward_fill(),
                             since=pl.when(seen).then(pl.col("bin")).forward_fill())
    none = pl.lit(None, pl.String)
    out = [
        full.filter("measured").select(col=_col_expr(td_vars, "_mask", ids), cell=cell, raw=none, num=pl.lit(1.0)),
        full.filter(~pl.col("measured")).select(col=_col_expr(td_vars, "_delta_time", ids), cell=cell, raw=none,
                                                num=(pl.col("bin") - pl.col("since")).cast(pl.Float64)),
        full.select(col=_col_expr(td_vars, "_value", ids), cell=cell, raw=pl.col("ff").struct.field("raw"),
                    num=pl.col("ff").struct.field("num")),
    ]
    for s in st.stats:
        num = pl.when("measured").then(pl.col(f"s_{s}")).otherwise(_imputed_stat(s))
        out.append(full.select(col=_col_expr(td_vars, f"_{s}", ids), cell=cell, raw=none, num=num)
                   .filter(pl.col("num").is_not_null()))
    return out
