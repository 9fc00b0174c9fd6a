"""The long event table every featurizer input is turned into, and the value parsing FIDDLE relies on.

One row per recorded value:

    id   UInt32   row of the sample (population order, 0-based) the value belongs to
    t    Float64  hours since the sample's anchor; null = time-invariant (static)
    var  String   variable name
    raw  String   the value as written (null for a numeric value that has no source text, as in MEDS)
    num  Float64  the value as a number, or null when it is not numeric
    ord  UInt64   input order, the tie-break wherever FIDDLE takes the "last" or "first" value

FIDDLE reads every value as text and decides per value whether Python's `float()` accepts it; `parse_numbers`
reproduces that decision column-wise.
"""

from __future__ import annotations

import polars as pl

LONG_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.UInt32(),
    "t": pl.Float64(),
    "var": pl.String(),
    "raw": pl.String(),
    "num": pl.Float64(),
    "ord": pl.UInt64(),
}


def _py_float(text: str) -> float | None:
    try:
        return float(text)
    except (ValueError, TypeError):
        return None


def parse_numbers(raw: pl.Series) -> pl.Series:
    """Parse text values to Float64 exactly as Python's `float()` would (null where it raises).

    polars parses the common forms in bulk; the few distinct strings it rejects (surrounding blanks, digit
    underscores, ...) are retried with `float()` itself, once per distinct string.

    Args:
        raw: Text values (nulls stay null).

    Returns:
        Float64 Series of the same length.
    """
    fast = raw.str.strip_chars().cast(pl.Float64, strict=False)
    missed = raw.filter(fast.is_null() & raw.is_not_null()).unique()
    if missed.len() == 0:
        return fast.alias(raw.name)
    retry = {s: _py_float(s) for s in missed.to_list()}
    retry = {s: v for s, v in retry.items() if v is not None}
    if not retry:
        return fast.alias(raw.name)
    mapped = raw.replace_strict(list(retry), list(retry.values()), default=None, return_dtype=pl.Float64)
    return fast.fill_null(mapped).alias(raw.name)


def format_number(v: float, integer: bool = False) -> str:
    """Text of a number in a feature name, as pandas prints it (Python repr; integers of an int column bare).

    Args:
        v: The number.
        integer: The column holds integers (FIDDLE's delta_time), printed without a decimal point.

    Returns:
        The text.
    """
    return str(int(v)) if integer else repr(float(v))


def text_of_value() -> pl.Expr:
    """Expression: the value's text (raw, or the number printed by polars when there is no raw text)."""
    return pl.coalesce(pl.col("raw"), pl.col("num").cast(pl.String))


def empty_long_table() -> pl.DataFrame:
    """A long table with no rows."""
    return pl.DataFrame(schema=LONG_SCHEMA)


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """Select and cast the long-table columns in canonical order.

    Args:
        df: A frame with at least the LONG_SCHEMA columns.

    Returns:
        The frame with exactly those columns and dtypes.
    """
    return df.select([pl.col(c).cast(dt) for c, dt in LONG_SCHEMA.items()])
