"""X-ray embeddings: the latest chest X-ray inside each sample's feature window, through the frozen encoder.

An image that cannot be read raises DataValidationError naming the file (default). With
`on_unreadable='missing'` that sample is marked absent instead and the count and file names go to meta.json:
never silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
from tqdm.auto import tqdm

from model.embed.config import ImageEncoderConfig, ImagePreprocessConfig, OnUnreadable
from model.embed.cxr_encoder import FEATURE_DIM, CxrEncoder, load_encoder
from model.embed.preprocess import load_preprocessed
from model.embed.store import check_samples, latest_per_row, window_events, write_embeddings
from model.errors import DataValidationError

log = logging.getLogger(__name__)
CXR_PREFIX = "CXR//"
# (preprocessed image [H, W] in [0, 1], sample row) → image: the robustness experiments' pixel-noise hook.
PixelHook = Callable[[np.ndarray, int], np.ndarray]


def check_preprocess(cfg: ImagePreprocessConfig, trained: dict[str, Any], weights_dir: str) -> None:
    """Embedding with other pixels than the encoder was trained on silently degrades it: refuse instead."""
    if asdict(cfg) != trained:
        raise DataValidationError(f"preprocess settings {asdict(cfg)} differ from the encoder's {trained}",
                                  file=str(Path(weights_dir) / "encoder.json"), field="preprocess")


def latest_images(meds_dir: str | Path, keys: pl.DataFrame, views: tuple[str, ...] | None
                  ) -> tuple[np.ndarray, list[str]]:
    """Sample rows (`check_samples` keys) with an X-ray in [anchor_time, prediction_time] and each one's latest
    image path, relative to `meds_dir`; `views` (the part after CXR//) restricts the views, None keeps all."""
    ev = window_events(Path(meds_dir), keys, CXR_PREFIX, "image_path")
    if views is not None:
        ev = ev.filter(pl.col("code").str.strip_prefix(CXR_PREFIX).is_in(list(views)))
    latest = latest_per_row(ev)
    return latest["_row"].to_numpy(), latest["image_path"].to_list()


def load_images(paths: list[Path], preprocess: ImagePreprocessConfig, on_unreadable: OnUnreadable,
                hook: PixelHook | None = None, which: range | None = None
                ) -> tuple[list[int], list[np.ndarray], list[int]]:
    """Read and preprocess `paths[i]` for i in `which` (default all) → (positions read, images [H, W], positions
    unreadable). An unreadable file raises unless on_unreadable='missing'; `hook(image, i)` alters each image."""
    pos, arrs, failed = [], [], []
    for i in range(len(paths)) if which is None else which:
        try:
            arr = load_preprocessed(paths[i], preprocess)
        except DataValidationError:
            if on_unreadable == "error":
                raise
            failed.append(i)
            continue
        arrs.append(arr if hook is None else hook(arr, i))
        pos.append(i)
    return pos, arrs, failed


@torch.inference_mode()
def encode_images(model: CxrEncoder, paths: list[Path], cfg: ImageEncoderConfig,
                  hook: Callable[[np.ndarray, int], np.ndarray] | None = None) -> tuple[np.ndarray, list[int]]:
    """Encode files in batches → (float32 [len(paths), 512], positions of unreadable files when allowed).

    `hook(image, position)` may alter each preprocessed image before encoding (noise experiments)."""
    out = np.zeros((len(paths), FEATURE_DIM), dtype=np.float32)
    failed: list[int] = []
    bs = cfg.batch_size
    for start in tqdm(range(0, len(paths), bs), desc="images", unit="batch",
                      disable=not cfg.progress or len(paths) <= bs):
        pos, arrs, bad = load_images(paths, cfg.preprocess, cfg.on_unreadable, hook,
                                     range(start, min(start + bs, len(paths))))
        failed += bad
        if arrs:
            out[pos] = model.features(torch.from_numpy(np.stack(arrs)[:, None])).numpy()
    return out, failed


def embed_images(meds_dir: str | Path, samples: pl.DataFrame, out_dir: str | Path, cfg: ImageEncoderConfig,
                 *, model: CxrEncoder | None = None, pixel_hook: PixelHook | None = None) -> dict[str, Any]:
    """Embed each sample's latest X-ray in [anchor_time, prediction_time]; write the index/vectors/meta contract.

    Args:
        meds_dir: MEDS cohort root; image paths in events are relative to it.
        samples: Task samples (subject_id, anchor_time, prediction_time); output rows keep their order.
        out_dir: Output folder (replaced whole on success).
        cfg: Encoder settings (weights folder, preprocessing, on_unreadable policy).
        model: An already loaded encoder (tests); loaded from cfg.weights_dir when None.
        pixel_hook: Alters each preprocessed image before encoding, given its sample row (noise experiments);
            recorded in meta.json as `pixel_hook` (its repr) so noisy vectors are never mistaken for clean ones.

    Returns:
        The meta dict written to meta.json.

    Raises:
        DataValidationError: Bad samples, encoder files, or an unreadable image under on_unreadable='error'.
    """
    meds_dir = Path(meds_dir)
    keys = check_samples(samples)
    enc_cfg: dict[str, Any] = {}
    if model is None:
        model, enc_cfg = load_encoder(cfg.weights_dir)
        check_preprocess(cfg.preprocess, enc_cfg["preprocess"], cfg.weights_dir)
    model.eval()
    rows, rel_paths = latest_images(meds_dir, keys, cfg.views)
    hook = None if pixel_hook is None else (lambda a, i: pixel_hook(a, int(rows[i])))
    vecs, failed = encode_images(model, [meds_dir / p for p in rel_paths], cfg, hook)
    present = np.zeros(keys.height, dtype=bool)
    present[rows] = True
    present[rows[failed]] = False
    vectors = np.zeros((keys.height, FEATURE_DIM), dtype=np.float32)
    vectors[rows] = vecs
    meta = {"modality": "cxr", "model_id": f"cxr-resnet34@{Path(cfg.weights_dir).name}",
            "preprocess": asdict(cfg.preprocess), "views": list(cfg.views) if cfg.views else None,
            "on_unreadable": cfg.on_unreadable, "n_unreadable": len(failed),
            "unreadable_files": sorted({rel_paths[i] for i in failed}), "encoder_summary": enc_cfg.get("summary"),
            "pixel_hook": None if pixel_hook is None else repr(pixel_hook)}
    meta = write_embeddings(out_dir, keys, present, vectors, meta)
    if failed:
        log.warning("images: %d unreadable files marked missing (listed in meta.json)", len(failed))
    log.info("images: %d samples, %d with an X-ray", meta["n"], meta["n_present"])
    return meta
