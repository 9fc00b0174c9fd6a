"""Fit FIDDLE's column-to-feature mapping (discretize or impute, then one-hot) from column statistics.

One `Encoder` per output group, in FIDDLE's feature order:
- mask: `{var}_mask`, 1 where measured.
- bins: numbers cut at quintile edges (`{col}_(a, b]`), plus one feature per non-numeric value (`{col}_{value}`).
- cats: at most two distinct numbers: every distinct value is its own feature (`{col}_{value}`), pandas' order:
  numbers ascending, then texts ascending.
- value (discretize: no): the number itself; cells without a number get the training mean (FIDDLE's imputation).
- dummies (discretize: no): one feature per text value, `{col}:{value}`; a column holding both numbers and texts
  is split as in FIDDLE, its texts becoming `{col}_str:{value}` placed after all other columns.
Only values seen in training get a feature: later data can never add one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from model.errors import DataValidationError
from model.features.bins import assign_bins, bin_edges_from_counts, interval_labels
from model.features.column_stats import ColumnStats
from model.features.derive import INT, MASK, RAW, Column
from model.features.long_table import format_number


@dataclass
class Encoder:
    """How one derived column becomes features (see the module docstring)."""

    column: str
    col: int
    kind: str
    mode: str
    names: list[str]
    edges: list[float] | None = None
    bins: list[int] = field(default_factory=list)
    cats: list[tuple[bool, Any]] = field(default_factory=list)  # (is_text, value) per category feature
    fill: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"column": self.column, "col": self.col, "kind": self.kind, "mode": self.mode, "names": self.names,
                "edges": self.edges, "bins": self.bins, "cats": [[s, v] for s, v in self.cats], "fill": self.fill}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Encoder:
        """Inverse of `to_dict`."""
        d = dict(d)
        d["cats"] = [(bool(s), v) for s, v in d["cats"]]
        return cls(**d)


def _category_order(key: tuple[bool, Any]) -> tuple:
    return (1, key[1]) if key[0] else (0, key[1])


def _cats(c: Column, nums: pl.DataFrame | None, raws: pl.DataFrame | None, strings: list[str]) -> list:
    keys: set[tuple[bool, Any]] = {(True, s) for s in strings}
    if nums is not None:
        if c.kind == RAW and raws is not None:
            keys |= {(True, r) if r is not None else (False, v) for r, v in raws.select("raw", "num").iter_rows()}
        else:
            keys |= {(False, v) for v in nums["num"].to_list()}
    return sorted(keys, key=_category_order)


def _name(c: Column, key: tuple[bool, Any], sep: str = "_") -> str:
    text = key[1] if key[0] else format_number(key[1], integer=c.kind == INT)
    return f"{c.name}{sep}{text}"


def fit_column(c: Column, col: int, nums: pl.DataFrame | None, raws: pl.DataFrame | None, strings: list[str],
               n_cells: int, discretize: bool, given_edges: dict[str, Any] | None,
               extend: bool) -> tuple[list[Encoder], list[Encoder]]:
    """Encoders of one derived column.

    Args:
        c: The column.
        col: Its id in the derived table.
        nums: Its distinct numbers with counts (sorted), or None.
        raws: Texts its numbers were written as (a null raw: a number without text), or None.
        strings: Its sorted distinct non-numeric values.
        n_cells: Cells in the training table (IDs, or IDs x bins); int columns read 0 where absent.
        discretize: FIDDLE's `discretize`.
        given_edges: Bin edges from a FIDDLE config (column name -> edges), or None to compute them.
        extend: Cut out-of-range numbers into the outer bins.

    Returns:
        Encoders placed here, and encoders that FIDDLE places after all columns (split-off texts).
    """
    if c.kind == MASK:
        return [Encoder(c.name, col, c.kind, "mask", [c.name])], []
    if c.kind == INT:
        present = 0 if nums is None else int(nums["count"].sum())
        if n_cells > present:
            zero = pl.DataFrame({"col": [col], "num": [0.0], "count": [n_cells - present]}, schema=nums.schema
                                if nums is not None else None)
            nums = (zero if nums is None else pl.concat([nums, zero]).group_by("col", "num").agg(
                pl.col("count").sum())).sort("num")
    if nums is None and not strings:
        return [], []  # FIDDLE drops all-missing columns
    if not discretize:
        return _fit_plain(c, col, nums, strings)
    values = np.array([], float) if nums is None else nums["num"].to_numpy()
    if len(values) > 2:
        if given_edges is not None:
            if c.name not in given_edges or given_edges[c.name] is None:
                raise DataValidationError(f"no bin edges given for column {c.name!r}", field=c.name,
                                          expected="a list of edges in the discretization bins file")
            edges = [float(e) for e in given_edges[c.name]]
        else:
            edges = bin_edges_from_counts(values, nums["count"].to_numpy())
        present = sorted(set(int(b) for b in assign_bins(values, np.asarray(edges), extend)) - {-1})
        labels = interval_labels(edges)
        cats = [(True, s) for s in strings]
        names = [f"{c.name}_{labels[b]}" for b in present] + [_name(c, k) for k in cats]
        return [Encoder(c.name, col, c.kind, "bins", names, edges=edges, bins=present, cats=cats)], []
    cats = _cats(c, nums, raws, strings)
    return [Encoder(c.name, col, c.kind, "cats", [_name(c, k) for k in cats], cats=cats)], []


def _fit_plain(c: Column, col: int, nums: pl.DataFrame | None, strings: list[str]) -> tuple[list, list]:
    here: list[Encoder] = []
    later: list[Encoder] = []
    if nums is not None:
        v, n = nums["num"].to_numpy(), nums["count"].to_numpy()
        fill = 0.0 if c.kind == INT else float(np.dot(v, n) / n.sum())
        here.append(Encoder(c.name, col, c.kind, "value", [c.name], fill=fill))
    if strings:
        base = Column(f"{c.name}_str" if nums is not None else c.name, c.var, c.kind)
        cats = [(True, s) for s in strings]
        enc = Encoder(c.name, col, c.kind, "dummies", [_name(base, k, ":") for k in cats], cats=cats)
        (later if nums is not None else here).append(enc)
    return here, later


def fit_encoders(columns: list[Column], stats: ColumnStats, n_cells: int, discretize: bool,
                 given_edges: dict[str, Any] | None = None, extend: bool = False) -> list[Encoder]:
    """Encoders of all derived columns of one table (S or X), in FIDDLE's feature order.

    Args:
        columns: Derived columns in order (their index is the `col` id in `stats`).
        stats: Accumulated training statistics.
        n_cells: Training cells of this table.
        discretize: FIDDLE's `discretize`.
        given_edges: Precomputed edges by column name (FIDDLE's *_discretization_bins), or None.
        extend: Cut out-of-range numbers into the outer bins.

    Returns:
        The encoders.
    """
    nums, raws, strs = stats.numbers_of(), stats.raws_of(), stats.strings_of()
    here: list[Encoder] = []
    later: list[Encoder] = []
    for i, c in enumerate(columns):
        a, b = fit_column(c, i, nums.get(i), raws.get(i), strs.get(i, []), n_cells, discretize, given_edges, extend)
        here += a
        later += b
    return here + later


def discretization_bins(encoders: list[Encoder]) -> dict[str, list[float] | None]:
    """FIDDLE's `*.discretization.json`: edges (or null) of every non-mask column, in order."""
    out: dict[str, list[float] | None] = {}
    for e in encoders:
        if e.mode != "mask":
            out.setdefault(e.column, e.edges)
    return out
