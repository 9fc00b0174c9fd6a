"""MEDS events -> the featurizer's long table, one shard at a time.

A sample is one row of the labeling step's `samples` frame (subject_id, prediction_time, anchor_time); its ID
in the long table is its position among the samples given. t is hours since the sample's anchor. Codes are split
by `code_rules`; windows keep what was known at prediction time: point and interval events in
[anchor, prediction_time), static facts recorded before prediction_time (or undated).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from model.features.code_rules import DEFAULT_RULES, CodeRule
from model.features.long_table import LONG_SCHEMA, conform

US_PER_HOUR = 3_600_000_000
US_PER_YEAR = 365.25 * 24 * US_PER_HOUR
EVENT_COLUMNS = ["subject_id", "time", "code", "numeric_value", "text_value"]


@dataclass
class AdapterReport:
    """Counts of MEDS rows by fate (no identifiers)."""

    rows: int = 0
    dropped_by_rule: int = 0
    unmatched_code: int = 0
    used: int = 0  # (event, sample) pairs inside a sample's window (interval events: per start)

    def add(self, other: AdapterReport) -> None:
        """Accumulate another shard's counts."""
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def _code_table(codes: pl.Series, rules: tuple[CodeRule, ...]) -> pl.DataFrame:
    """Per distinct code: the first matching rule, its kind and the code's remainder after the prefix."""
    rows = []
    for code in codes.drop_nulls().to_list():
        for i, r in enumerate(rules):
            if code.startswith(r.prefix):
                rows.append((code, i, r.kind, code[len(r.prefix):]))
                break
        else:
            rows.append((code, None, None, None))
    return pl.DataFrame(rows, schema={"code": pl.String, "rule": pl.Int32, "kind": pl.String, "rest": pl.String},
                        orient="row")


def _hours(a: str, b: str) -> pl.Expr:
    return (pl.col(a) - pl.col(b)).dt.total_microseconds().cast(pl.Float64) / US_PER_HOUR


def meds_to_long(events: pl.DataFrame, samples: pl.DataFrame, T: float, dt: float,
                 rules: tuple[CodeRule, ...] = DEFAULT_RULES) -> tuple[pl.DataFrame, AdapterReport]:
    """Long table of one shard's events for the samples of its subjects.

    Args:
        events: MEDS rows (subject_id, time, code, numeric_value, text_value) of one shard.
        samples: id (UInt32, the sample's row in the output), subject_id, prediction_time, anchor_time.
        T: Window length in hours (prediction_time - anchor_time).
        dt: Bin width in hours (interval events are expanded to bin mid-points).
        rules: Code rules.

    Returns:
        The long table (see `long_table`) and counts.
    """
    rep = AdapterReport(rows=events.height)
    ev = events.select(EVENT_COLUMNS)
    if not _is_sorted(ev):  # MEDS promises per-subject time order (static rows first); repair if not
        ev = ev.with_row_index("row").sort(["subject_id", "time", "row"], nulls_last=False).drop("row")
    ev = ev.with_row_index("ord").join(_code_table(ev["code"].unique(), rules), on="code", how="left")
    rep.unmatched_code = ev.filter(pl.col("kind").is_null()).height
    rep.dropped_by_rule = ev.filter(pl.col("kind") == "drop").height
    ev = ev.filter(pl.col("kind").is_not_null() & (pl.col("kind") != "drop"))
    smp = samples.select("id", "subject_id", "prediction_time", "anchor_time")
    parts = [_static(ev, smp, rules), _point(ev, smp), _interval(ev, smp, T, dt, rules)]
    rep.used = sum(p[1] for p in parts)
    return pl.concat([conform(p[0]) for p in parts]), rep


def _is_sorted(ev: pl.DataFrame) -> bool:
    """Subjects contiguous and ascending, times ascending within a subject with nulls first."""
    s, t = pl.col("subject_id"), pl.col("time")
    same = s == s.shift(1)
    bad = (s < s.shift(1)) | (same & t.shift(1).is_not_null() & (t.is_null() | (t < t.shift(1))))
    return not ev.select(bad.fill_null(False).any()).item()


