"""MEDS events -> long table: the code split rules, windows and interval expansion on hand-built frames."""

from __future__ import annotations

import polars as pl
import pytest

from model.errors import DataValidationError
from model.features.code_rules import DEFAULT_RULES, CodeRule, table_of
from model.features.meds_adapter import meds_to_long


def _samples(at, rows: list[tuple[int, float]], T: float = 4.0) -> pl.DataFrame:  # noqa: ANN001
    return pl.DataFrame({"id": list(range(len(rows))), "subject_id": [s for s, _ in rows],
                         "anchor_time": [at(a) for _, a in rows], "prediction_time": [at(a + T) for _, a in rows]},
                        schema={"id": pl.UInt32, "subject_id": pl.Int64, "anchor_time": pl.Datetime("us"),
                                "prediction_time": pl.Datetime("us")})


def test_rules_split_static_point_interval_and_drop(meds) -> None:  # noqa: ANN001
    events_frame, at = meds
    ev = events_frame([
        (1, None, "GENDER//F", None, None),
        (1, -24 * 365.25 * 40, "MEDS_BIRTH", None, None),
        (1, -2, "HOSPITAL_ADMISSION//EW EMER.//EMERGENCY ROOM", None, None),
        (1, -1, "RACE//WHITE", None, None),
        (1, 0, "ICU_ADMISSION//MICU", None, None),
        (1, 0.5, "LAB//220045//bpm", 80.0, None),
        (1, 1.2, "LAB//223900//UNK", None, "Confused"),
        (1, 1.3, "SUBJECT_FLUID_OUTPUT//226559//ml", 120.0, None),
        (1, 2.0, "NOTE//Nursing", None, "text"),
        (1, 2.5, "CXR//AP", None, None),
        (1, 3.0, "MEDS_DEATH", None, None),
        (1, 3.5, "SOMETHING//ELSE", 1.0, None),
        (1, 5.0, "RACE//BLACK", None, None),          # after prediction time: not known yet
        (1, 5.0, "LAB//220045//bpm", 99.0, None),     # after prediction time
        (1, 30.0, "DIAGNOSIS//ICD//10//I50", None, None),
    ])
    long, rep = meds_to_long(ev, _samples(at, [(1, 0.0)]), T=4.0, dt=1.0)
    static = {r["var"]: (r["raw"], r["num"]) for r in long.filter(pl.col("t").is_null()).iter_rows(named=True)}
    assert static["GENDER"] == ("F", None)
    assert static["RACE"] == ("WHITE", None)
    assert static["HOSPITAL_ADMISSION"] == ("EW EMER.//EMERGENCY ROOM", None)
    assert static["ICU_ADMISSION"] == ("MICU", None)
    assert static["AGE"][1] == pytest.approx(40.0, abs=1e-6)
    timed = long.filter(pl.col("t").is_not_null()).sort("t")
    assert timed["var"].to_list() == ["LAB//220045//bpm", "LAB//223900//UNK", "SUBJECT_FLUID_OUTPUT//226559//ml"]
    assert timed["t"].to_list() == pytest.approx([0.5, 1.2, 1.3])
    assert timed["raw"].to_list() == [None, "Confused", None]
    assert timed["num"].to_list() == [80.0, None, 120.0]
    assert not long["var"].str.contains("NOTE|CXR|DIAGNOSIS|MEDS_DEATH|SOMETHING").any()
    assert rep.dropped_by_rule == 4 and rep.unmatched_code == 1


def test_interval_events_fill_every_overlapped_bin(meds) -> None:  # noqa: ANN001
    events_frame, at = meds
    ev = events_frame([
        (1, -1.5, "INFUSION_START//221906", 0.1, None),   # started before the anchor, ends in bin 1
        (1, 1.2, "INFUSION_END//221906", 3.0, None),
        (1, 0.7, "INFUSION_START//221289", 0.2, None),    # overlaps the next one in bin 2: rates add up
        (1, 2.1, "INFUSION_END//221289", 1.0, None),
        (1, 2.5, "INFUSION_START//221289", 0.3, None),    # never ends: runs to the prediction time
        (1, 3.2, "PROCEDURE//START//225792", None, None),
        (1, 3.9, "PROCEDURE//END//225792", None, None),
        (1, 9.0, "INFUSION_START//225158", 100.0, None),  # starts after the prediction time
    ])
    long, _ = meds_to_long(ev, _samples(at, [(1, 0.0)]), T=4.0, dt=1.0)
    got = {(r["var"], r["t"]): r["num"] for r in long.iter_rows(named=True)}
    assert got == {
        ("INFUSION//221906", 0.5): pytest.approx(0.1), ("INFUSION//221906", 1.5): pytest.approx(0.1),
        ("INFUSION//221289", 0.5): pytest.approx(0.2), ("INFUSION//221289", 1.5): pytest.approx(0.2),
        ("INFUSION//221289", 2.5): pytest.approx(0.5), ("INFUSION//221289", 3.5): pytest.approx(0.3),
        ("PROCEDURE//225792", 3.5): 1.0,
    }
    assert table_of("INFUSION//221289") == "M" and table_of("LAB//220045//bpm") == "E"


def test_each_sample_gets_its_own_window(meds) -> None:  # noqa: ANN001
    events_frame, at = meds
    ev = events_frame([(7, h, "LAB//220045//bpm", float(60 + h), None) for h in (0.5, 1.5, 10.5, 11.5, 13.0)])
    long, _ = meds_to_long(ev, _samples(at, [(7, 0.0), (7, 10.0)], T=2.0), T=2.0, dt=1.0)
    by_id = {i: sorted(g["num"].to_list()) for (i,), g in long.group_by("id")}
    assert by_id == {0: [60.5, 61.5], 1: [70.5, 71.5]}


def test_unsorted_shard_is_ordered_before_use(meds) -> None:  # noqa: ANN001
    events_frame, at = meds
    ev = events_frame([(1, 0.2, "LAB//1//x", 1.0, None), (1, 0.4, "LAB//1//x", 2.0, None)]).reverse()
    long, _ = meds_to_long(ev, _samples(at, [(1, 0.0)]), T=1.0, dt=1.0)
    assert long.sort("ord")["num"].to_list() == [1.0, 2.0]


def test_rules_are_data() -> None:
    custom = (CodeRule("VITAL//", "point"), *DEFAULT_RULES)
    assert custom[0].kind == "point"
    with pytest.raises(DataValidationError, match="unknown rule kind"):
        CodeRule("X//", "sometimes")
    with pytest.raises(DataValidationError, match="needs a variable name"):
        CodeRule("DRIP_START//", "interval_start")
