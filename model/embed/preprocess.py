"""Pixel pipeline shared by pretraining and embedding: to 8-bit → CLAHE → resize → float in [0, 1].

CLAHE is a fixed preprocessing step (the paper applies it offline to every image of every split), not an
augmentation; `ImagePreprocessConfig.clahe=False` exists only for the ablation.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from model.embed.config import ImagePreprocessConfig
from model.embed.dicom import read_image


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """Min-max scale to 0..255; a constant image becomes all zeros (no division by zero)."""
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return np.zeros(arr.shape, dtype=np.uint8)
    return np.round((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def preprocess_array(arr: np.ndarray, cfg: ImagePreprocessConfig) -> np.ndarray:
    """Decoded image → float32 [size, size] in [0, 1].

    CLAHE runs at the native resolution before resizing so its 8×8 tiles cover the same anatomy as in the paper.
    """
    img = to_uint8(arr)
    if cfg.clahe:
        clahe = cv2.createCLAHE(clipLimit=cfg.clip_limit, tileGridSize=(cfg.tile_grid, cfg.tile_grid))
        img = clahe.apply(img)
    # INTER_AREA averages when shrinking (no aliasing of rib edges); cubic when enlarging.
    interp = cv2.INTER_AREA if min(img.shape) >= cfg.size else cv2.INTER_CUBIC
    img = cv2.resize(img, (cfg.size, cfg.size), interpolation=interp)
    return img.astype(np.float32) / 255.0


def load_preprocessed(path: str | Path, cfg: ImagePreprocessConfig) -> np.ndarray:
    """Read and preprocess one file; raises DataValidationError naming the file when it cannot be read."""
    return preprocess_array(read_image(path), cfg)
