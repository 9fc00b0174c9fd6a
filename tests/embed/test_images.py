"""X-ray path: DICOM decoding (MONOCHROME1, VOI), CLAHE, the real pydicom-data radiograph end to end, policies."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch

from model.embed.config import ImageEncoderConfig, ImagePreprocessConfig
from model.embed.cxr_encoder import load_encoder
from model.embed.dicom import read_image
from model.embed.images import embed_images
from model.embed.preprocess import load_preprocessed, preprocess_array
from model.embed.store import read_embeddings
from model.errors import DataValidationError

TINY = ImagePreprocessConfig(size=32)


def _write_dicom(path, pixels: np.ndarray, photometric: str, window: tuple[float, float] | None = None):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.Rows, ds.Columns = pixels.shape
    ds.PhotometricInterpretation, ds.SamplesPerPixel = photometric, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_monochrome1_is_inverted(tmp_path):
    ramp = np.tile(np.arange(0, 4000, 125, dtype=np.uint16), (16, 1))  # 16 x 32 ramp, left dark
    _write_dicom(tmp_path / "m2.dcm", ramp, "MONOCHROME2")
    _write_dicom(tmp_path / "m1.dcm", ramp, "MONOCHROME1")
    m2, m1 = read_image(tmp_path / "m2.dcm"), read_image(tmp_path / "m1.dcm")
    assert m2[0, -1] > m2[0, 0] and m1[0, -1] < m1[0, 0]
    np.testing.assert_allclose(m1 + m2, m2.max() + m2.min())


def test_voi_window_clips_outside_range(tmp_path):
    ramp = np.tile(np.arange(0, 4000, 125, dtype=np.uint16), (16, 1))
    _write_dicom(tmp_path / "w.dcm", ramp, "MONOCHROME2", window=(2000.0, 1000.0))
    arr = read_image(tmp_path / "w.dcm")
    # below the window is flat black, above flat white: the window, not the raw range, sets the contrast
    assert arr[0, 0] == arr[0, 5] == arr.min() and arr[0, -1] == arr[0, -5] == arr.max()


def test_clahe_raises_local_contrast():
    rng = np.random.default_rng(0)
    img = rng.random((128, 128)).astype(np.float32) * 20  # faint texture ...
    img[:, 64:] += 200  # ... on a dark and a bright half: global min-max leaves the texture faint
    on = preprocess_array(img, ImagePreprocessConfig(size=128, clahe=True))
    off = preprocess_array(img, ImagePreprocessConfig(size=128, clahe=False))
    assert on.shape == off.shape == (128, 128) and on.dtype == np.float32
    assert 0.0 <= on.min() and on.max() <= 1.0
    for half in (slice(0, 64), slice(64, 128)):  # local contrast inside each half grows (measured 2-3x)
        assert on[:, half].std() > 1.5 * off[:, half].std()


def test_real_radiograph_end_to_end(tiny_encoder_dir):
    from pydicom.data import get_testdata_file

    path = get_testdata_file("RG1_UNCR.dcm")
    raw = read_image(path)
    assert raw.shape == (1955, 1841)
    img = load_preprocessed(path, TINY)
    assert img.shape == (32, 32) and img.std() > 0.05
    model, cfg = load_encoder(tiny_encoder_dir)
    with torch.inference_mode():
        vec = model.features(torch.from_numpy(img)[None, None])
    assert vec.shape == (1, 512) and torch.isfinite(vec).all() and vec.abs().sum() > 0
    assert cfg["preprocess"]["size"] == 32


def test_corrupt_and_unsupported_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.dcm"
    bad.write_bytes(b"not a dicom at all")
    with pytest.raises(DataValidationError, match="broken.dcm"):
        read_image(bad)
    (tmp_path / "x.bmp").write_bytes(b"BM")
    with pytest.raises(DataValidationError, match="x.bmp"):
        read_image(tmp_path / "x.bmp")


def test_embed_images_contract_and_unreadable_policy(small_cohort, mortality_samples, tiny_encoder_dir, tmp_path):
    cfg = ImageEncoderConfig(weights_dir=str(tiny_encoder_dir), preprocess=TINY, progress=False)
    samples = mortality_samples.head(60)
    meta = embed_images(small_cohort, samples, tmp_path / "img", cfg)
    index, vectors, _ = read_embeddings(tmp_path / "img")
    present = index["present"].to_numpy()
    assert vectors.shape == (60, 512) and 0 < present.sum() < 60 and meta["n_unreadable"] == 0
    assert np.all(vectors[~present] == 0) and np.all(np.abs(vectors[present]).sum(1) > 0)
    # corrupt one image this sample set uses, in a copy of the cohort
    import shutil

    cohort = tmp_path / "cohort"
    shutil.copytree(small_cohort, cohort)
    ev = pl.read_parquet(cohort / "data").filter(pl.col("code").str.starts_with("CXR//"))
    first = samples.row(int(np.flatnonzero(present)[0]), named=True)
    hit = ev.filter((pl.col("subject_id") == first["subject_id"]) & (pl.col("time") <= first["prediction_time"])
                    & (pl.col("time") >= first["anchor_time"])).sort("time")["image_path"][-1]
    (cohort / hit).write_bytes(b"garbage")
    with pytest.raises(DataValidationError, match=hit.split("/")[-1]):
        embed_images(cohort, samples, tmp_path / "img2", cfg)
    assert not (tmp_path / "img2").exists()
    cfg_missing = ImageEncoderConfig(weights_dir=str(tiny_encoder_dir), preprocess=TINY, on_unreadable="missing",
                                     progress=False)
    meta2 = embed_images(cohort, samples, tmp_path / "img3", cfg_missing)
    assert meta2["n_unreadable"] >= 1 and meta2["n_present"] == meta["n_present"] - meta2["n_unreadable"]
    assert hit in meta2["unreadable_files"]


def test_preprocess_mismatch_is_refused(small_cohort, mortality_samples, tiny_encoder_dir, tmp_path):
    cfg = ImageEncoderConfig(weights_dir=str(tiny_encoder_dir), preprocess=ImagePreprocessConfig(size=64))
    with pytest.raises(DataValidationError, match="preprocess"):
        embed_images(small_cohort, mortality_samples.head(3), tmp_path / "x", cfg)


def test_cli_bad_input_exits_2_and_writes_nothing(small_cohort, tiny_encoder_dir, tmp_path, capsys):
    from model.embed.cli import main

    code = main(["images", str(small_cohort), str(tmp_path / "missing.parquet"), str(tmp_path / "out"),
                 "--weights", str(tiny_encoder_dir), "--size", "32"])
    assert code == 2 and "missing.parquet" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
