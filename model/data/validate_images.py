"""Checks for the images a MEDS cohort references: paths stay inside the root, files exist and decode."""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath, PureWindowsPath

import polars as pl

from model.errors import DataValidationError

DICOM_SUFFIXES = (".dcm", ".dicom")


def _is_dicom(path: Path) -> bool:
    """DICOM by suffix, or by the 'DICM' magic at byte 128 (files written without a suffix)."""
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    with open(path, "rb") as fh:
        fh.seek(128)
        return fh.read(4) == b"DICM"


def decode_image(path: Path) -> None:
    """Fully decode an image file: DICOM via pydicom (pixel_array), anything else via pillow (open + load).

    Args:
        path: The image file.

    Raises:
        Exception: Whatever the decoder raises for an unreadable file.
    """
    if _is_dicom(path):
        import pydicom

        ds = pydicom.dcmread(path)
        _ = ds.pixel_array
    else:
        from PIL import Image

        with Image.open(path) as im:
            im.load()


def resolve_image_path(root: Path, rel: str, *, file: str, row: int, field: str) -> Path:
    """Map a relative image path to a file under root, refusing paths that leave the root.

    The check is lexical (no symlink resolution), so a symlinked images/ folder that points to shared storage is fine.

    Args:
        root: The cohort root.
        rel: The image path as stored in the events.
        file: The data file that references it (for messages).
        row: The 0-based row that references it.
        field: The image column name.

    Returns:
        The image file path.

    Raises:
        DataValidationError: Empty, absolute or root-escaping path, or no such file.
    """
    if not rel.strip():
        raise DataValidationError("empty image path", file=file, row=row, field=field, expected="a relative path")
    if PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() or PureWindowsPath(rel).drive:
        raise DataValidationError(
            f"image path '{rel}' is absolute",
            file=file,
            row=row,
            field=field,
            expected="a path relative to the cohort root",
        )
    norm = posixpath.normpath(rel.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        raise DataValidationError(
            f"image path '{rel}' escapes the cohort root",
            file=file,
            row=row,
            field=field,
            expected="a path inside the cohort root",
        )
    path = root / norm
    if not path.is_file():
        raise DataValidationError(
            f"image file '{rel}' does not exist",
            file=file,
            row=row,
            field=field,
            expected="an existing image file under the cohort root",
        )
    return path


def check_images(root: Path, refs: pl.DataFrame, field: str, *, decode: bool = True) -> int:
    """Check every distinct image path referenced by the events.

    Args:
        root: The cohort root.
        refs: One row per reference: file (data file), _row (0-based row), image_path.
        field: The image column name (for messages).
        decode: Also decode each image (slow on large cohorts); paths are always checked.

    Returns:
        The number of distinct image files.

    Raises:
        DataValidationError: Bad path, missing file, or an image that does not decode; the message names the image
            path and the data file and row that reference it.
    """
    first = refs.unique(subset=["image_path"], keep="first", maintain_order=True)
    for file, row, rel in first.select("file", "_row", "image_path").iter_rows():
        path = resolve_image_path(root, rel, file=file, row=row, field=field)
        if not decode:
            continue
        try:
            decode_image(path)
        except Exception as exc:  # decoders raise many types; any of them means "unreadable"
            raise DataValidationError(
                f"image file '{rel}' cannot be decoded ({type(exc).__name__})",
                file=file,
                row=row,
                field=field,
                expected="a readable PNG/JPEG or DICOM image",
            ) from exc
    return first.height
