"""X-ray pixels for end-to-end training: each sample's latest X-ray in its feature window, preprocessed exactly as
the embedding path does (model.embed.images), and the trunk's optional initialisation from a pretrained encoder."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl
from torch import nn

from model.embed.cxr_encoder import CxrEncoder, load_encoder
from model.embed.images import check_preprocess, latest_images, load_images
from model.embed.store import check_samples
from model.fusion.config import PixelConfig

log = logging.getLogger(__name__)


def load_cxr_pixels(meds_dir: str | Path, samples: pl.DataFrame, cfg: PixelConfig) -> tuple[np.ndarray, np.ndarray]:
    """Pixels float32 [N, 1, H, W] in [0, 1] (zeros where absent) and presence bool [N], in sample order.

    Raises:
        DataValidationError: Bad samples, or an unreadable image under on_unreadable='error' (names the file).
    """
    meds_dir = Path(meds_dir)
    keys = check_samples(samples)
    rows, rel_paths = latest_images(meds_dir, keys, cfg.views)
    pos, arrs, failed = load_images([meds_dir / p for p in rel_paths], cfg.preprocess, cfg.on_unreadable)
    size = cfg.preprocess.size
    pixels = np.zeros((keys.height, 1, size, size), dtype=np.float32)
    present = np.zeros(keys.height, dtype=bool)
    if arrs:
        pixels[rows[pos], 0] = np.stack(arrs)
        present[rows[pos]] = True
    if failed:
        log.warning("pixels: %d unreadable X-ray files marked missing", len(failed))
    log.info("pixels: %d samples, %d with an X-ray (%d px)", keys.height, int(present.sum()), size)
    return pixels, present


def init_trunk(model: nn.Module, cfg: PixelConfig) -> None:
    """Copy a pretrained encoder's trunk (not its finding head) into the model's pixel trunk, in place.

    Raises:
        DataValidationError: Encoder files missing or mismatched, or preprocessing other than the encoder's.
        ValueError: The model has no pixel trunk.
    """
    if cfg.encoder_dir is None:
        return
    trunks = [m for m in model.modules() if isinstance(m, CxrEncoder)]
    if not trunks:
        raise ValueError("the model has no pixel trunk to initialise (needs image_input='pixels')")
    enc, enc_cfg = load_encoder(cfg.encoder_dir)
    check_preprocess(cfg.preprocess, enc_cfg["preprocess"], cfg.encoder_dir)
    trunks[0].trunk.load_state_dict(enc.trunk.state_dict())
