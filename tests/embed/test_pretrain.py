"""Pretraining uses train-split images only and saves safetensors + JSON that load back to the same outputs."""

from __future__ import annotations

import json

import polars as pl
import torch

from model.embed.config import ImagePreprocessConfig, PretrainConfig
from model.embed.cxr_encoder import CONFIG_FILE, WEIGHTS_FILE, load_encoder
from model.embed.pretrain import finding_table, pretrain_cxr_encoder

TINY = ImagePreprocessConfig(size=32)


def test_pretrain_train_split_only_and_roundtrip(small_cohort, tmp_path, monkeypatch):
    import model.embed.pretrain as pre

    seen: list[set[str]] = []
    real = pre.load_split

    def spy(meds_dir, df, findings, cfg):
        seen.append(set(df["split"].to_list()))
        return real(meds_dir, df, findings, cfg)

    monkeypatch.setattr(pre, "load_split", spy)
    df, findings = finding_table(small_cohort)
    assert len(findings) == 14
    cfg = PretrainConfig(preprocess=TINY, epochs=1, batch_size=8, max_train_images=16)
    summary = pretrain_cxr_encoder(small_cohort, tmp_path / "enc", cfg)
    assert seen == [{"train"}, {"tuning"}]  # fitting sees train images only; tuning only scores
    assert summary["n_train_images"] == 16
    assert summary["n_tuning_images"] == df.filter(pl.col("split") == "tuning").height
    files = sorted(p.name for p in (tmp_path / "enc").iterdir())
    assert files == sorted([CONFIG_FILE, WEIGHTS_FILE])  # no pickle anywhere
    cfg_json = json.loads((tmp_path / "enc" / CONFIG_FILE).read_text())
    assert cfg_json["findings"] == findings and cfg_json["preprocess"]["size"] == 32
    model, _ = load_encoder(tmp_path / "enc")
    x = torch.rand(2, 1, 32, 32)
    with torch.inference_mode():
        a, b = model(x), load_encoder(tmp_path / "enc")[0](x)
    torch.testing.assert_close(a, b)


def test_pretrain_is_reproducible_with_two_threads(small_cohort, tmp_path, monkeypatch):
    """Same data, config and seed give bit-identical weights (DVC's cache relies on it), multithreaded too: the
    training steps run with deterministic kernels (some multithreaded CPU backward kernels are not)."""
    from safetensors.torch import load_file

    import model.embed.pretrain as pre

    flags: list[bool] = []
    real_forward = pre.CxrEncoder.forward

    def spy(self, x):
        if self.training:
            flags.append(torch.are_deterministic_algorithms_enabled())
        return real_forward(self, x)

    monkeypatch.setattr(pre.CxrEncoder, "forward", spy)
    cfg = PretrainConfig(preprocess=TINY, epochs=1, batch_size=32, max_train_images=96, threads=2)
    runs = [pretrain_cxr_encoder(small_cohort, tmp_path / f"enc{i}", cfg) for i in range(2)]
    a, b = (load_file(str(tmp_path / f"enc{i}" / WEIGHTS_FILE)) for i in range(2))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert runs[0]["tuning_macro_auroc"] == runs[1]["tuning_macro_auroc"]
    # The whole folder is equal, not just the weights: a timing in encoder.json would change DVC's output hash.
    assert all("seconds" in r for r in runs)
    assert "seconds" not in json.loads((tmp_path / "enc0" / CONFIG_FILE).read_text())["summary"]
    assert (tmp_path / "enc0" / CONFIG_FILE).read_bytes() == (tmp_path / "enc1" / CONFIG_FILE).read_bytes()
    assert flags and all(flags)
    assert not torch.are_deterministic_algorithms_enabled()  # the global flag is left as found
