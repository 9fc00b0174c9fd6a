"""Decode chest X-ray files (DICOM, PNG, JPEG) to a 2-D float image where brighter means denser (MONOCHROME2).

DICOM: the modality LUT (rescale) then the VOI LUT or window is applied, so the grey range is the one a
radiologist would see; MONOCHROME1 (white = low values) is inverted. Anything that cannot be decoded raises
DataValidationError naming the file, never a bare pydicom/PIL exception.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.errors import DataValidationError

DICOM_SUFFIXES = {".dcm", ".dicom"}
RASTER_SUFFIXES = {".png", ".jpg", ".jpeg"}


def read_dicom(path: str | Path) -> np.ndarray:
    """Read a single-frame grayscale DICOM as float32 with VOI applied and MONOCHROME1 inverted.

    Raises:
        DataValidationError: Not a readable DICOM, no pixel data, colour or multi-frame image.
    """
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    path = Path(path)
    try:
        ds = pydicom.dcmread(path)
        raw = ds.pixel_array
    except Exception as exc:  # pydicom raises many types (InvalidDicomError, AttributeError, NotImplementedError)
        raise DataValidationError(f"unreadable DICOM ({type(exc).__name__})", file=str(path)) from exc
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric not in ("MONOCHROME1", "MONOCHROME2") or raw.ndim != 2:
        raise DataValidationError(f"unsupported image ({photometric}, shape {raw.shape})", file=str(path),
                                  expected="single-frame MONOCHROME1/2")
    arr = apply_modality_lut(raw, ds).astype(np.float32)
    has_voi = "VOILUTSequence" in ds or ds.get("WindowCenter") is not None
    if has_voi:
        # prefer_lut: a VOI LUT sequence, when present, is the more exact mapping than centre/width.
        arr = apply_voi_lut(arr, ds, index=0, prefer_lut=True).astype(np.float32)
    if photometric == "MONOCHROME1":
        arr = arr.max() + arr.min() - arr
    return arr


def read_raster(path: str | Path) -> np.ndarray:
    """Read a PNG/JPEG as float32 grayscale (colour images are converted with ITU-R 601 luma)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I", "F"):
                return np.asarray(im, dtype=np.float32)
            return np.asarray(im.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataValidationError(f"unreadable image ({type(exc).__name__})", file=str(path)) from exc


def read_image(path: str | Path) -> np.ndarray:
    """Decode any supported X-ray file to float32 [H, W] (brighter = denser).

    Raises:
        DataValidationError: Missing file, unsupported suffix, or undecodable content (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("image file not found", file=str(path))
    suffix = path.suffix.lower()
    if suffix in DICOM_SUFFIXES:
        arr = read_dicom(path)
    elif suffix in RASTER_SUFFIXES:
        arr = read_raster(path)
    else:
        raise DataValidationError(f"unsupported image type {suffix!r}", file=str(path), expected=".dcm/.png/.jpg")
    if arr.ndim != 2 or min(arr.shape) < 8 or not np.isfinite(arr).all():
        raise DataValidationError(f"bad pixel array (shape {arr.shape})", file=str(path),
                                  expected="finite 2-D grayscale of at least 8x8")
    return arr
