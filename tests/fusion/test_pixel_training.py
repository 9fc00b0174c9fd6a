"""End-to-end training from X-ray pixels: the trunk is fine-tuned, absent X-rays never matter, outputs written."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from model.embed.config import ImagePreprocessConfig
from model.embed.cxr_encoder import CxrEncoder, save_encoder
from model.errors import DataValidationError
from model.fusion.checkpoint import load_checkpoint
from model.fusion.config import PixelConfig, RunConfig, TrainConfig
from model.fusion.data import load_task
from model.fusion.run import train_and_evaluate
from model.fusion.trainer import predict

PRE = ImagePreprocessConfig(size=32)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    torch.manual_seed(1)
    out = tmp_path_factory.mktemp("enc") / "cxr"
    save_encoder(CxrEncoder(14), out, findings=[f"f{i}" for i in range(14)], preprocess=PRE, summary={})
    return out


def _cfg(cohort, labels, out, px: PixelConfig, model) -> RunConfig:
    return RunConfig(meds_dir=str(cohort), labels_dir=str(labels), task="mortality", cxr_pixels=px, out_dir=str(out),
                     model=dataclasses.replace(model, dense=()),
                     train=TrainConfig(max_epochs=1, patience=1, batch_size=32, threads=1))


def _trunk(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    enc = next(m for m in model.modules() if isinstance(m, CxrEncoder))
    return {k: v.clone() for k, v in enc.trunk.state_dict().items() if v.is_floating_point()}


def test_train_from_pixels_fine_tunes_the_trunk(small_cohort, small_labels, encoder_dir, tmp_path, tiny_model_cfg):
    cfg = _cfg(small_cohort, small_labels, tmp_path / "r", PixelConfig(preprocess=PRE, encoder_dir=str(encoder_dir)),
               tiny_model_cfg)
    data, _ = load_task(cfg)
    px, present = data.dense["cxr"], data.presence[:, 1]
    assert px.shape == (len(data.y), 1, 32, 32) and px.dtype == np.float32
    assert 0 < present.sum() < len(present)
    assert not px[~present].any() and px[present].reshape(present.sum(), -1).max(1).min() > 0

    res = train_and_evaluate(data, cfg, n_boot=20)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "metrics.json", "model.json", "model.safetensors", "predictions.parquet"]
    assert res.p.shape == res.y.shape and np.isfinite(res.p).all()

    model, info = load_checkpoint(tmp_path / "r")
    assert info["model_config"]["image_input"] == "pixels"
    tuned = _trunk(model)
    from model.embed.cxr_encoder import load_encoder

    start = _trunk(load_encoder(encoder_dir)[0])
    torch.manual_seed(99)
    fresh = _trunk(CxrEncoder(14))
    w = "conv1.weight"
    assert not torch.equal(tuned[w], start[w])  # fine-tuned...
    assert (tuned[w] - start[w]).norm() < (fresh[w] - start[w]).norm()  # ...from the pretrained weights

    test = data.split_of("held_out")
    absent = ~test.presence[:, 1]
    assert absent.any() and (~absent).any()
    noisy = np.random.default_rng(0).random(test.dense["cxr"].shape, dtype=np.float32)
    p_clean = predict(model, test)
    p_noisy = predict(model, dataclasses.replace(test, dense={"cxr": noisy}))
    np.testing.assert_allclose(p_noisy[absent], p_clean[absent], rtol=1e-5, atol=1e-6)
    assert not np.allclose(p_noisy[~absent], p_clean[~absent])  # present X-rays do feed the model


def test_unreadable_image_errors_or_is_marked_missing(small_cohort, small_labels, monkeypatch, tiny_model_cfg):
    import model.embed.preprocess as pre

    real, seen = pre.read_image, []

    def flaky(path):
        seen.append(path)
        if len(seen) == 1:
            raise DataValidationError("unreadable image (test)", file=str(path))
        return real(path)

    monkeypatch.setattr(pre, "read_image", flaky)
    cfg = _cfg(small_cohort, small_labels, "unused", PixelConfig(preprocess=PRE), tiny_model_cfg)
    with pytest.raises(DataValidationError, match="unreadable image"):
        load_task(cfg)
    seen.clear()
    lenient = dataclasses.replace(cfg, cxr_pixels=PixelConfig(preprocess=PRE, on_unreadable="missing"))
    data, _ = load_task(lenient)
    assert data.presence[:, 1].sum() == len(seen) - 1


def test_pixels_and_cxr_embedding_together_are_refused(small_cohort, small_labels):
    with pytest.raises(ValueError, match="both"):
        RunConfig(meds_dir=str(small_cohort), labels_dir=str(small_labels), cxr_pixels=PixelConfig(),
                  embeddings=(("cxr", "x"),))