def _static(ev: pl.DataFrame, smp: pl.DataFrame, rules: tuple[CodeRule, ...]) -> tuple[pl.DataFrame, int]:
    names = {i: r.variable for i, r in enumerate(rules)}
    rows = ev.filter(pl.col("kind").is_in(["static", "age"])).join(smp, on="subject_id", how="inner")
    rows = rows.filter(pl.col("time").is_null() | (pl.col("time") < pl.col("prediction_time")))
    is_age = pl.col("kind") == "age"
    age = (pl.col("anchor_time") - pl.col("time")).dt.total_microseconds().cast(pl.Float64) / US_PER_YEAR
    out = rows.select(
        "id", t=pl.lit(None, pl.Float64), var=pl.col("rule").replace_strict(names, return_dtype=pl.String),
        raw=pl.when(is_age).then(None).otherwise(pl.col("rest")), num=pl.when(is_age).then(age), ord="ord")
    return out.filter(pl.col("raw").is_not_null() | pl.col("num").is_not_null()), rows.height


def _point(ev: pl.DataFrame, smp: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    pts = ev.filter(pl.col("kind") == "point")
    # join on numbers only, then gather the (string) columns of rows inside a window: far less copying
    hits = pts.select("subject_id", "time", pos=pl.int_range(pl.len(), dtype=pl.UInt32)).join(
        smp, on="subject_id", how="inner").with_columns(t=_hours("time", "anchor_time")).filter(
        (pl.col("t") >= 0) & (pl.col("time") < pl.col("prediction_time")))
    rows = pts.select("code", "numeric_value", "text_value", "ord")[hits["pos"]].with_columns(
        id=hits["id"], t=hits["t"])
    num = pl.col("numeric_value").cast(pl.Float64).fill_nan(None)
    out = rows.select("id", "t", var="code", raw=pl.when(num.is_null()).then(pl.col("text_value")),
                      num=pl.when(num.is_null() & pl.col("text_value").is_null()).then(1.0).otherwise(num), ord="ord")
    return out, rows.height


def _interval(ev: pl.DataFrame, smp: pl.DataFrame, T: float, dt: float,
              rules: tuple[CodeRule, ...]) -> tuple[pl.DataFrame, int]:
    """Pair each start with the first end of the same variable at or after it; expand to overlapped bins."""
    L = int(T // dt)
    var = pl.col("name") + pl.col("rest")
    starts = ev.filter(pl.col("kind") == "interval_start", pl.col("time").is_not_null())
    ends = ev.filter(pl.col("kind") == "interval_end", pl.col("time").is_not_null())
    if starts.height == 0:
        return pl.DataFrame(schema=LONG_SCHEMA), 0
    names = {i: r.name or "" for i, r in enumerate(rules)}
    starts = starts.with_columns(name=pl.col("rule").replace_strict(names, return_dtype=pl.String)).select(
        "subject_id", "time", "ord", var=var, value=pl.col("numeric_value").cast(pl.Float64).fill_nan(None))
    ends = ends.with_columns(name=pl.col("rule").replace_strict(names, return_dtype=pl.String)).select(
        "subject_id", var=var, end=pl.col("time"))
    paired = starts.sort("time").join_asof(ends.sort("end"), left_on="time", right_on="end",
                                           by=["subject_id", "var"], strategy="forward", check_sortedness=False)
    rows = paired.join(smp, on="subject_id", how="inner").with_columns(
        ts=_hours("time", "anchor_time"), te=_hours("end", "anchor_time").fill_null(float("inf")))
    rows = rows.filter((pl.col("te") >= 0) & (pl.col("time") < pl.col("prediction_time")))
    k0 = (pl.col("ts") / dt).floor().clip(lower_bound=0).cast(pl.Int64)
    k1 = (pl.col("te") / dt).floor().clip(upper_bound=L - 1).cast(pl.Int64)
    grid = rows.select("id", "var", "ord", "value", k0=k0, k1=k1).filter(
        pl.col("k0") <= pl.col("k1"))
    grid = grid.with_columns(k=pl.int_ranges("k0", pl.col("k1") + 1)).explode("k", empty_as_null=True)
    # overlapping rates add up; intervals without a rate (procedures) are a 0/1 indicator
    num = pl.when(pl.col("value").is_not_null().any()).then(pl.col("value").sum()).otherwise(1.0)
    out = grid.group_by("id", "var", "k").agg(num=num, ord=pl.col("ord").min()).select(
        "id", t=pl.col("k").cast(pl.Float64) * dt + dt / 2, var="var", raw=pl.lit(None, pl.String), num="num",
        ord="ord")
    return out, rows.height
