"""Library functions under the components: typed params, step guards, the CLI for DVC, the evaluation report and
the monitoring reference profile."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from model.errors import DataValidationError
from model.metrics import curves, evaluate_binary
from model.report import reliability_bins, write_report
from monitoring.reference_profile import build_reference_profile
from pipelines import cli, steps, steps_model
from pipelines.params import load_params


def test_params_file_is_valid_and_typos_are_named(tmp_path):
    p = load_params()
    assert p.generate.n_stays == 2000 and p.label.tasks == ("mortality", "arf") and p.search.order == "first"
    bad = tmp_path / "params.yaml"
    bad.write_text("search:\n  epochz: 3\n")
    with pytest.raises(DataValidationError, match=r"params.yaml: field 'search.epochz'"):
        load_params(bad)
    bad.write_text("label:\n  tasks: [mortality, flu]\n")
    with pytest.raises(DataValidationError, match="flu"):
        load_params(bad)


def test_cli_bad_input_exit_2_and_no_output(tmp_path, capsys):
    out = tmp_path / "f"
    assert cli.main(["featurize", "--out", str(out), "--dataset", "x", "--labels", str(tmp_path), "--task",
                     "mortality"]) == 2
    assert "samples/mortality.parquet" in capsys.readouterr().err and not out.exists()
    assert cli.main(["label", "--out", str(out)]) == 2
    assert "needs --dataset" in capsys.readouterr().err


def test_search_settings_are_validated_before_anything_runs():
    with pytest.raises(DataValidationError, match="search_order"):
        steps_model.search_config(epochs=1, order="third", diversity_lambda=0.1, seed=0)
    with pytest.raises(DataValidationError, match="epochs"):
        steps_model.search_config(epochs=0, order="first", diversity_lambda=0.1, seed=0)


def test_search_config_maps_pipeline_parameters_and_checks_overrides():
    cfg = steps_model.search_config(epochs=3, order="second", diversity_lambda=0.5, seed=4, overrides={"d_e": 32.0})
    assert isinstance(cfg.d_e, int)  # KFP hands struct numbers over as floats
    assert (cfg.epochs, cfg.order, cfg.penalty_weight, cfg.seed, cfg.d_e) == (3, "second", 0.5, 4, 32)
    with pytest.raises(DataValidationError, match="search_overrides.*pipeline parameters of their own"):
        steps_model.search_config(epochs=1, order="first", diversity_lambda=0.1, seed=0, overrides={"epochs": 9})
    with pytest.raises(DataValidationError, match="field 'search_overrides'.*bogus"):
        steps_model.search_config(epochs=1, order="first", diversity_lambda=0.1, seed=0, overrides={"bogus": 1})


def test_missing_task_runner_is_a_clear_error(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named '{name}'", name=name)

    monkeypatch.setattr(steps_model.importlib, "import_module", missing)
    with pytest.raises(steps_model.StepUnavailableError, match="model.search.task_runner is not in this checkout"):
        steps_model.search_config(epochs=1, order="first", diversity_lambda=0.1, seed=0)


def test_report_html_and_markdown(tmp_path):
    r = np.random.default_rng(0)
    y = r.random(400) < 0.25
    s = np.clip(0.5 * y + 0.5 * r.random(400), 0, 1)
    m = evaluate_binary(y, s, groups={"sex": r.choice(["F", "M"], 400)}, n_boot=50)
    out = write_report(tmp_path / "rep", "mortality", m, curves(y, s), y_true=y, y_score=s,
                       oracle={"oracle_auroc": 0.81, "oracle_aupr": 0.5}, extra={"genotype": "abc"})
    html = (tmp_path / "rep" / "report.html").read_text()
    assert out["plots"] == ["ROC", "PR", "Calibration"] and html.count("<svg") == 3
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    md = (tmp_path / "rep" / "report.md").read_text()
    assert f"{m['auroc']:.3f}" in md and "| sex | F |" in md and "0.810" in md
    with pytest.raises(ValueError, match="field 'auroc' missing"):
        write_report(tmp_path / "bad", "x", {"aupr": 0.1}, {})
    assert not (tmp_path / "bad").exists()


def test_reliability_bins_match_a_calibrated_score():
    r = np.random.default_rng(1)
    p = r.random(20000)
    y = r.random(20000) < p
    b = reliability_bins(y, p)
    assert len(b["n"]) == 10 and sum(b["n"]) == 20000
    assert np.allclose(b["predicted"], b["observed"], atol=0.03)


def test_reference_profile(small_cohort, small_labels, tmp_path):
    stats = build_reference_profile(small_cohort, small_labels / "samples" / "mortality.parquet", tmp_path / "p")
    prof = pl.read_parquet(tmp_path / "p" / "profile.parquet")
    samples = pl.read_parquet(small_labels / "samples" / "mortality.parquet")
    assert prof.height == samples.height == stats["n_samples"]
    assert stats["n_reference"] == samples.filter(pl.col("split") == "train").height
    assert stats["presence_rate"]["labs"] > 0.9 and 0.05 < stats["presence_rate"]["images"] < 0.9
    assert (prof["has_notes"] == (prof["n_notes"] > 0)).all()
    assert 18 <= stats["columns"]["age_years"]["p50"] <= 100
    assert json.loads((tmp_path / "p" / "stats.json").read_text())["format"] == "autofm-reference-profile"
    bad = tmp_path / "bad.parquet"
    samples.drop("split").write_parquet(bad)
    with pytest.raises(DataValidationError, match="field 'split'"):
        build_reference_profile(small_cohort, bad, tmp_path / "q")
    assert not (tmp_path / "q").exists()


def test_dir_digest_and_samples_path(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("1")
    d1 = steps.dir_digest(tmp_path / "a")
    (tmp_path / "a" / "x").write_text("2")
    assert steps.dir_digest(tmp_path / "a") != d1
    with pytest.raises(DataValidationError, match="no samples for task 'arf'"):
        steps.samples_path(tmp_path, "arf")
