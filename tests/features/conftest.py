"""Small hand-built MEDS cohorts for the featurizer tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

T0 = dt.datetime(2110, 1, 1)
SCHEMA = {"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.String, "numeric_value": pl.Float32,
          "text_value": pl.String}


def at(hours: float) -> dt.datetime:
    """A timestamp `hours` after the test epoch."""
    return T0 + dt.timedelta(hours=hours)


def events_frame(rows: list[tuple]) -> pl.DataFrame:
    """MEDS rows from (subject_id, hours or None, code, numeric_value, text_value) tuples, sorted as MEDS wants."""
    df = pl.DataFrame([(s, None if h is None else at(h), c, v, x) for s, h, c, v, x in rows], schema=SCHEMA,
                      orient="row")
    return df.sort(["subject_id", "time"], nulls_last=False, maintain_order=True)


def random_subject(rng: np.random.Generator, sid: int, extreme: bool = False) -> tuple[list[tuple], tuple]:
    """One subject with one ICU stay at a random hour; returns its rows and its sample (anchor, prediction)."""
    a = float(rng.integers(0, 500))
    rows: list[tuple] = [(sid, None, f"GENDER//{rng.choice(['F', 'M'])}", None, None),
                         (sid, a - 24 * 365 * float(rng.integers(20, 90)), "MEDS_BIRTH", None, None),
                         (sid, a - 3, f"HOSPITAL_ADMISSION//{rng.choice(['EW', 'URGENT'])}//ER", None, None),
                         (sid, a, f"ICU_ADMISSION//{rng.choice(['MICU', 'SICU'])}", None, None)]
    scale = 100.0 if extreme else 1.0
    for h in np.sort(rng.uniform(-2, 14, int(rng.integers(8, 20)))):
        rows.append((sid, a + h, "LAB//220045//bpm", float(np.round(rng.normal(85, 12) * scale)), None))
    for h in np.sort(rng.uniform(0, 12, int(rng.integers(0, 4)))):
        rows.append((sid, a + h, "LAB//50912//mg/dL", float(np.round(rng.lognormal(0, 0.4), 2)), None))
    for h in rng.uniform(0, 12, int(rng.integers(1, 4))):
        rows.append((sid, a + h, "LAB//223900//UNK", None, str(rng.choice(["Oriented", "Confused", "No Response"]))))
    if rng.random() < 0.6:
        s = float(rng.uniform(-3, 10))
        rows.append((sid, a + s, "INFUSION_START//221906", float(np.round(rng.uniform(0.05, 0.3), 2)), None))
        if rng.random() < 0.7:
            rows.append((sid, a + s + float(rng.uniform(0.5, 6)), "INFUSION_END//221906", 5.0, None))
    if rng.random() < 0.5:
        s = float(rng.uniform(0, 10))
        rows.append((sid, a + s, "PROCEDURE//START//225792", None, None))
        rows.append((sid, a + s + 4, "PROCEDURE//END//225792", None, None))
    rows.append((sid, a + 5, "NOTE//Nursing", None, "patient resting"))
    rows.append((sid, a + 30, "DIAGNOSIS//ICD//10//I50", None, None))
    if rng.random() < 0.2:
        rows.append((sid, a + 11, "MEDS_DEATH", None, None))
    return rows, (sid, at(a), at(a + 12))


def write_cohort(root: Path, n_subjects: int, seed: int = 0, n_shards: int = 2,
                 extreme_from: int | None = None) -> pl.DataFrame:
    """Write data/<k>.parquet shards (subjects split contiguously) and return the samples frame.

    Subjects with index >= extreme_from get heart rates 100x larger (to make leakage visible).
    """
    rng = np.random.default_rng(seed)
    all_rows, samples = [], []
    for i in range(n_subjects):
        rows, smp = random_subject(rng, 100 + i, extreme=extreme_from is not None and i >= extreme_from)
        all_rows.append(rows)
        samples.append(smp)
    (root / "data").mkdir(parents=True)
    for k, part in enumerate(np.array_split(np.arange(n_subjects), n_shards)):
        events_frame([r for i in part for r in all_rows[i]]).write_parquet(root / "data" / f"{k}.parquet")
    return pl.DataFrame(samples, schema={"subject_id": pl.Int64, "anchor_time": pl.Datetime("us"),
                                         "prediction_time": pl.Datetime("us")}, orient="row")


@pytest.fixture
def cohort(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    """40 subjects in 2 shards, T = 12 h windows."""
    root = tmp_path / "meds"
    return root, write_cohort(root, 40)


@pytest.fixture
def make_cohort():  # noqa: ANN201 - returns the builder function
    """The `write_cohort` builder."""
    return write_cohort


@pytest.fixture
def meds():  # noqa: ANN201 - returns helpers
    """Helpers to hand-build MEDS rows: (events_frame, at)."""
    return events_frame, at
