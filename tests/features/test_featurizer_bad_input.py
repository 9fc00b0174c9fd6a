"""Bad FIDDLE input: a clear error (CLI: exit 2, one line, nothing written) or a documented behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from model.errors import DataValidationError
from model.features.cli import main
from model.features.config import FeaturizerConfig
from model.features.featurize import fit_transform
from model.features.fiddle_input import read_fiddle_table, to_batch
from model.features.fiddle_synth import write_fiddle_csv


def _write(tmp: Path, rows: str, pop: str = "ID\n1\n2\n3\n") -> tuple[Path, Path]:
    (tmp / "data.csv").write_text("ID,t,variable_name,variable_value\n" + rows)
    (tmp / "pop.csv").write_text(pop)
    return tmp / "data.csv", tmp / "pop.csv"


def _cli(tmp: Path, data: Path, pop: Path, *extra: str) -> int:
    return main([f"--data_fname={data}", f"--population_fname={pop}", f"--output_dir={tmp / 'out'}", "--T=4",
                 "--dt=1", *extra])


@pytest.mark.parametrize("rows, pop, message", [
    ("1,0.5,HR,70\n", "ID\n1\n1\n", "duplicate population ID"),
    ("1,soon,HR,70\n", "ID\n1\n", "t is not a number"),
    ("1,0.5,,70\n", "ID\n1\n", "missing variable name"),
    ("1,0.5,HR,inf\n", "ID\n1\n", "non-finite number"),
    ("abc,0.5,HR,70\n", "ID\n1\n", "IDs are integers in one file and text in the other"),
    ("1,0.5,HR,70\n", "ID\n", "empty population"),
])
def test_reader_rejects_bad_tables(tmp_path: Path, rows: str, pop: str, message: str) -> None:
    data, popf = _write(tmp_path, rows, pop)
    with pytest.raises(DataValidationError, match=message):
        read_fiddle_table(data, popf)


def test_reader_names_file_row_and_field(tmp_path: Path) -> None:
    data, pop = _write(tmp_path, "1,0.5,HR,70\n2,later,HR,71\n")
    with pytest.raises(DataValidationError) as err:
        read_fiddle_table(data, pop)
    assert err.value.file == str(data) and err.value.row == 1 and err.value.field == "t"
    (tmp_path / "d.csv").write_text("ID,time,variable_name,variable_value\n1,0,HR,70\n")
    with pytest.raises(DataValidationError, match="missing columns"):
        read_fiddle_table(tmp_path / "d.csv", pop)
    with pytest.raises(DataValidationError, match="pickles are never read"):
        read_fiddle_table(tmp_path / "d.p", pop)


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data, pop = _write(tmp_path, "1,0.5,HR,70\n1,0.5,HR,71\n")  # two numbers at one time: FIDDLE refuses too
    assert _cli(tmp_path, data, pop) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "row 0" in err and "one numeric value per (ID, t, variable_name)" in err
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    conf = tmp_path / "c.yaml"
    conf.write_text("value_types:\n  HR: hierarchical_ICD9\n")
    data, pop = _write(tmp_path, "1,0.5,HR,70\n")
    assert _cli(tmp_path, data, pop, f"--config_fname={conf}") == 2
    assert "not supported" in capsys.readouterr().err
    conf.write_text("value_types:\n  DX: Numeric\n")
    data, pop = _write(tmp_path, "1,,DX,flu\n")
    assert _cli(tmp_path, data, pop, f"--config_fname={conf}") == 2
    assert "forced to Numeric" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_documented_behaviours(tmp_path: Path) -> None:
    """Out-of-window rows are dropped; IDs without events get all-missing rows; mixed columns are split."""
    rows = "".join(f"{i},{t},LAB,{v}\n" for i, t, v in
                   [(1, 0.5, 1.0), (1, 1.5, 2.0), (2, 0.5, 3.0), (2, 2.5, "<0.5"), (1, 9.0, 99.0), (2, -1, 42.0)])
    rows += "1,,SEX,F\n2,,SEX,M\n"
    data, pop = _write(tmp_path, rows)
    batch, ids, _ = to_batch(*read_fiddle_table(data, pop))
    fitted, tables = fit_transform(batch, FeaturizerConfig(T=4, dt=1, theta_freq=10))
    names = fitted.tables["X"].all_names
    # quintile edges of {1, 2, 3}: 1, 1.4, 1.8, 2.2, 2.6, 3; only bins holding a value become features
    assert names == ["LAB_value_(0.999, 1.4]", "LAB_value_(1.8, 2.2]", "LAB_value_(2.6, 3.0]", "LAB_value_<0.5"]
    x = tables["X_all"].toarray().reshape(3, 4, -1)
    assert x[2].sum() == 0                                   # ID 3 has no events
    assert x[0, 0].tolist() == [1, 0, 0, 0] and x[0, 1].tolist() == [0, 1, 0, 0]
    assert x[1, 0].tolist() == [0, 0, 1, 0] and x[1, 2].tolist() == [0, 0, 0, 1]
    assert x.sum() == 4
    assert fitted.structure.nonfrequent == ("LAB",)          # the 99 at t=9 and the 42 at t=-1 never counted
    assert fitted.tables["S"].all_names == ["SEX_value_F", "SEX_value_M"]
    assert tables["S_all"].toarray().tolist() == [[1, 0], [0, 1], [0, 0]]


def test_fiddle_benchmark_table_runs(tmp_path: Path) -> None:
    data, pop = write_fiddle_csv(tmp_path, n_ids=30, T=4.0)
    assert _cli(tmp_path, data, pop) == 0
    names = json.loads((tmp_path / "out" / "X.feature_names.json").read_text())
    assert "VITAL_00_mask" in names and any(n.startswith("MIXED_0_value_<0.5") for n in names)
    ids = pl.read_csv(tmp_path / "out" / "IDs.csv")["ID"].to_list()
    assert ids == sorted(ids) and len(ids) == 30
    with np.load(tmp_path / "out" / "X.npz", allow_pickle=False) as z:
        assert tuple(z["shape"]) == (30, 4, len(names)) and z["coords"].shape[0] == 3
