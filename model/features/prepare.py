"""FIDDLE's step 1 and the start of step 2 on a long table: pre-filter, value types, duplicate categoricals.

Everything decided here from training data (kept variables, value types) is stored in the fitted artifact and
re-applied unchanged to other data by `prepare_batch`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from model.errors import DataValidationError
from model.features.config import FeaturizerConfig
from model.features.long_table import text_of_value

NUMERIC, CATEGORICAL, MIXED = "Numeric", "Categorical", "Numeric + Categorical"


@dataclass
class PrepareReport:
    """Rows set aside while preparing a batch, by reason (counts only: no identifiers)."""

    outside_window: int = 0
    unknown_variable: int = 0
    non_numeric_in_numeric_variable: int = 0

    def add(self, other: PrepareReport) -> None:
        """Accumulate another batch's counts."""
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def window_filter(events: pl.DataFrame, cfg: FeaturizerConfig) -> pl.DataFrame:
    """Keep time-invariant rows and rows with 0 <= t < T (FIDDLE's pre-filter on time)."""
    t = pl.col("t")
    return events.filter(t.is_null() | ((t >= 0) & (t < cfg.T)))


def variable_counts(events: pl.DataFrame) -> pl.DataFrame:
    """Per-variable counts that add up across batches (IDs never span batches).

    Returns:
        Frame var, n_ids (IDs with the variable), n_num / n_str (numeric / non-numeric values).
    """
    return events.group_by("var").agg(
        n_ids=pl.col("id").n_unique().cast(pl.Int64),
        n_num=pl.col("num").is_not_null().sum().cast(pl.Int64),
        n_str=pl.col("num").is_null().sum().cast(pl.Int64),
    )


def merge_counts(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Sum count frames from several batches (boolean columns are or-ed)."""
    if not parts:
        return pl.DataFrame()
    df = pl.concat(parts, how="vertical_relaxed")
    aggs = [pl.col(c).max() if df.schema[c] == pl.Boolean else pl.col(c).sum() for c in df.columns if c not in keys]
    return df.group_by(keys).agg(aggs).sort(keys)


def decide_types(counts: pl.DataFrame, cfg: FeaturizerConfig, n_ids: int) -> tuple[dict[str, str], list[str]]:
    """Apply the rare-variable pre-filter and detect each kept variable's value type.

    Args:
        counts: Merged `variable_counts` of the (window-filtered) training data.
        cfg: Settings (theta_1, prefilter, value_types).
        n_ids: Number of training IDs (the population, including IDs without events).

    Returns:
        Kept variable -> "Numeric", "Categorical" or "Numeric + Categorical" (sorted by name), and the variables
        forced to Categorical that hold numbers (FIDDLE prefixes all their values with '_').

    Raises:
        DataValidationError: A variable forced to Numeric has non-numeric values.
    """
    if cfg.prefilter:
        counts = counts.filter(pl.col("n_ids") / n_ids > cfg.theta_1)
    types: dict[str, str] = {}
    underscore: list[str] = []
    for var, n_num, n_str in counts.select("var", "n_num", "n_str").sort("var").iter_rows():
        forced = cfg.value_types.get(var)
        if forced == NUMERIC and n_str:
            raise DataValidationError(f"variable {var!r} is forced to Numeric but has {n_str} non-numeric values",
                                      field="value_types", expected="numbers only, or type Categorical")
        if forced == CATEGORICAL and n_num:
            underscore.append(var)
        types[var] = forced or (NUMERIC if n_str == 0 else CATEGORICAL if n_num == 0 else MIXED)
    return types, underscore


def apply_types(events: pl.DataFrame, types: dict[str, str], underscore: list[str],
                report: PrepareReport) -> pl.DataFrame:
    """Restrict to known variables and make values agree with their fitted type.

    A Categorical variable's values are categories (no numbers); when FIDDLE's config forces Categorical on a
    variable with numbers, every value gets a leading '_' as in FIDDLE. Non-numeric values of a Numeric
    variable cannot be encoded by the fitted features: they are dropped and counted.
    """
    known = events.filter(pl.col("var").is_in(list(types)))
    report.unknown_variable += events.height - known.height
    kind = pl.col("var").replace_strict(types, default=None)
    bad = (kind == NUMERIC) & pl.col("num").is_null()
    n_bad = known.select(bad.sum()).item()
    if n_bad:
        report.non_numeric_in_numeric_variable += n_bad
        known = known.filter(~bad)
    if underscore:
        prefixed = pl.col("var").is_in(underscore)
        known = known.with_columns(raw=pl.when(prefixed).then(pl.lit("_") + text_of_value()).otherwise("raw"))
    return known.with_columns(num=pl.when(kind == CATEGORICAL).then(None).otherwise("num"))


def premap_duplicates(events: pl.DataFrame, types: dict[str, str]) -> pl.DataFrame:
    """FIDDLE: a Categorical variable recorded twice at the same (ID, t) becomes indicators `var:value` = 1.

    FIDDLE crashes when the same category is then recorded twice at one time; here the repeat is dropped.
    Row order is not kept (every later step orders rows by ID, time and `ord`).
    """
    cat_vars = [v for v, ty in types.items() if ty == CATEGORICAL]
    if not cat_vars:
        return events
    is_cat = pl.col("var").is_in(cat_vars)
    cat = events.filter(is_cat).with_columns(_dup=pl.len().over(["id", "t", "var"]) > 1)
    if not cat["_dup"].any():
        return events
    mapped = cat.filter("_dup").with_columns(
        var=pl.col("var") + ":" + text_of_value(), raw=pl.lit("1"), num=pl.lit(1.0)
    ).unique(subset=["id", "t", "var"], keep="first", maintain_order=True)
    return pl.concat([events.filter(~is_cat), cat.filter(~pl.col("_dup")).drop("_dup"), mapped.drop("_dup")])


def check_numeric_duplicates(events: pl.DataFrame, cfg: FeaturizerConfig, source: str) -> None:
    """FIDDLE's pre-filter check: one variable must not hold two values at the same (ID, t) if any is numeric.

    Raises:
        DataValidationError: Naming the first offending input row (its `ord`).
    """
    forced = [v for v, ty in cfg.value_types.items() if ty == CATEGORICAL]
    rows = events.filter(~pl.col("var").is_in(forced)).filter(pl.len().over(["id", "t", "var"]) > 1)
    rows = rows.filter(pl.col("num").is_not_null().any().over(["id", "t", "var"]))
    if rows.height:
        first = rows.sort("ord").row(0, named=True)
        raise DataValidationError(
            f"variable {first['var']!r} has several values at the same ID and time, and one is numeric",
            file=source, row=int(first["ord"]), field="variable_value",
            expected="one numeric value per (ID, t, variable_name)")


def prepare_batch(events: pl.DataFrame, cfg: FeaturizerConfig, types: dict[str, str], underscore: list[str],
                  report: PrepareReport) -> pl.DataFrame:
    """Window filter, fitted types, duplicate categoricals: the input of derivation."""
    n0 = events.height
    if cfg.prefilter:
        events = window_filter(events, cfg)
    report.outside_window += n0 - events.height
    events = apply_types(events, types, underscore, report)
    return premap_duplicates(events, types)
