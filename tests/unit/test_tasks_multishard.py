"""Binary task labels must not depend on how many shards come before a subject's shard.

es-aces 0.7.3 `query` mutates the config it is given (extract_subtree does `endpoint_expr.offset +=
subtree_root_offset` in place), so reusing one TaskExtractorConfig across shards pushed the start of the
to-event target window (`start -> discharge_or_death`) 48 h further out per shard (12 h for ARF/shock): a
hospital discharge inside that gap was skipped and the window ran on to a later stay's death.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from model.data.tasks import extract_binary

T0 = datetime(2150, 1, 1, 8, 0)
SCHEMA = {"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.Utf8, "numeric_value": pl.Float32}


def _ev(sid: int, hours: float, code: str) -> dict:
    return {"subject_id": sid, "time": T0 + timedelta(hours=hours), "code": code, "numeric_value": None}


def _subject(sid: int) -> list[dict]:
    """Stay 1: ICU 0-60 h, discharged home alive at 70 h. Stay 2 a year later: dies in hospital."""
    y = 24 * 365
    return [
        _ev(sid, -2, "HOSPITAL_ADMISSION//EW EMER.//EMERGENCY ROOM"), _ev(sid, 0, "ICU_ADMISSION//MICU"),
        _ev(sid, 60, "ICU_DISCHARGE//MICU"), _ev(sid, 70, "HOSPITAL_DISCHARGE//HOME"),
        _ev(sid, y - 2, "HOSPITAL_ADMISSION//EW EMER.//EMERGENCY ROOM"), _ev(sid, y, "ICU_ADMISSION//MICU"),
        _ev(sid, y + 60, "ICU_DISCHARGE//MICU"), _ev(sid, y + 80, "HOSPITAL_DISCHARGE//DIED"),
        _ev(sid, y + 80, "MEDS_DEATH"),
    ]


def _shards(root: Path, n: int) -> list[Path]:
    (root / "data").mkdir(parents=True)
    paths = []
    for k in range(n):
        p = root / "data" / f"{k}.parquet"
        pl.DataFrame(_subject(100 + k), schema=SCHEMA).sort("subject_id", "time").write_parquet(p)
        paths.append(p)
    return paths


def test_mortality_labels_are_the_same_in_every_shard(tmp_path):
    mort = extract_binary("mortality", _shards(tmp_path, 3)).sort("subject_id", "anchor_time")
    assert mort.height == 6
    # Every subject: first stay survived (discharged home at 70 h), second stay died.
    assert mort["boolean_value"].to_list() == [False, True] * 3


def test_arf_labels_are_the_same_in_every_shard(tmp_path):
    rows_per_shard = []
    for k, shard in enumerate(_shards(tmp_path, 3)):
        extra = _ev(100 + k, 14, "LAB//220339//cmH2O")  # PEEP at 14 h: ARF onset after the 12 h prediction time
        df = pl.concat([pl.read_parquet(shard), pl.DataFrame([extra], schema=SCHEMA)]).sort("subject_id", "time")
        df.write_parquet(shard)
        rows_per_shard.append(shard)
    arf = extract_binary("arf", rows_per_shard).sort("subject_id", "anchor_time")
    assert arf.height == 6
    assert arf["boolean_value"].to_list() == [True, False] * 3
