"""Fixtures for the data-layer tests: a tiny, hand-written, valid multimodal MEDS cohort, copied fresh per test.

The cohort: 4 subjects in 2 shards (data/0.parquet: 101, 102; data/1.parquet: 103, 104), ICU_ADMISSION//MICU
anchors, LAB//220045//bpm heart rates, a NOTE//Nursing text event, one PNG and one DICOM chest X-ray referenced
through image_path, metadata/dataset.json declaring image_path, codes.parquet, subject_splits.parquet and an oracle/
folder like the synthetic generator writes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

EVENT_SCHEMA = pa.schema(
    [
        ("subject_id", pa.int64()),
        ("time", pa.timestamp("us")),
        ("code", pa.string()),
        ("numeric_value", pa.float32()),
        ("text_value", pa.large_string()),
        ("image_path", pa.string()),
        ("stay_id", pa.int64()),
    ]
)
SHARDS = {"data/0.parquet": (101, 102), "data/1.parquet": (103, 104)}
IMAGES = {101: "images/101/9001_0.png", 103: "images/103/9003_0.dcm"}
SPLITS = {101: "train", 102: "train", 103: "tuning", 104: "held_out"}


def subject_events(sid: int) -> list[dict]:
    """The events of one subject, sorted by time with the static row first."""
    t0 = datetime(2150, 1, 1) + timedelta(days=sid)
    stay = 9000 + sid - 100
    rows = [
        dict(time=None, code="GENDER//F" if sid % 2 else "GENDER//M"),
        dict(time=datetime(2090, 1, 1), code="MEDS_BIRTH"),
        dict(time=t0, code="HOSPITAL_ADMISSION//EMERGENCY//EMERGENCY ROOM"),
        dict(time=t0 + timedelta(hours=1), code="ICU_ADMISSION//MICU", stay_id=stay),
        dict(time=t0 + timedelta(hours=2), code="LAB//220045//bpm", numeric_value=80.0 + sid % 7, stay_id=stay),
        dict(time=t0 + timedelta(hours=3), code="LAB//220045//bpm", numeric_value=95.5, stay_id=stay),
        dict(time=t0 + timedelta(hours=4), code="NOTE//Nursing", text_value="Pt resting, no distress.", stay_id=stay),
    ]
    if sid in IMAGES:
        rows.append(dict(time=t0 + timedelta(hours=5), code="CXR//AP", image_path=IMAGES[sid], stay_id=stay))
    rows += [
        dict(time=t0 + timedelta(hours=30), code="ICU_DISCHARGE//MICU", stay_id=stay),
        dict(time=t0 + timedelta(hours=40), code="HOSPITAL_DISCHARGE//HOME"),
    ]
    return [{"subject_id": sid, **r} for r in rows]


def events_table(subjects: tuple[int, ...]) -> pa.Table:
    """A canonical MEDS event table for the given subjects."""
    rows = [r for sid in subjects for r in subject_events(sid)]
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def write_png(path: Path) -> None:
    """A small 8-bit grayscale PNG."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.arange(32 * 32) % 256).astype(np.uint8).reshape(32, 32)).save(path)


def write_dicom(path: Path) -> None:
    """A real CR chest radiograph header (pydicom-data RG1_UNCR) with its pixels downsampled to 66x62."""
    import pydicom
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("RG1_UNCR.dcm"))
    small = np.ascontiguousarray(ds.pixel_array[::30, ::30])
    ds.PixelData = small.tobytes()
    ds.Rows, ds.Columns = small.shape
    ds.PatientName, ds.PatientID = "Anonymous", "0"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def build_cohort(root: Path) -> Path:
    """Write the valid cohort under root and return root."""
    for rel, subjects in SHARDS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(events_table(subjects), root / rel)
    write_png(root / IMAGES[101])
    write_dicom(root / IMAGES[103])
    meta = root / "metadata"
    meta.mkdir(parents=True, exist_ok=True)
    dataset = {
        "dataset_name": "tiny-icu",
        "dataset_version": "0.0.1",
        "etl_name": "tests.data.conftest",
        "meds_version": "0.4.1",
        "created_at": "2026-01-01T00:00:00",
        "additional_value_modality_columns": ["image_path"],
        "raw_source_id_columns": ["stay_id"],
    }
    (meta / "dataset.json").write_text(json.dumps(dataset, indent=2))
    codes = sorted({r["code"] for s in SPLITS for r in subject_events(s)})
    pq.write_table(
        pa.table(
            {"code": codes, "description": [None] * len(codes), "parent_codes": [None] * len(codes)},
            schema=pa.schema(
                [("code", pa.string()), ("description", pa.string()), ("parent_codes", pa.list_(pa.string()))]
            ),
        ),
        meta / "codes.parquet",
    )
    pq.write_table(
        pa.table({"subject_id": pa.array(list(SPLITS), pa.int64()), "split": list(SPLITS.values())}),
        meta / "subject_splits.parquet",
    )
    (root / "oracle").mkdir()
    pq.write_table(
        pa.table({"stay_id": [9001, 9002, 9003, 9004], "p_mortality": [0.1, 0.2, 0.3, 0.4]}),
        root / "oracle" / "stays.parquet",
    )
    return root


@pytest.fixture(scope="session")
def _base_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cohort(tmp_path_factory.mktemp("base") / "cohort")


@pytest.fixture
def make_cohort(_base_cohort: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Factory: each call returns a fresh, valid copy of the cohort that the test may mutate."""

    def make(name: str = "cohort") -> Path:
        return Path(shutil.copytree(_base_cohort, tmp_path / name))

    return make
