"""Value statistics of derived columns, accumulated batch by batch; encoders are fitted from them.

Only distinct values and their counts are kept (a vital sign has a few hundred distinct values however many
stays there are), so fitting exact quantile edges needs memory that does not grow with the number of shards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class ColumnStats:
    """Distinct values per derived column (by column id) over all batches seen.

    Attributes:
        num_counts: col, num, count: how many cells hold each number.
        num_raws: col, raw, num: the texts numbers were written as (FIDDLE names some features after them);
            a null raw marks numbers that came without text (MEDS numeric_value).
        strings: col, raw: the distinct non-numeric values.
    """

    num_counts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"col": pl.UInt32, "num": pl.Float64, "count": pl.Int64}))
    num_raws: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"col": pl.UInt32, "raw": pl.String, "num": pl.Float64}))
    strings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={"col": pl.UInt32, "raw": pl.String}))

    def update(self, cells: pl.DataFrame) -> None:
        """Add one batch of derived cells (col, cell, raw, num)."""
        nums = cells.filter(pl.col("num").is_not_null())
        counts = nums.group_by("col", "num").agg(count=pl.len().cast(pl.Int64))
        self.num_counts = pl.concat([self.num_counts, counts]).group_by("col", "num").agg(pl.col("count").sum())
        raws = nums.select("col", "raw", "num").unique()
        self.num_raws = pl.concat([self.num_raws, raws]).unique()
        strs = cells.filter(pl.col("num").is_null() & pl.col("raw").is_not_null()).select("col", "raw").unique()
        self.strings = pl.concat([self.strings, strs]).unique()

    def numbers_of(self) -> dict[int, pl.DataFrame]:
        """Per column: its sorted distinct numbers and counts."""
        return {k[0]: g.sort("num") for k, g in self.num_counts.partition_by("col", as_dict=True).items()}

    def raws_of(self) -> dict[int, pl.DataFrame]:
        """Per column: raw texts of its numbers."""
        return {k[0]: g for k, g in self.num_raws.partition_by("col", as_dict=True).items()}

    def strings_of(self) -> dict[int, list[str]]:
        """Per column: sorted distinct non-numeric values."""
        return {k[0]: sorted(g["raw"].to_list()) for k, g in self.strings.partition_by("col", as_dict=True).items()}
