"""A deterministic FIDDLE-format input (ID, t, variable_name, variable_value) shaped like MIMIC-III extracts.

For benchmarks and tests: frequent vitals, sparse labs, categorical charting, mixed "<1"-style lab values,
infusions already resampled to bin mid-points (as FIDDLE's MIMIC scripts do), and time-invariant demographics.
200 stays at T = 4 give about 65,000 rows. No numeric variable is recorded twice at one time (FIDDLE refuses it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from model.io_atomic import atomic_file


def _times(rng: np.random.Generator, n: int, T: float) -> np.ndarray:
    return np.round(rng.uniform(0, T, n), 4)


def generate_fiddle_table(n_ids: int = 200, T: float = 4.0, seed: int = 0,
                          n_silent: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the long table and the population.

    Args:
        n_ids: Population size (IDs 1001, 1002, ...).
        T: Hours covered by timed rows.
        seed: Everything is a function of the seed.
        n_silent: How many population IDs have no rows at all.

    Returns:
        data (ID Int64, t Float64 with null = time-invariant, variable_name, variable_value String) and the
        population (ID).
    """
    rng = np.random.default_rng(seed)
    ids = np.arange(1001, 1001 + n_ids)
    active = ids[: n_ids - n_silent]
    cols: dict[str, list] = {"ID": [], "t": [], "variable_name": [], "variable_value": []}

    def add(i: np.ndarray, t: np.ndarray | None, var: str | np.ndarray, val: np.ndarray) -> None:
        cols["ID"].append(i)
        cols["t"].append(np.full(len(i), np.nan) if t is None else t)
        cols["variable_name"].append(np.broadcast_to(np.asarray(var, dtype=object), len(i)))
        cols["variable_value"].append(val.astype(str).astype(object))

    add(active, None, "AGE", rng.integers(18, 90, len(active)))
    add(active, None, "SEX", rng.choice(["M", "F"], len(active)))
    for name, k in (("ETHNICITY", 6), ("ADMISSION_TYPE", 4), ("INSURANCE", 5), ("FIRST_CAREUNIT", 5)):
        add(active, None, name, rng.choice([f"{name.lower()}_{j}" for j in range(k)], len(active)))
    add(active, None, "HEIGHT", np.round(rng.normal(170, 10, len(active)), 1))
    add(active, None, "WEIGHT", np.round(rng.normal(80, 15, len(active)), 1))
    for d in range(20):  # history flags, present for about half the stays
        who = active[rng.random(len(active)) < 0.5]
        add(who, None, f"HX_{d:02d}", rng.choice(["yes", "no"], len(who)))
    for v in range(10):  # vitals, about every 12 minutes
        n = rng.poisson(20, len(active))
        who = np.repeat(active, n)
        add(who, _times(rng, len(who), T), f"VITAL_{v:02d}", np.round(rng.normal(80 + 5 * v, 12, len(who))))
    for lab in range(60):
        who = active[rng.random(len(active)) < 0.4]
        who = np.repeat(who, rng.integers(1, 3, len(who)))
        add(who, _times(rng, len(who), T), f"LAB_{lab:02d}", np.round(rng.lognormal(1 + lab % 5, 0.4, len(who)), 2))
    for c in range(20):
        who = active[rng.random(len(active)) < 0.6]
        who = np.repeat(who, 3)
        add(who, _times(rng, len(who), T), f"CHART_{c:02d}", rng.choice([f"level {j}" for j in range(1 + c % 6)],
                                                                         len(who)))
    for m in range(5):
        who = active[rng.random(len(active)) < 0.5]
        who = np.repeat(who, 2)
        vals = np.round(rng.uniform(0.5, 9, len(who)), 1).astype(str).astype(object)
        vals[rng.random(len(who)) < 0.15] = "<0.5"
        add(who, _times(rng, len(who), T), f"MIXED_{m}", vals)
    for drug in range(30):
        who = active[rng.random(len(active)) < 0.2]
        bins = np.tile(np.arange(int(T)), len(who))
        who = np.repeat(who, int(T))
        add(who, bins + 0.5, f"DRUG_{drug:02d}_RATE", np.round(rng.uniform(1, 50, len(who)), 1))
        if drug % 3 == 0:
            add(who, bins + 0.5, f"DRUG_{drug:02d}_ROUTE", rng.choice(["IV", "Oral", "Bolus"], len(who)))
    data = pl.DataFrame({
        "ID": np.concatenate(cols["ID"]).astype(np.int64),
        "t": np.concatenate(cols["t"]),
        "variable_name": np.concatenate(cols["variable_name"]).astype(str),
        "variable_value": np.concatenate(cols["variable_value"]).astype(str),
    }).with_columns(pl.col("t").fill_nan(None)).unique(["ID", "t", "variable_name"], keep="first", maintain_order=True)
    order = rng.permutation(data.height)
    return data[order], pl.DataFrame({"ID": ids})


def write_fiddle_csv(out_dir: str | Path, **kwargs: object) -> tuple[Path, Path]:
    """Write data.csv and pop.csv (time-invariant t written as NULL, as in FIDDLE's examples)."""
    data, pop = generate_fiddle_table(**kwargs)  # type: ignore[arg-type]
    out = Path(out_dir)
    paths = out / "data.csv", out / "pop.csv"
    with atomic_file(paths[0]) as fh:
        data.write_csv(fh, null_value="NULL")
    with atomic_file(paths[1]) as fh:
        pop.write_csv(fh)
    return paths
