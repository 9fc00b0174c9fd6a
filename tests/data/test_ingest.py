"""Ingestion: canonical shards, copied metadata/images/folders, a manifest with hashes, atomic output, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.data.ingest import ingest, main
from model.data.validate import validate_meds
from model.errors import DataValidationError
from model.io_atomic import sha256_file

REPO = Path(__file__).resolve().parents[2]
FIDDLE = Path("/work/shared/fixtures/fiddle_small/input")
FIDDLE_ROWS = (FIDDLE / "data.csv").read_text().splitlines()[1:]
N_VARIABLES = len({line.split(",")[2] for line in FIDDLE_ROWS})
CANONICAL = pa.schema(
    [
        ("subject_id", pa.int64()),
        ("time", pa.timestamp("us")),
        ("code", pa.string()),
        ("numeric_value", pa.float32()),
        ("text_value", pa.large_string()),
    ]
)


def test_ingest_writes_canonical_copy_and_manifest(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    src = make_cohort("cohort")
    # Variations that ingestion must normalise: float64 values, int32 ids, ns times, a shard without text_value.
    t0 = pq.read_table(src / "data/0.parquet")
    t0 = t0.set_column(3, "numeric_value", t0["numeric_value"].cast(pa.float64()))
    t0 = t0.set_column(0, "subject_id", t0["subject_id"].cast(pa.int32()))
    pq.write_table(t0.set_column(1, "time", t0["time"].cast(pa.timestamp("ns"))), src / "data/0.parquet")
    pq.write_table(pq.read_table(src / "data/1.parquet").drop_columns(["text_value"]), src / "data/1.parquet")

    out = tmp_path / "ingested"
    manifest = ingest(src, out)
    for rel in ("data/0.parquet", "data/1.parquet"):
        schema = pq.read_schema(out / rel)
        assert schema.names[:5] == CANONICAL.names and list(schema.types)[:5] == list(CANONICAL.types)
        assert schema.field("image_path").type == pa.string() and "stay_id" in schema.names
    df = pl.read_parquet(out / "data/0.parquet")
    assert df["numeric_value"].drop_nulls().to_list()[:2] == [83.0, 95.5]
    assert pl.read_parquet(out / "data/1.parquet")["text_value"].null_count() == 19

    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["counts"] == manifest["counts"] and manifest["counts"]["n_events"] == 38
    assert manifest["validation"]["n_subjects"] == 4 and manifest["format"] == "meds"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    assert all(sha256_file(out / rel) == digest for rel, digest in manifest["files"].items())
    assert {
        "images/101/9001_0.png",
        "images/103/9003_0.dcm",
        "oracle/stays.parquet",
        "metadata/codes.parquet",
        "metadata/subject_splits.parquet",
        "metadata/dataset.json",
    } <= files
    # Images are hard-linked, not duplicated, when source and output share a filesystem.
    assert os.path.samefile(out / "images/101/9001_0.png", src / "images/101/9001_0.png")
    # The output is itself a valid cohort.
    assert validate_meds(out).n_events == 38


def test_ingest_builds_codes_metadata_when_absent(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    src = make_cohort("cohort")
    (src / "metadata/codes.parquet").unlink()
    manifest = ingest(src, tmp_path / "out")
    codes = pq.read_table(tmp_path / "out/metadata/codes.parquet")
    assert manifest["codes_parquet_built"] is True
    assert codes.num_rows == 10 and codes["description"].null_count == 10
    assert codes.schema.field("parent_codes").type == pa.list_(pa.string())


def test_ingest_is_idempotent(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    once = ingest(make_cohort("cohort"), tmp_path / "once")
    twice = ingest(tmp_path / "once", tmp_path / "twice")
    assert once["files"] == twice["files"]


def test_existing_output_needs_overwrite(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    src, out = make_cohort("cohort"), tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(FileExistsError):
        ingest(src, out)
    assert (out / "keep.txt").read_text() == "old"
    ingest(src, out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "manifest.json").exists()


def test_failed_overwrite_keeps_the_old_output(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    src, out = make_cohort("cohort"), tmp_path / "out"
    ingest(src, out)
    before = sha256_file(out / "manifest.json")
    (src / "images/101/9001_0.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataValidationError):
        ingest(src, out, overwrite=True)
    assert sha256_file(out / "manifest.json") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort", "out"]


def test_output_inside_source_is_refused(make_cohort: Callable[[str], Path]) -> None:
    src = make_cohort("cohort")
    with pytest.raises(DataValidationError, match="overlap"):
        ingest(src, src / "ingested")
    assert not (src / "ingested").exists()


def test_unknown_format_is_refused(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="unknown format 'omop'"):
        ingest(make_cohort("cohort"), tmp_path / "out", fmt="omop")
    assert not (tmp_path / "out").exists()


def test_cli_validate_and_ingest(
    make_cohort: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_cohort("cohort")
    assert main(["validate", str(src), "--no-image-check", "--require", "arf=^LAB//220045//"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_events"] == 38 and report["images_decoded"] is False
    assert main(["validate", str(src), "--require", "arf=PROCEDURE//START//22579[24]"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "task 'arf'" in err
    assert main(["ingest", str(src), str(tmp_path / "out"), "--anchor-code", "ICU_ADMISSION"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["n_subjects"] == 4


def test_cli_module_runs_in_subprocess(make_cohort: Callable[[str], Path], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "model.data.ingest", "ingest", str(make_cohort("cohort")), str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counts"]["n_events"] == 38
    assert (tmp_path / "out/manifest.json").is_file()


def test_fiddle_needs_population(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as info:
        ingest(FIDDLE / "data.csv", tmp_path / "out", fmt="fiddle")
    assert info.value.field == "population"
    assert not (tmp_path / "out").exists()


def test_fiddle_path_with_a_stand_in_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest side of the fiddle format, independent of the real reader (pandas output, as FIDDLE uses)."""
    import pandas as pd

    def read_fiddle_table(data_path: Path, population_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        return pd.read_csv(data_path, dtype={"variable_value": str}), pd.read_csv(population_path)

    fake = types.ModuleType("model.features.fiddle_input")
    fake.read_fiddle_table = read_fiddle_table  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "model.features.fiddle_input", fake)
    manifest = ingest(f"file://{FIDDLE / 'data.csv'}", tmp_path / "out", fmt="fiddle", population=FIDDLE / "pop.csv")
    assert manifest["counts"] == {"n_rows": len(FIDDLE_ROWS), "n_population": 4, "n_ids": 4, "n_variables": N_VARIABLES}
    assert sorted(manifest["files"]) == ["data.parquet", "population.parquet"]
    assert all(sha256_file(tmp_path / "out" / f) == h for f, h in manifest["files"].items())
    assert pl.read_parquet(tmp_path / "out/population.parquet")["ID"].to_list() == [3, 4, 1, 2]


def test_fiddle_ingest_writes_tables_and_manifest(tmp_path: Path) -> None:
    pytest.importorskip("model.features.fiddle_input", reason="model.features.fiddle_input is not written yet")
    manifest = ingest(FIDDLE / "data.csv", tmp_path / "out", fmt="fiddle", population=FIDDLE / "pop.csv")
    assert {"data.parquet", "population.parquet"} == set(manifest["files"])
    assert manifest["counts"]["n_population"] == 4
    assert pl.read_parquet(tmp_path / "out/population.parquet").height == 4
    assert pl.read_parquet(tmp_path / "out/data.parquet").height == manifest["counts"]["n_rows"] > 0


def test_fiddle_bad_file_writes_nothing(tmp_path: Path) -> None:
    pytest.importorskip("model.features.fiddle_input", reason="model.features.fiddle_input is not written yet")
    bad = tmp_path / "bad.csv"
    shutil.copy(FIDDLE / "data.csv", bad)
    bad.write_text("ID,t,variable_name\n1,0,HR\n")
    with pytest.raises(DataValidationError):
        ingest(bad, tmp_path / "out", fmt="fiddle", population=FIDDLE / "pop.csv")
    assert not (tmp_path / "out").exists()
