"""The local main job end to end on a small cohort: outputs, summary, reuse of finished steps, failure safety."""

from __future__ import annotations

import json

import pytest

from model.data.synthetic_config import CohortConfig
from pipelines import run_local


@pytest.mark.slow
def test_main_job_end_to_end_and_resume(tmp_path, capsys, monkeypatch):
    run_dir = tmp_path / "run"
    cfg = CohortConfig(n_stays=500, seed=11, image_size=48)
    summary = run_local.run(run_dir, cfg)
    for step in ("cohort", "ingested", "labels", "features"):
        assert (run_dir / step).is_dir() and (run_dir / f"{step}.step.json").exists()
    tasks = summary["labels"]["tasks"]
    assert set(tasks) == {"mortality", "arf", "shock", "diagnoses", "phenotypes"}
    for task in ("mortality", "arf", "shock"):
        allm = tasks[task]["all"]
        assert allm["n"] > 100 and 0.03 < allm["prevalence"] < 0.4
        assert 0.7 < allm["oracle_auroc"] < 0.99  # informative but not deterministic outcomes
    assert json.loads((run_dir / "summary.json").read_text())["labels"]["tasks"].keys() == tasks.keys()
    feats = summary["features"]["mortality"]
    assert feats["n_samples"] == tasks["mortality"]["all"]["n"] and feats["n_features"]["E"] > 50
    text = run_local.format_summary(summary)
    assert "mortality" in text and "oracle AUROC" in text

    # A rerun reuses every finished step.
    capsys.readouterr()
    run_local.run(run_dir, cfg)
    out = capsys.readouterr().out
    assert out.count("reused") == 4

    # A failing step leaves earlier artifacts intact and no partial output; the next run resumes there.
    stamp = (run_dir / "cohort.step.json").read_text()
    (run_dir / "labels.step.json").unlink()

    def boom(*a, **k):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(run_local, "label_dataset", boom)
    with pytest.raises(RuntimeError):
        run_local.run(run_dir, cfg)
    assert not (run_dir / "labels").exists()
    assert (run_dir / "ingested").is_dir() and (run_dir / "cohort.step.json").read_text() == stamp
    monkeypatch.undo()
    capsys.readouterr()
    run_local.run(run_dir, cfg)
    out = capsys.readouterr().out
    # Labels are recomputed identically, so the content-addressed features step is reused.
    assert out.count("reused") == 3 and "[labels] done" in out


def test_cli_rejects_bad_parameters(tmp_path, capsys):
    assert run_local.main(["--run-dir", str(tmp_path / "r"), "--n-stays", "0"]) == 2
    assert "n_stays" in capsys.readouterr().err
