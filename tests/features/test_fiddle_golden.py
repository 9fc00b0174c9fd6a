"""Golden tests: the drop-in command reproduces FIDDLE's own outputs on FIDDLE's small test."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from model.features.cli import main
from model.features.sparse_io import fiddle_coo_to_dense, load_fiddle_coo

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "fiddle_small"
pytestmark = pytest.mark.skipif(not FIXTURE.is_dir(), reason="../shared/fixtures/fiddle_small not beside the repo")


def _reference(path: Path, n_key_cols: int) -> tuple[list[str], np.ndarray]:
    with path.open() as fh:
        rows = list(csv.reader(fh))
    return rows[0][n_key_cols:], np.array([[float(v) for v in r[n_key_cols:]] for r in rows[1:]])


def _run(out: Path, config: str, *extra: str) -> None:
    inp = FIXTURE / "input"
    code = main([f"--data_fname={inp / 'data.csv'}", f"--population_fname={inp / 'pop.csv'}",
                 f"--config_fname={inp / config if not Path(config).is_absolute() else config}",
                 f"--output_dir={out}", "--T=4", "--dt=1.0", "--theta_1=0.001", "--theta_2=0.001",
                 "--theta_freq=1", "--stats_functions", "min", "max", "mean", *extra])
    assert code == 0


def _check(out: Path, table: str, ref: Path, n_key_cols: int) -> None:
    names, values = _reference(ref, n_key_cols)
    assert json.loads((out / f"{table}.feature_names.json").read_text()) == names
    dense = fiddle_coo_to_dense(out / f"{table}.npz")
    assert dense.reshape(-1, dense.shape[-1]).shape == values.shape
    np.testing.assert_allclose(dense.reshape(-1, dense.shape[-1]), values, rtol=1e-12, atol=0)


def test_config1_not_discretized_matches_reference(tmp_path: Path) -> None:
    """FIDDLE's reference-1 was made with --no_prefilter --no_postfilter: compare S_all and X_all."""
    _run(tmp_path / "o", "config-1.yaml", "--no_prefilter", "--no_postfilter")
    _check(tmp_path / "o", "S_all", FIXTURE / "reference-1" / "df_S.csv", 1)
    _check(tmp_path / "o", "X_all", FIXTURE / "reference-1" / "df_X.csv", 2)
    assert not (tmp_path / "o" / "X.npz").exists()  # FIDDLE writes no filtered output without the post-filter
    coords, data, shape = load_fiddle_coo(tmp_path / "o" / "X_all.npz")
    assert shape == (4, 4, 12) and data.dtype == np.float64 and coords.shape[0] == 3


def test_config2_discretized_matches_reference(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _run(out, "config-2.yaml")
    _check(out, "S", FIXTURE / "reference-2-discretized" / "S.csv", 1)
    _check(out, "X", FIXTURE / "reference-2-discretized" / "X.csv", 2)
    assert load_fiddle_coo(out / "X.npz")[1].dtype == np.int64
    # 29 features before the post-filter, 15 correlated ones dropped, as in fiddle_run.log
    assert len(json.loads((out / "X_all.feature_names.json").read_text())) == 29
    assert len(json.loads((out / "S_all.feature_names.json").read_text())) == 8
    aliases = json.loads((out / "S.feature_aliases.json").read_text())
    assert aliases["AGE_value_(38.6, 42.0]"] == ["ROOM_value__103", "SEX_value_F"]
    # bin edges as FIDDLE saved them (FIDDLE ran an older numpy: last-ulp differences allowed)
    for ours, theirs in (("X_all", "X_all"), ("S_all", "s_all")):
        got = json.loads((out / f"{ours}.discretization.json").read_text())
        want = json.loads((FIXTURE / "input" / f"{theirs}.discretization.json").read_text())
        assert list(got) == list(want)
        for k, v in want.items():
            assert (got[k] is None) == (v is None)
            if v is not None:
                np.testing.assert_allclose(got[k], v, rtol=1e-14)


def test_given_bins_reproduce_reference(tmp_path: Path) -> None:
    """FIDDLE's config can carry precomputed bins; with the bins FIDDLE saved, the output is unchanged."""
    inp = FIXTURE / "input"
    conf = tmp_path / "config-bins.yaml"
    conf.write_text(f"discretize: yes\nS_discretization_bins: '{inp / 's_all.discretization.json'}'\n"
                    f"X_discretization_bins: '{inp / 'X_all.discretization.json'}'\n"
                    "value_types:\n  ROOM: Categorical\n")
    _run(tmp_path / "o", str(conf))
    _check(tmp_path / "o", "X", FIXTURE / "reference-2-discretized" / "X.csv", 2)
    _check(tmp_path / "o", "S", FIXTURE / "reference-2-discretized" / "S.csv", 1)
