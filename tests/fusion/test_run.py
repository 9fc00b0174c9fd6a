"""Train → early stop → checkpoint → reload → held-out metrics beside the oracle, on the small cohort."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from model.embed.store import check_samples, write_embeddings
from model.errors import DataValidationError
from model.fusion.checkpoint import load_checkpoint
from model.fusion.config import RunConfig, TrainConfig
from model.fusion.data import drop_dense, load_task
from model.fusion.run import main, train_and_evaluate
from model.fusion.trainer import predict


@pytest.fixture(scope="module")
def emb_dir(small_labels, tmp_path_factory):
    """A synthetic 8-d 'cxr' embedding folder in the contract format, present for about a third of samples."""
    s = pl.read_parquet(small_labels / "samples" / "phenotypes.parquet")
    keys = check_samples(s)
    rng = np.random.default_rng(0)
    present = rng.random(keys.height) < 0.35
    out = tmp_path_factory.mktemp("emb") / "cxr"
    write_embeddings(out, keys, present, rng.normal(size=(keys.height, 8)).astype(np.float32), {"modality": "cxr"})
    return out


@pytest.mark.parametrize("task,loss", [("phenotypes", "uncertainty"), ("mortality", "bce")])
def test_train_evaluate_checkpoint_roundtrip(small_cohort, small_labels, emb_dir, tmp_path, task, loss,
                                             tiny_model_cfg):
    model_cfg = dataclasses.replace(tiny_model_cfg, dense=())
    cfg = RunConfig(meds_dir=str(small_cohort), labels_dir=str(small_labels), task=task,
                    embeddings=(("cxr", str(emb_dir)),) if task == "phenotypes" else (), out_dir=str(tmp_path / "r"),
                    model=model_cfg, train=TrainConfig(loss=loss, max_epochs=3, patience=1, batch_size=32))
    data, _ = load_task(cfg)
    assert data.y.shape[1] == (25 if task == "phenotypes" else 1)
    res = train_and_evaluate(data, cfg, n_boot=50)
    tr = res.metrics["training"]
    assert 1 <= tr["best_epoch"] <= 3 and len(tr["history"]) <= tr["best_epoch"] + 1  # patience 1
    assert "oracle" in res.metrics and res.p.shape == res.y.shape
    files = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert files == ["metrics.json", "model.json", "model.safetensors", "predictions.parquet"]
    model, info = load_checkpoint(tmp_path / "r")
    assert info["label_names"] == data.label_names
    np.testing.assert_allclose(predict(model, data.split_of("held_out")), res.p, rtol=1e-5, atol=1e-6)
    json.loads((tmp_path / "r" / "metrics.json").read_text())  # strict JSON


def test_drop_dense_masks_presence_and_vectors(small_cohort, small_labels, emb_dir):
    cfg = RunConfig(meds_dir=str(small_cohort), labels_dir=str(small_labels), task="phenotypes",
                    embeddings=(("cxr", str(emb_dir)),))
    data, _ = load_task(cfg)
    dropped = drop_dense(data, 0.5, seed=0)
    assert dropped.presence[:, 1].sum() < data.presence[:, 1].sum()
    assert np.all(dropped.dense["cxr"][~dropped.presence[:, 1]] == 0) and dropped.presence[:, 0].all()


def test_cli_bad_input_exits_2(small_cohort, tmp_path, capsys):
    assert main([str(small_cohort), str(tmp_path / "nolabels"), str(tmp_path / "out")]) == 2
    assert "samples file missing" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_wrong_embedding_folder_is_named(small_cohort, small_labels, tmp_path):
    keys = check_samples(pl.DataFrame({"subject_id": [1], "anchor_time": [datetime(2000, 1, 1)],
                                       "prediction_time": [datetime(2000, 1, 2)]}))
    write_embeddings(tmp_path / "e", keys, np.array([True]), np.ones((1, 4), np.float32), {})
    cfg = RunConfig(meds_dir=str(small_cohort), labels_dir=str(small_labels),
                    embeddings=(("cxr", str(tmp_path / "e")),))
    with pytest.raises(DataValidationError, match="no sample of this task"):
        load_task(cfg)
