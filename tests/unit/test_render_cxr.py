"""Tests for the synthetic chest X-ray renderer and its PNG / DICOM writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_voi_lut
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from model.data.render_cxr import FINDINGS, render_cxr, with_no_finding, write_dicom, write_png

KEY_FINDINGS = ("Cardiomegaly", "Pleural Effusion", "Edema", "Consolidation")


def _only(*names: str) -> np.ndarray:
    """Findings array with just `names` true (and "No Finding" set accordingly)."""
    flags = np.zeros(len(FINDINGS), dtype=bool)
    for name in names:
        flags[FINDINGS.index(name)] = True
    return with_no_finding(flags)


def test_findings_are_the_chexpert_labels_in_order() -> None:
    assert len(FINDINGS) == 14
    assert FINDINGS[0] == "No Finding" and FINDINGS[-1] == "Support Devices"
    assert FINDINGS.index("Pleural Effusion") == 10


def test_no_finding_follows_the_other_labels() -> None:
    assert _only()[0]
    assert _only("Support Devices")[0]  # devices alone are still "no finding", as in CheXpert
    assert not _only("Edema")[0]
    inconsistent = _only("Edema")
    inconsistent[0] = True
    with pytest.raises(ValueError, match="No Finding"):
        render_cxr(inconsistent, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        render_cxr(np.zeros(13, dtype=bool), np.random.default_rng(0))
    with pytest.raises(ValueError, match="size"):
        render_cxr(_only(), np.random.default_rng(0), size=16)


def test_render_is_deterministic_for_a_seed() -> None:
    findings = _only("Cardiomegaly", "Support Devices", "Pneumonia")
    first = render_cxr(findings, np.random.default_rng(42))
    again = render_cxr(findings, np.random.default_rng(42))
    other = render_cxr(findings, np.random.default_rng(43))
    assert first.dtype == np.uint8 and first.shape == (128, 128)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first.astype(int) - other).mean() > 1.0
    assert render_cxr(findings, np.random.default_rng(42), size=64).shape == (64, 64)


@pytest.mark.parametrize("name", FINDINGS[1:])
def test_each_finding_changes_the_image(name: str) -> None:
    # Same seed and no acquisition noise: the patient is identical, only the finding differs.
    base = render_cxr(_only(), np.random.default_rng(7), noise=0.0).astype(float)
    sick = render_cxr(_only(name), np.random.default_rng(7), noise=0.0).astype(float)
    assert (np.abs(sick - base) > 8).sum() >= 3, f"{name} left the image unchanged"


def test_findings_appear_where_a_radiologist_looks() -> None:
    def mean_change(name: str, rows: slice, cols: slice) -> float:
        diffs = [render_cxr(_only(name), np.random.default_rng(s), noise=0.0)[rows, cols].astype(float)
                 - render_cxr(_only(), np.random.default_rng(s), noise=0.0)[rows, cols] for s in range(8)]
        return float(np.mean(diffs))

    lower_lungs, mid_rows, heart_cols = slice(80, 105), slice(45, 80), slice(30, 100)
    assert mean_change("Pleural Effusion", lower_lungs, slice(0, 128)) > 5  # bases whiter
    assert mean_change("Cardiomegaly", slice(70, 100), heart_cols) > 5  # wider cardiac silhouette
    assert mean_change("Edema", mid_rows, heart_cols) > 5  # perihilar haze
    assert mean_change("Pneumothorax", slice(10, 100), slice(0, 128)) < 0  # more air, no markings


def test_noise_scales_acquisition_noise() -> None:
    def roughness(noise: float) -> float:
        img = render_cxr(_only(), np.random.default_rng(3), noise=noise).astype(float)
        return float(np.abs(np.diff(img, axis=1)).mean())

    assert roughness(0.0) < roughness(1.0) < roughness(3.0)


def test_key_findings_are_learnable_from_downsampled_pixels() -> None:
    rng = np.random.default_rng(2024)
    prevalence = np.full(len(FINDINGS), 0.15)
    prevalence[[FINDINGS.index(n) for n in KEY_FINDINGS]] = 0.3
    labels = np.stack([with_no_finding(rng.random(len(FINDINGS)) < prevalence) for _ in range(600)])
    images = np.stack([render_cxr(f, rng) for f in labels]).astype(np.float32) / 255.0
    pixels = images.reshape(len(images), 16, 8, 16, 8).mean(axis=(2, 4)).reshape(len(images), -1)  # 16x16
    train, test = slice(0, 400), slice(400, None)
    for name in KEY_FINDINGS:
        y = labels[:, FINDINGS.index(name)]
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        model.fit(pixels[train], y[train])
        auroc = roc_auc_score(y[test], model.predict_proba(pixels[test])[:, 1])
        assert auroc >= 0.8, f"{name}: held-out AUROC {auroc:.3f}"


def test_write_png_round_trips(tmp_path: Path) -> None:
    image = render_cxr(_only("Edema"), np.random.default_rng(1))
    write_png(tmp_path / "x.png", image)
    with Image.open(tmp_path / "x.png") as back:
        assert back.mode == "L"
        np.testing.assert_array_equal(np.asarray(back), image)
    with pytest.raises(ValueError, match="uint8"):
        write_png(tmp_path / "bad.png", image.astype(np.float32))


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_write_dicom_reads_back_through_windowing(tmp_path: Path, photometric: str) -> None:
    image = render_cxr(_only("Pleural Effusion", "Support Devices"), np.random.default_rng(5))
    path = tmp_path / "x.dcm"
    write_dicom(path, image, photometric=photometric, view="PA", seed=11, patient_id="SYN123")
    ds = pydicom.dcmread(path)
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.1"
    assert (ds.Modality, ds.ViewPosition, ds.PatientID, ds.PhotometricInterpretation) == ("DX", "PA", "SYN123",
                                                                                         photometric)
    assert (ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation) == (128, 128, 16, 12, 0)
    stored = ds.pixel_array
    assert 0 < stored.min() and stored.max() < 4095  # windowing is needed to use the full range
    shown = apply_voi_lut(stored, ds)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        shown = (2**ds.BitsStored - 1) - shown
    assert np.corrcoef(shown.ravel(), image.ravel())[0, 1] > 0.99
    rescaled = (shown - shown.min()) / (shown.max() - shown.min()) * (image.max() - image.min()) + image.min()
    assert np.abs(rescaled - image).max() <= 2.0


def test_write_dicom_is_deterministic_and_uids_follow_the_seed(tmp_path: Path) -> None:
    image = render_cxr(_only(), np.random.default_rng(9), size=64)
    write_dicom(tmp_path / "a.dcm", image, seed=3, modality="CR")
    write_dicom(tmp_path / "b.dcm", image, seed=3, modality="CR")
    write_dicom(tmp_path / "c.dcm", image, seed=4, modality="CR")
    assert (tmp_path / "a.dcm").read_bytes() == (tmp_path / "b.dcm").read_bytes()
    a, c = pydicom.dcmread(tmp_path / "a.dcm"), pydicom.dcmread(tmp_path / "c.dcm")
    assert a.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1" and a.Modality == "CR" and a.PatientID == "SYNTHETIC"
    assert a.SOPInstanceUID != c.SOPInstanceUID and a.StudyInstanceUID != c.StudyInstanceUID
    with pytest.raises(ValueError, match="photometric"):
        write_dicom(tmp_path / "d.dcm", image, photometric="RGB")
