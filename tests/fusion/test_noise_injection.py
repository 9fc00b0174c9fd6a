"""Noise injection of the robustness experiments: shares, columns, splits, seeding, purity."""

from __future__ import annotations

import numpy as np
import pytest

from model.fusion.data import FusionData
from model.fusion.noise import PixelNoise, TSNoise, noise_hours, noise_pixels, noise_stays, with_ts_noise


def _ts(n: int = 200, t: int = 48, f: int = 10) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, t, f)).astype(np.float32)


def test_noise_stays_exact_share_only_eligible_only_continuous_columns():
    ts = _ts()
    eligible = np.arange(len(ts)) < 100
    out, chosen = noise_stays(ts, 4, 0.5, 1.0, seed=3, eligible=eligible)
    assert chosen.sum() == 50 and not chosen[~eligible].any()
    changed = (out != ts).any(axis=(1, 2))
    np.testing.assert_array_equal(changed, chosen)
    np.testing.assert_array_equal(out[..., 4:], ts[..., 4:])  # masks/one-hots untouched
    assert np.std(out[chosen, :, :4] - ts[chosen, :, :4]) == pytest.approx(1.0, abs=0.05)
    assert out.dtype == ts.dtype and np.array_equal(ts, _ts())  # pure: the input is unchanged


def test_noise_hours_share_and_seed():
    ts = _ts()
    out, rows = noise_hours(ts, 4, 0.6, 1.0, seed=5)
    assert rows.mean() == pytest.approx(0.6, abs=0.02)
    np.testing.assert_array_equal((out != ts).any(-1), rows)
    out2, rows2 = noise_hours(ts, 4, 0.6, 1.0, seed=5)
    np.testing.assert_array_equal(out, out2)
    assert not np.array_equal(noise_hours(ts, 4, 0.6, 1.0, seed=6)[0], out)


def test_noise_pixels_share_std_and_edge_cases():
    img = np.full((64, 64), 0.5, dtype=np.float32)
    out = noise_pixels(img, 0.6, 0.25, seed=1)
    hit = out != img
    assert hit.mean() == pytest.approx(0.6, abs=0.03)
    assert np.std(out[hit] - 0.5) == pytest.approx(0.25, abs=0.02)
    np.testing.assert_array_equal(noise_pixels(img, 0.0, 1.0, seed=1), img)
    with pytest.raises(ValueError, match="share"):
        noise_pixels(img, 1.5, 1.0, seed=1)


def test_with_ts_noise_respects_splits():
    ts = _ts(6, 5, 3)
    split = np.array(["train", "train", "tuning", "held_out", "train", "held_out"])
    data = FusionData(ts=ts, dense={}, presence=np.ones((6, 1), bool), y=np.zeros((6, 1), np.float32), oracle=None,
                      split=split, subject_id=np.arange(6), label_names=["y"])
    noisy = with_ts_noise(data, TSNoise("hours", 0.6, splits=("train",)), n_cont=2)
    assert np.array_equal(noisy.ts[split != "train"], ts[split != "train"])
    assert not np.array_equal(noisy.ts[split == "train"], ts[split == "train"])
    both = with_ts_noise(data, TSNoise("stays", 1.0, splits=("train", "held_out")), n_cont=2)
    assert (both.ts[split != "tuning"] != ts[split != "tuning"]).any(axis=(1, 2)).all()


def test_pixel_noise_hook_is_deterministic_per_row():
    hook = PixelNoise(share=0.6, std=0.25, seed=1)
    img = np.full((16, 16), 0.5, dtype=np.float32)
    np.testing.assert_array_equal(hook(img, 3), hook(img, 3))
    assert not np.array_equal(hook(img, 3), hook(img, 4))
    assert repr(hook) == "PixelNoise(share=0.6, std=0.25, seed=1)"  # recorded in meta.json


def test_encode_images_applies_the_pixel_hook(tmp_path):
    import cv2
    import torch

    from model.embed.config import ImageEncoderConfig, ImagePreprocessConfig
    from model.embed.images import encode_images

    class MeanEncoder(torch.nn.Module):
        def features(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean((1, 2, 3))[:, None].expand(-1, 512)

    paths = []
    for k in range(3):
        paths.append(tmp_path / f"{k}.png")
        cv2.imwrite(str(paths[-1]), np.full((32, 32), 40 * (k + 1), dtype=np.uint8))
    cfg = ImageEncoderConfig(weights_dir="unused", preprocess=ImagePreprocessConfig(size=16, clahe=False),
                             batch_size=2, progress=False)
    clean, _ = encode_images(MeanEncoder(), paths, cfg)
    seen: list[int] = []
    shifted, _ = encode_images(MeanEncoder(), paths, cfg, hook=lambda a, i: seen.append(i) or a + 1.0)
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(shifted, clean + 1.0, rtol=1e-6)
