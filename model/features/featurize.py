"""The featurizer's two pure entry points: `fit` on training batches, `transform_batch` on any batch.

A batch is a long table (see `long_table`) whose `id` runs over 0..n_ids-1, plus n_ids (IDs without events
count). `fit` reads its batch source once and keeps per-batch intermediates in a `Spill` (memory, or a temporary
directory for large inputs); between batches only counts and distinct values are kept. Its passes:

1. variable counts -> pre-filter, value types, time-invariant / frequent variables (recounted after mapping
   duplicate categoricals to new variables, only when there are any);
2. derived-column statistics -> encoders (bins, categories, means);
3. per-feature sums -> nearly-constant filter;
4. co-products of candidate pairs -> correlated-feature filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from model.errors import DataValidationError
from model.features.column_stats import ColumnStats
from model.features.config import FeaturizerConfig
from model.features.derive import Structure, derive_series, derive_static
from model.features.encode import fit_encoders
from model.features.encode_apply import EncodePlan
from model.features.fitted import FittedFeaturizer, Table
from model.features.postfilter import CoProducts, FilterStats, candidate_pairs, correlated
from model.features.prepare import (
    CATEGORICAL,
    NUMERIC,
    PrepareReport,
    decide_types,
    merge_counts,
    prepare_batch,
    window_filter,
)
from model.features.spill import Spill


@dataclass
class Batch:
    """A long table of events for IDs 0..n_ids-1."""

    events: pl.DataFrame
    n_ids: int


BatchSource = Callable[[], Iterable[Batch]]


def _var_counts(ev: pl.DataFrame) -> pl.DataFrame:
    counts = ev.group_by("var").agg(
        n_ids=pl.col("id").n_unique().cast(pl.Int64),
        n_num=pl.col("num").is_not_null().sum().cast(pl.Int64),
        n_str=pl.col("num").is_null().sum().cast(pl.Int64),
        n_static=pl.col("t").is_null().sum().cast(pl.Int64),
        n_timed=pl.col("t").is_not_null().sum().cast(pl.Int64),
    )
    dups = ev.group_by("id", "t", "var").len().filter(pl.col("len") > 1).group_by("var").agg(
        n_dup=pl.col("len").sum().cast(pl.Int64))
    return counts.join(dups, on="var", how="left").with_columns(pl.col("n_dup").fill_null(0))


def _structure(counts: pl.DataFrame, types: dict[str, str], cfg: FeaturizerConfig, n_ids: int) -> Structure:
    rows = counts.sort("var")
    inv = rows.filter(pl.col("n_static") > 0)["var"].to_list()
    td = rows.filter((pl.col("n_static") == 0) & (pl.col("n_timed") > 0))
    freq = td.filter(pl.col("var").replace_strict(types, default=None) == NUMERIC)
    freq = freq.filter(pl.col("n_timed") / n_ids >= cfg.theta_freq * cfg.L)["var"].to_list()
    nonfreq = [v for v in td["var"].to_list() if v not in set(freq)]
    return Structure(tuple(inv), tuple(nonfreq), tuple(freq), cfg.stats_functions)


def _fit_structure(source: BatchSource, cfg: FeaturizerConfig, spill: Spill) -> tuple[dict, list, Structure, list]:
    parts, sizes = [], []
    for i, b in enumerate(source()):
        ev = window_filter(b.events, cfg) if cfg.prefilter else b.events
        parts.append(_var_counts(ev))
        sizes.append(b.n_ids)
        spill.put_frames("events", i, {"events": ev})
    n_ids = sum(sizes)
    if n_ids == 0:
        raise DataValidationError("cannot fit the featurizer on an empty split", field="population",
                                  expected="at least one training ID")
    counts = merge_counts(parts, ["var"]) if parts else pl.DataFrame(schema={"var": pl.String})
    types, underscore = decide_types(counts, cfg, n_ids) if counts.height else ({}, [])
    counts = counts.filter(pl.col("var").is_in(list(types)))
    dups = counts.filter((pl.col("n_dup") > 0) & pl.col("var").replace_strict(types, default=None).eq(CATEGORICAL))
    if dups.height:  # duplicate categoricals become new variables: recount after mapping them
        report = PrepareReport()
        counts = merge_counts([_var_counts(prepare_batch(_events(spill, i), cfg, types, underscore, report))
                               for i in range(len(sizes))], ["var"])
    return types, underscore, _structure(counts, types, cfg, n_ids), sizes


def _events(spill: Spill, i: int) -> pl.DataFrame:
    return spill.get_frames("events", i, ("events",))["events"]


def _derive(fitted: FittedFeaturizer, events: pl.DataFrame, report: PrepareReport) -> dict[str, pl.DataFrame]:
    ev = prepare_batch(events, fitted.config, fitted.types, fitted.underscore, report)
    return {"s": derive_static(ev, fitted.structure), "x": derive_series(ev, fitted.structure, fitted.config)}


def _plans(fitted: FittedFeaturizer) -> dict[str, EncodePlan]:
    n_s = len(fitted.structure.s_columns())
    n_x = len(fitted.structure.x_columns())
    ext = fitted.config.extend_outer_bins
    return {k: EncodePlan(t.encoders, n_x if t.temporal else n_s, ext) for k, t in fitted.tables.items()}


def _encode(fitted: FittedFeaturizer, plans: dict[str, EncodePlan], cells: dict[str, pl.DataFrame],
            n_ids: int) -> dict[str, sp.csr_matrix]:
    out = {}
    for k, t in fitted.tables.items():
        c = cells["x"] if t.temporal else cells["s"]
        if t.temporal and len(fitted.tables) > 2:  # several temporal tables: give each its own columns
            c = c.filter(pl.col("col").is_in(sorted({e.col for e in t.encoders})))
        out[k] = plans[k].to_csr(c, n_ids * (fitted.config.L if t.temporal else 1))
    return out


def fit(source: BatchSource, cfg: FeaturizerConfig, table_of: Callable[[str], str] = lambda v: "X",
        static_table: str = "S", given_edges: dict[str, Any] | None = None,
        workdir: str | Path | None = None) -> FittedFeaturizer:
    """Learn the featurizer from training batches.

    Args:
        source: Returns an iterable of training batches (read once).
        cfg: Settings.
        table_of: Output table of a time-dependent variable (MEDS: "M" for interval, "E" for point events).
        static_table: Name of the time-invariant table ("S" as in FIDDLE, or "p").
        given_edges: FIDDLE's precomputed discretization bins by column name (S and X together), or None.
        workdir: Where to keep per-batch intermediates (a temporary sub-directory, removed afterwards); None
            keeps them in memory.

    Returns:
        The fitted featurizer.

    Raises:
        DataValidationError: Empty training split, or settings the data contradicts.
    """
    with Spill(workdir) as spill:
        return _fit(source, cfg, table_of, static_table, given_edges, spill)


def _fit(source: BatchSource, cfg: FeaturizerConfig, table_of: Callable[[str], str], static_table: str,
         given_edges: dict[str, Any] | None, spill: Spill) -> FittedFeaturizer:
    types, underscore, st, sizes = _fit_structure(source, cfg, spill)
    n_ids = sum(sizes)
    var_tables = {v: table_of(v) for v in st.nonfrequent + st.frequent}
    fitted = FittedFeaturizer(cfg, types, underscore, st, {}, var_tables, static_table)
    s_stats, x_stats, report = ColumnStats(), ColumnStats(), PrepareReport()
    for i in range(len(sizes)):
        cells = _derive(fitted, _events(spill, i), report)
        s_stats.update(cells["s"])
        x_stats.update(cells["x"])
        spill.put_frames("cells", i, cells)
    ext = cfg.extend_outer_bins
    s_enc = fit_encoders(st.s_columns(), s_stats, n_ids, cfg.discretize, given_edges, ext)
    x_enc = fit_encoders(st.x_columns(), x_stats, n_ids * cfg.L, cfg.discretize, given_edges, ext)
    x_cols = st.x_columns()
    fitted.tables = {static_table: Table(static_table, False, s_enc, [])}
    for name in sorted(set(var_tables.values())) or ["X"]:
        fitted.tables[name] = Table(name, True, [e for e in x_enc if var_tables.get(x_cols[e.col].var) == name], [])
    for t in fitted.tables.values():
        t.keep = list(range(len(t.all_names)))
    if cfg.postfilter:
        _post_filter(fitted, spill, sizes)
    fitted.train = {"n_ids": n_ids, "prepare": asdict(report)}
    return fitted


def _post_filter(fitted: FittedFeaturizer, spill: Spill, sizes: list[int]) -> None:
    cfg = fitted.config
    plans = _plans(fitted)
    names = list(fitted.tables)
    stats = {k: FilterStats(p.n_features, cfg.L if fitted.tables[k].temporal else None) for k, p in plans.items()}
    for i, n in enumerate(sizes):
        tables = _encode(fitted, plans, spill.get_frames("cells", i, ("s", "x")), n)
        for k, m in tables.items():
            stats[k].update(m)
        spill.put_tables("tables", i, tables)
    kept = {k: s.frequency_keep(cfg.theta_2) for k, s in stats.items()}
    co = {k: CoProducts(candidate_pairs(stats[k], kept[k])) for k in stats}
    if any(len(c.pairs) for c in co.values()):
        for i in range(len(sizes)):
            for k, m in spill.get_tables("tables", i, names).items():
                co[k].update(m)
    for k, t in fitted.tables.items():
        keep, aliases = correlated(stats[k], kept[k], co[k], t.all_names)
        t.keep = [int(i) for i in np.flatnonzero(keep)]
        t.aliases = aliases


def transform_batch(fitted: FittedFeaturizer, batch: Batch, report: PrepareReport | None = None,
                    include_all: bool = False) -> dict[str, sp.csr_matrix]:
    """Features of one batch with the fitted featurizer (nothing is learned from the batch).

    Args:
        fitted: The fitted featurizer.
        batch: The batch.
        report: Accumulates counts of rows set aside (unknown variables, ...), if given.
        include_all: Also return the tables before the post-filter, under "<name>_all".

    Returns:
        Table name -> CSR matrix: (n_ids, d) for the static table, (n_ids * L, d) for temporal tables, with rows
        ID-major (row = id * L + bin).
    """
    cells = _derive(fitted, batch.events, report if report is not None else PrepareReport())
    return _select(fitted, _encode(fitted, _plans(fitted), cells, batch.n_ids), include_all)


def _select(fitted: FittedFeaturizer, full: dict[str, sp.csr_matrix], include_all: bool) -> dict[str, sp.csr_matrix]:
    out: dict[str, sp.csr_matrix] = {}
    for k, m in full.items():
        out[k] = m[:, fitted.tables[k].keep]
        if include_all:
            out[f"{k}_all"] = m
    return out


def fit_transform(batch: Batch, cfg: FeaturizerConfig, given_edges: dict[str, Any] | None = None,
                  ) -> tuple[FittedFeaturizer, dict[str, sp.csr_matrix]]:
    """Fit on one in-memory batch and featurize it (FIDDLE's single run), deriving and encoding it once.

    Returns:
        The fitted featurizer and `transform_batch(..., include_all=True)` of the batch.
    """
    with Spill(None) as spill:
        fitted = _fit(batches_of([batch]), cfg, lambda v: "X", "S", given_edges, spill)
        if cfg.postfilter:
            full = spill.get_tables("tables", 0, list(fitted.tables))
        else:
            full = _encode(fitted, _plans(fitted), spill.get_frames("cells", 0, ("s", "x")), batch.n_ids)
        return fitted, _select(fitted, full, include_all=True)


def batches_of(frames: Iterable[Batch]) -> BatchSource:
    """A BatchSource over batches already in memory."""
    kept = list(frames)

    def source() -> Iterator[Batch]:
        return iter(kept)

    return source
