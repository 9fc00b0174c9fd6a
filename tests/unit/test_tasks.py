"""Task labels (ACES configs), diagnosis/phenotype labels and patient-level splits."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from model.data.labeling import label_dataset
from model.data.splits import assign_splits
from model.data.tasks import TaskCodes, extract_binary, extract_cohort_48h
from model.errors import DataValidationError

T0 = datetime(2150, 1, 1, 8, 0)


def _ev(sid: int, hours: float | None, code: str) -> dict:
    return {"subject_id": sid, "time": None if hours is None else T0 + timedelta(hours=hours), "code": code,
            "numeric_value": None}


def _write(root: Path, rows: list[dict]) -> list[Path]:
    (root / "data").mkdir(parents=True)
    df = pl.DataFrame(rows, schema={"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.Utf8,
                                    "numeric_value": pl.Float32}).sort("subject_id", "time", nulls_last=False)
    df.write_parquet(root / "data" / "0.parquet")
    return [root / "data" / "0.parquet"]


def _hand_cohort(anchor: str = "ICU_ADMISSION//MICU", end: str = "ICU_DISCHARGE//MICU") -> list[dict]:
    return [
        # 1: stays 72 h, PEEP at 20 h, dies in hospital at 100 h with CHF diagnosed -> mortality, ARF; no shock.
        _ev(1, None, "GENDER//F"), _ev(1, -2, "HOSPITAL_ADMISSION//EW EMER.//EMERGENCY ROOM"), _ev(1, 0, anchor),
        _ev(1, 20, "LAB//220339//cmH2O"), _ev(1, 72, end), _ev(1, 100, "HOSPITAL_DISCHARGE//DIED"),
        _ev(1, 100, "MEDS_DEATH"), _ev(1, 100, "DIAGNOSIS//ICD//9//42833"), _ev(1, 100, "DIAGNOSIS//ICD//10//N179"),
        # 2: 30 h stay (no mortality sample), ventilated at 5 h (excluded from ARF), pressor at 15 h -> shock.
        _ev(2, 0, anchor), _ev(2, 5, "PROCEDURE//START//225792"), _ev(2, 15, "INFUSION_START//221906"),
        _ev(2, 30, end), _ev(2, 40, "HOSPITAL_DISCHARGE//HOME"), _ev(2, 40, "DIAGNOSIS//ICD//9//51881"),
        # 3: dies at 10 h in the ICU: in no task.
        _ev(3, 0, anchor), _ev(3, 10, end), _ev(3, 10, "HOSPITAL_DISCHARGE//DIED"), _ev(3, 10, "MEDS_DEATH"),
        # 4: two admissions; the first one's diagnosis must not label the second.
        _ev(4, 0, anchor), _ev(4, 60, end), _ev(4, 70, "HOSPITAL_DISCHARGE//HOME"),
        _ev(4, 70, "DIAGNOSIS//ICD//9//4019"),
        _ev(4, 500, anchor), _ev(4, 560, end), _ev(4, 600, "HOSPITAL_DISCHARGE//HOME"),
        _ev(4, 600, "DIAGNOSIS//ICD//9//49121"),
    ]


def test_binary_labels_on_a_hand_built_dataset(tmp_path):
    shards = _write(tmp_path, _hand_cohort())
    mort = extract_binary("mortality", shards)
    assert dict(zip(mort["subject_id"], mort["boolean_value"])) == {1: True, 4: False}
    assert (mort["prediction_time"] - mort["anchor_time"]).dt.total_hours().unique().to_list() == [48]
    arf = extract_binary("arf", shards)
    assert sorted(zip(arf["subject_id"], arf["boolean_value"])) == [(1, True), (4, False), (4, False)]
    shock = extract_binary("shock", shards)
    assert dict(zip(shock["subject_id"], shock["boolean_value"]))[2] is True
    assert 3 not in shock["subject_id"].to_list()


def test_anchor_code_is_a_parameter(tmp_path):
    shards = _write(tmp_path, _hand_cohort(anchor="ADMISSION//CARDIAC", end="DISCHARGE"))
    codes = TaskCodes(anchor="ADMISSION", anchor_end="DISCHARGE")
    mort = extract_binary("mortality", shards, codes)
    assert sorted(mort["subject_id"].to_list()) == [1, 4, 4]  # subject 4 has two stays of 60 h
    assert extract_binary("mortality", shards).is_empty()  # default ICU_ADMISSION finds nothing


def test_diagnoses_and_phenotypes_come_from_the_samples_own_admission(tmp_path):
    _write(tmp_path / "ds", _hand_cohort())
    label_dataset(tmp_path / "ds", tmp_path / "out", tasks=("diagnoses", "phenotypes"))
    d = pl.read_parquet(tmp_path / "out" / "samples" / "diagnoses.parquet").sort("anchor_time")
    by = {(r["subject_id"], r["anchor_time"].hour): r["categorical_value"] for r in d.iter_rows(named=True)}
    assert by[(1, 8)] == "10:N17|9:428"
    s4 = d.filter(pl.col("subject_id") == 4)["categorical_value"].to_list()
    assert s4 == ["9:401", "9:491"]
    ph = pl.read_parquet(tmp_path / "out" / "samples" / "phenotypes.parquet")
    one = ph.filter(pl.col("subject_id") == 1).row(0, named=True)
    assert one["congestive_heart_failure_nonhypertensive"] and one["acute_and_unspecified_renal_failure"]
    assert not one["shock"]


def test_no_label_event_inside_a_feature_window(small_cohort, small_labels):
    """Diagnoses are stamped at discharge: after every diagnosis sample's prediction time; ARF/shock cohorts have
    no onset before the prediction time."""
    ev = pl.read_parquet(small_cohort / "data" / "*.parquet")
    samples = pl.read_parquet(small_labels / "samples" / "diagnoses.parquet")
    diag = ev.filter(pl.col("code").str.starts_with("DIAGNOSIS//"))
    j = samples.join(diag, on="subject_id").filter(pl.col("time") > pl.col("anchor_time"))
    first = j.group_by("subject_id", "anchor_time").agg(pl.col("time").min(), pl.col("prediction_time").first())
    assert (first["time"] > first["prediction_time"]).all()
    arf = pl.read_parquet(small_labels / "samples" / "arf.parquet")
    onset = ev.filter(pl.col("code").str.contains(r"^(PROCEDURE//START//22579[24]|LAB//220339//)"))
    inside = arf.join(onset, on="subject_id").filter(
        (pl.col("time") >= pl.col("anchor_time")) & (pl.col("time") <= pl.col("prediction_time")))
    assert inside.is_empty()


def test_splits_are_patient_level_and_persisted(small_cohort, small_labels):
    splits = pl.read_parquet(small_labels / "splits.parquet")
    assert splits["subject_id"].is_unique().all()
    assert set(splits["split"]) == {"train", "tuning", "held_out"}
    meta = pl.read_parquet(small_cohort / "metadata" / "subject_splits.parquet")
    assert splits.sort("subject_id").equals(meta.sort("subject_id"))
    for task in ("mortality", "arf", "shock", "diagnoses", "phenotypes"):
        s = pl.read_parquet(small_labels / "samples" / f"{task}.parquet")
        per_subject = s.group_by("subject_id").agg(pl.col("split").n_unique())
        assert (per_subject["split"] == 1).all(), task
        assert s["split"].null_count() == 0


def test_hashed_splits_are_stable_and_proportional():
    ids = np.arange(1, 20001)
    a = assign_splits(ids)
    assert (a == assign_splits(ids[::-1])[::-1]).all()  # order-independent
    shares = {k: np.mean(a == k) for k in ("train", "tuning", "held_out")}
    assert abs(shares["train"] - 0.7) < 0.02 and abs(shares["held_out"] - 0.15) < 0.02
    with pytest.raises(ValueError, match="fractions"):
        assign_splits(ids, (0.5, 0.5, 0.5))


def test_label_files_follow_the_meds_label_schema(small_labels):
    import meds

    for task in ("mortality", "arf", "shock", "diagnoses", "phenotypes"):
        meds.LabelSchema.validate(pq.read_table(small_labels / "labels" / f"{task}.parquet"))


def test_unknown_task_and_empty_task_are_errors(tmp_path, small_cohort):
    with pytest.raises(DataValidationError, match="unknown tasks"):
        label_dataset(small_cohort, tmp_path / "x", tasks=("sepsis",))
    _write(tmp_path / "ds", [_ev(1, 0, "ICU_ADMISSION//MICU"), _ev(1, 5, "ICU_DISCHARGE//MICU")])
    with pytest.raises(DataValidationError, match="no samples"):
        label_dataset(tmp_path / "ds", tmp_path / "y", tasks=("mortality",))
    assert not (tmp_path / "y").exists()


def test_cohort_48h_matches_mortality_samples(small_cohort, small_labels):
    shards = sorted((small_cohort / "data").glob("*.parquet"))
    c = extract_cohort_48h(shards)
    m = pl.read_parquet(small_labels / "samples" / "mortality.parquet")
    assert c.height >= m.height > 0


def test_data_cli_labels_and_rejects_bad_input(tmp_path, small_cohort, capsys):
    from model.data.cli import main

    assert main(["label", str(small_cohort), str(tmp_path / "l"), "--tasks", "mortality"]) == 0
    assert (tmp_path / "l" / "labels" / "mortality.parquet").exists()
    assert main(["label", str(small_cohort), str(tmp_path / "m"), "--tasks", "nope"]) == 2
    assert "unknown tasks" in capsys.readouterr().err and not (tmp_path / "m").exists()
    assert main(["bogus"]) == 2
