"""The main job: the Kubeflow pipeline run locally (kfp.local SubprocessRunner) — progress lines, one run folder,
a failed step leaving earlier artifacts intact, and a rerun reusing them from the step cache."""

from __future__ import annotations

import importlib.util
import io
import json

import pytest

from pipelines import run_local
from pipelines.params import load_params

HAS_RUNNER = importlib.util.find_spec("model.search.task_runner") is not None
DATA_STEPS = ("generate", "ingest", "label", "featurize", "profile", "pretrain-cxr", "embed")


def small_args(**over) -> dict:
    args = run_local.pipeline_arguments(load_params())
    args.update(n_stays=200, tasks=["mortality"], search_epochs=1, eval_n_boot=50, note_max_length=32, image_size=32,
                cxr_pretrain_max_images=32,
                search_overrides={"d_e": 16, "n_layers": 1, "n_nodes": 2, "final_finetune_steps": 20, "eval_every": 10,
                                  "finetune_steps": 1, "candidate_finetune_steps": 0, "baselines": False}, **over)
    return args


def test_cli_rejects_bad_parameters(tmp_path, capsys):
    assert run_local.main(["--run-dir", str(tmp_path / "r"), "--n-stays", "0"]) == 2
    assert "n_stays" in capsys.readouterr().err
    assert run_local.main(["--run-dir", str(tmp_path / "r"), "--tasks", "flu"]) == 2
    assert "flu" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_pipeline_arguments_come_from_params_yaml():
    args = run_local.pipeline_arguments(load_params())
    assert args["tasks"] == ["mortality", "arf"] and args["n_stays"] == 2000 and args["dataset_uri"] == ""


@pytest.mark.slow
def test_failed_step_keeps_earlier_artifacts_rerun_reuses_them_then_completes(tmp_path):
    run_dir = tmp_path / "run"
    echo = io.StringIO()
    with pytest.raises(RuntimeError, match="step 'search' failed") as e:
        run_local.run(run_dir, small_args(search_order="third"), echo=echo)
    assert "full log" in str(e.value)
    lines = echo.getvalue()
    for step in DATA_STEPS:
        assert f"[{step}] done in" in lines, lines
    assert "search_order" in lines  # the step's own error is echoed
    arts = run_dir / "artifacts"
    assert len(list(arts.glob("autofm-*/for-loop-*/featurize/features/manifest.json"))) == 1
    assert len(list(arts.glob("autofm-*/for-loop-*/embed/embeddings/*/vectors.npy"))) == 2  # notes, cxr
    assert len(list(arts.glob("autofm-*/ingest/dataset/manifest.json"))) == 1
    assert not list(arts.glob("autofm-*/for-loop-*/search/supernet/*"))  # no partial artifact of the failed step
    assert list((run_dir / "logs").glob("kfp-*.log")) and list((run_dir / "cache").glob("*.json"))

    echo = io.StringIO()
    with pytest.raises(RuntimeError, match="step 'search' failed"):
        run_local.run(run_dir, small_args(search_order="third"), echo=echo)
    lines = echo.getvalue()
    for step in DATA_STEPS:
        assert f"[{step}] reused (cached)" in lines, lines
    assert lines.count("done in") == 0 and len(list(arts.glob("autofm-*/ingest/dataset/manifest.json"))) == 1
    if not HAS_RUNNER:
        pytest.skip("model.search.task_runner (search/prune/evaluate) is not in this checkout")

    # Fixed parameters: the run resumes after the cached data steps and completes.
    echo = io.StringIO()
    summary = run_local.run(run_dir, small_args(), echo=echo)
    assert "[featurize] reused (cached)" in echo.getvalue() and "[summarize] done in" in echo.getvalue()
    rec = summary["tasks"]["mortality"]
    assert 0.0 <= rec["auroc"] <= 1 and rec["oracle"]["oracle_auroc"] > 0.6 and rec["genotype"]["cells"]
    assert rec["embeddings"] == ["cxr", "notes"]
    assert json.loads((run_dir / "summary.json").read_text())["tasks"].keys() == {"mortality"}
    html = open(rec["report"]).read()
    assert html.count("<svg") == 3  # ROC, PR, calibration
    text = run_local.format_summary(summary)
    assert "mortality" in text and "report mortality:" in text
