"""Read and validate FIDDLE's input: the long table (ID, t, variable_name, variable_value) and the population.

Values are read as FIDDLE's pandas `read_csv` reads them: the usual NA spellings ('', 'NULL', 'NaN', ...) are
missing, and a value column that is numeric throughout is re-printed the way pandas prints its numbers (so
feature names such as `HR_value_72` match FIDDLE's). Rows with a missing value carry nothing and are dropped
when the table becomes a batch (`to_batch`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from model.errors import DataValidationError
from model.features.featurize import Batch
from model.features.long_table import conform, parse_numbers

ID, T, VAR, VAL = "ID", "t", "variable_name", "variable_value"
# pandas.read_csv's default NA strings.
NA_STRINGS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
              "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def _read(path: Path, required: list[str]) -> pl.DataFrame:
    if path.suffix not in (".csv", ".parquet"):
        raise DataValidationError("unsupported file type (pickles are never read)", file=str(path),
                                  expected="a .csv or .parquet table")
    if not path.is_file():
        raise DataValidationError("no such file", file=str(path), expected="a .csv or .parquet table")
    try:
        if path.suffix == ".parquet":
            df = pl.read_parquet(path)
            df = df.with_columns([pl.col(c).cast(pl.String) for c in df.columns if c in required])
        else:
            df = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise DataValidationError(f"cannot read table: {exc}".splitlines()[0], file=str(path),
                                  expected="a .csv or .parquet table") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataValidationError(f"missing columns {missing}", file=str(path), field=missing[0],
                                  expected=f"columns {required}")
    return df.with_columns([pl.when(pl.col(c).is_in(NA_STRINGS)).then(None).otherwise(pl.col(c)).alias(c)
                            for c in required])


def _first_row(mask: pl.Series) -> int:
    return int(mask.arg_true()[0])


def _ids(col: pl.Series, path: Path) -> pl.Series:
    if col.null_count():
        raise DataValidationError("missing ID", file=str(path), row=_first_row(col.is_null()), field=ID,
                                  expected="an ID on every row")
    as_int = col.str.strip_chars().cast(pl.Int64, strict=False)
    return as_int if as_int.null_count() == 0 else col


def _values(col: pl.Series, path: Path) -> pl.Series:
    num = parse_numbers(col)
    inf = num.is_infinite().fill_null(False)
    if inf.any():
        raise DataValidationError("non-finite number", file=str(path), row=_first_row(inf), field=VAL,
                                  expected="a finite number or a text category")
    present = col.is_not_null()
    if present.any() and num.filter(present).null_count() == 0:  # pandas would read a numeric column
        ints = col.str.strip_chars().cast(pl.Int64, strict=False)
        if col.null_count() == 0 and ints.null_count() == 0:
            return ints.cast(pl.String)
        uniq = num.drop_nulls().unique()
        return num.replace_strict(uniq, [repr(v) for v in uniq.to_list()], default=None, return_dtype=pl.String)
    return col


def read_fiddle_table(data_path: str | Path, population_path: str | Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read FIDDLE's input files and check them.

    Args:
        data_path: The long table (.csv or .parquet) with columns ID, t, variable_name, variable_value.
        population_path: The population table (.csv or .parquet) with an ID column.

    Returns:
        data (ID, t Float64 with null = time-invariant, variable_name, variable_value String with null =
        missing), in file order; population (ID), in file order. ID dtypes agree (Int64 when all IDs are
        integers, else String).

    Raises:
        DataValidationError: Missing file or column, missing ID or variable name, non-numeric t, non-finite
            value, duplicate or missing population IDs, an empty population, or ID types that differ.
    """
    data_path, population_path = Path(data_path), Path(population_path)
    data = _read(data_path, [ID, T, VAR, VAL]).select(ID, T, VAR, VAL)
    pop = _read(population_path, [ID]).select(ID)
    if pop.height == 0:
        raise DataValidationError("empty population", file=str(population_path), field=ID,
                                  expected="at least one ID")
    pop_ids = _ids(pop[ID], population_path)
    dup = pop_ids.is_duplicated()
    if dup.any():
        raise DataValidationError("duplicate population ID", file=str(population_path), row=_first_row(dup),
                                  field=ID, expected="each ID once")
    data_ids = _ids(data[ID], data_path)
    if data_ids.dtype != pop_ids.dtype:
        bad = data_ids.cast(pl.Int64, strict=False).is_null() if data_ids.dtype == pl.String else None
        raise DataValidationError("IDs are integers in one file and text in the other", file=str(data_path),
                                  row=_first_row(bad) if bad is not None and bad.any() else None, field=ID,
                                  expected=f"IDs of the same type as in {population_path}")
    t = parse_numbers(data[T])
    bad_t = t.is_null() & data[T].is_not_null()
    if bad_t.any():
        raise DataValidationError("t is not a number", file=str(data_path), row=_first_row(bad_t), field=T,
                                  expected="hours as a number, or empty/NULL for time-invariant rows")
    if data[VAR].null_count():
        raise DataValidationError("missing variable name", file=str(data_path), row=_first_row(data[VAR].is_null()),
                                  field=VAR, expected="a variable name on every row")
    data = pl.DataFrame({ID: data_ids, T: t, VAR: data[VAR], VAL: _values(data[VAL], data_path)})
    return data, pl.DataFrame({ID: pop_ids})


def to_batch(data: pl.DataFrame, population: pl.DataFrame) -> tuple[Batch, pl.Series, int]:
    """Turn FIDDLE's tables into one batch: IDs numbered in sorted population order (as FIDDLE sorts them).

    Rows whose ID is not in the population, and rows with a missing value, are dropped.

    Args:
        data: From `read_fiddle_table`.
        population: From `read_fiddle_table`.

    Returns:
        The batch, the sorted population IDs, and the number of rows dropped for a missing value.
    """
    ids = population[ID].sort()
    index = pl.DataFrame({ID: ids, "id": pl.arange(0, len(ids), eager=True, dtype=pl.UInt32)})
    rows = data.with_row_index("ord").join(index, on=ID, how="inner")
    n_missing = rows[VAL].null_count()
    rows = rows.filter(pl.col(VAL).is_not_null()).sort("ord")
    events = conform(rows.select("id", t=T, var=VAR, raw=VAL, num=parse_numbers(rows[VAL]), ord="ord"))
    return Batch(events, len(ids)), ids, n_missing
