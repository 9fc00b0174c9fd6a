"""Synthetic frontal chest radiographs with the 14 CheXpert findings, and their PNG / DICOM writers.

The renderer is pure numpy (devices drawn with pillow): a density map of the patient's anatomy is built in patient
coordinates (x: image left to right, patient's right on the image left as radiologists read a frontal film; y: top
to bottom, both about [-1, 1]), findings change that density where a radiologist would look for them, and an
acquisition step (exposure, heel effect, quantum noise) maps density to 8-bit brightness (bright = dense).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FINDINGS: tuple[str, ...] = (
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture",
    "Support Devices",
)
_IDX = {name: i for i, name in enumerate(FINDINGS)}
# Lobes as (x, y) centres in patient coordinates; the right lung is on the image left (x < 0).
_LOBES = ((-0.42, -0.38), (-0.30, 0.12), (-0.46, 0.34), (0.44, -0.34), (0.48, 0.32))
_F32 = np.float32
_SOP_CLASS = {"DX": "1.2.840.10008.5.1.4.1.1.1.1", "CR": "1.2.840.10008.5.1.4.1.1.1"}  # DX For Presentation, CR
_FIELD_OF_VIEW_MM = 350.0


def with_no_finding(findings: np.ndarray) -> np.ndarray:
    """Return a copy of `findings` whose "No Finding" is set the CheXpert way.

    Args:
        findings: Bool array of shape [14] in `FINDINGS` order; its "No Finding" entry is ignored.

    Returns:
        np.ndarray: Bool [14]; "No Finding" is true exactly when no finding other than Support Devices is.
    """
    out = np.array(findings, dtype=bool).reshape(len(FINDINGS))
    out[0] = not out[1:-1].any()
    return out


def _check_findings(findings: np.ndarray) -> np.ndarray:
    arr = np.asarray(findings)
    if arr.shape != (len(FINDINGS),) or arr.dtype != np.bool_:
        raise ValueError(f"findings must be a bool array of shape ({len(FINDINGS)},), got {arr.dtype} {arr.shape}")
    if arr[0] == arr[1:-1].any():
        raise ValueError("'No Finding' must be true exactly when no finding other than Support Devices is true "
                         "(use with_no_finding to set it)")
    return arr


@functools.lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1] as a row vector (u) and a column vector (v), cached per size."""
    t = ((np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0).astype(np.float32)
    return t[None, :], t[:, None]


@functools.lru_cache(maxsize=16)
def _upsampler(small: int, size: int) -> np.ndarray:
    """Bilinear interpolation matrix [size, small]: M @ field @ M.T upsamples a small noise field in ~10 us."""
    pos = np.clip((np.arange(size) + 0.5) * small / size - 0.5, 0, small - 1)
    lo = np.minimum(pos.astype(int), small - 2)
    w = (pos - lo).astype(np.float32)
    mat = np.zeros((size, small), np.float32)
    mat[np.arange(size), lo] = 1 - w
    mat[np.arange(size), lo + 1] = w
    return mat


def _smooth_noise(rng: np.random.Generator, small: int, size: int) -> np.ndarray:
    mat = _upsampler(small, size)
    return mat @ rng.standard_normal((small, small), dtype=np.float32) @ mat.T


def _vessels(x: np.ndarray, y: np.ndarray, wobble: np.ndarray) -> np.ndarray:
    """Lung vascular markings: bright streaks radiating from each hilum, thinning and fading toward the periphery."""
    out = np.zeros_like(x)
    for hx in (-0.2, 0.2):
        dx, dy = x - hx, y + 0.02
        r = np.sqrt(dx * dx + dy * dy)
        streaks = np.abs(np.sin(8.0 * np.arctan2(dy, dx) + 1.2 * wobble + 3.0 * r))
        out += np.clip(1.0 - (1.5 + 5.0 * r) * streaks - 0.6 * r, 0.0, 1.0) * (dx * hx > 0)
    return out


def _ramp(t: np.ndarray, sharpness: float) -> np.ndarray:
    """Soft step: 0 where t << 0, 1 where t >> 0, linear over a width of 1/sharpness (cheaper than a sigmoid)."""
    out = t * sharpness
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


class _Frame:
    """The patient's position on the film: maps patient coordinates to image coordinates and back.

    Args:
        size: Image width and height in pixels.
        shift_x: Horizontal shift of the patient, in image units ([-1, 1] spans the image).
        shift_y: Vertical shift.
        scale: Magnification.
        angle: Rotation in radians.
    """

    def __init__(self, size: int, shift_x: float, shift_y: float, scale: float, angle: float) -> None:
        self.u, self.v = _grid(size)
        self.shift_x, self.shift_y, self.scale = shift_x, shift_y, scale
        self.cos, self.sin = float(np.cos(angle)), float(np.sin(angle))
        self.x = ((self.u - shift_x) * self.cos + (self.v - shift_y) * self.sin) / scale
        self.y = ((self.v - shift_y) * self.cos - (self.u - shift_x) * self.sin) / scale

    def to_image(self, x: float, y: float) -> tuple[float, float]:
        """Image coordinates ([-1, 1]) of a point given in patient coordinates."""
        return (self.shift_x + self.scale * (x * self.cos - y * self.sin),
                self.shift_y + self.scale * (x * self.sin + y * self.cos))

    def blob(self, x: float, y: float, sx: float, sy: float) -> np.ndarray:
        """Gaussian bump centred at patient (x, y); separable in image axes (rotation is only a few degrees)."""
        cu, cv = self.to_image(x, y)
        ku, kv = 1.0 / (sx * self.scale), 1.0 / (sy * self.scale)
        return np.exp(-(((self.u - cu) * ku) ** 2)) * np.exp(-(((self.v - cv) * kv) ** 2))


def render_cxr(findings: np.ndarray, rng: np.random.Generator, size: int = 128, noise: float = 1.0) -> np.ndarray:
    """Render one frontal chest radiograph look-alike showing the given findings.

    Args:
        findings: Bool array [14] in `FINDINGS` order; "No Finding" must be consistent (see `with_no_finding`).
        rng: Source of all randomness (patient habitus and position, finding placement, acquisition); the same
            generator state and findings give the same image.
        size: Output width and height in pixels (>= 32).
        noise: Scale of acquisition noise and exposure variation (0 = none, 1 = routine portable film).

    Returns:
        np.ndarray: uint8 [size, size] image, bright = dense.

    Raises:
        ValueError: On a bad findings array, size or noise.
    """
    f = _check_findings(findings)
    if size < 32 or noise < 0:
        raise ValueError(f"size must be >= 32 and noise >= 0, got size={size}, noise={noise}")
    p = rng.random(24, dtype=np.float32)  # one batch of uniforms for the patient's anatomy and position
    # Patient position: shift, magnification and a small rotation, so that findings are not pixel-locked.
    fr = _Frame(size, (p[0] - 0.5) * 0.12, (p[1] - 0.5) * 0.10, 1.0 + (p[2] - 0.5) * 0.12, (p[3] - 0.5) * 0.10)
    x, y, blob = fr.x, fr.y, fr.blob
    ax = np.abs(x)

    # Volume loss pulls the diaphragm up and the mediastinum toward the collapsed side.
    atel_side = 1.0 if p[4] > 0.5 else -1.0
    elev = (0.07 + 0.05 * p[5]) if f[_IDX["Atelectasis"]] else 0.0
    med_x = 0.035 * atel_side if f[_IDX["Atelectasis"]] else 0.0
    heart_a = 0.42 + 0.12 * p[6] if f[_IDX["Cardiomegaly"]] else 0.28 + 0.11 * p[6]  # CTR ~0.35-0.5 vs 0.52-0.7
    med_w = 0.21 + 0.05 * p[7] if f[_IDX["Enlarged Cardiomediastinum"]] else 0.12 + 0.03 * p[7]
    right_half = x > 0  # the patient's left: its hemidiaphragm sits a little lower
    dome = 0.38 + 0.08 * p[8] + _F32(0.04) * right_half - _F32(elev) * ((x * atel_side) > 0)
    half_w = 0.84 + 0.08 * p[9]  # body habitus

    # Body outline (neck and shoulders at the top), then lungs cut out of the soft tissue.
    body_w = 0.28 + (half_w - 0.28) * np.sqrt(np.clip((y + 1.05) / 0.4, 0.0, 1.0))
    body = _ramp(body_w - ax, 14.0)
    side_c = _F32(0.82) * right_half - 0.41
    ell = 1.0 - ((x - side_c) / 0.37) ** 2 - ((y - 0.06) / 0.82) ** 2
    # Domes peak mid-hemithorax; laterally they fall steeply into the costophrenic angles.
    diaphragm = dome + (0.12 + _F32(0.18) * (ax > 0.38)) * ((ax - 0.38) / 0.38) ** 2
    lung = _ramp(ell, 3.5) * _ramp(diaphragm - y, 22.0)

    heart = _ramp(1.0 - ((x - 0.06 - med_x) / heart_a) ** 2 - ((y - 0.34) / 0.31) ** 2, 4.0)
    knob = 0.07 * blob(0.16, -0.36, 0.08, 0.07)  # aortic knob on the patient's left
    med = _ramp(med_w + knob - np.abs(x - med_x - 0.02), 18.0) * _ramp(0.32 - y, 10.0)
    cardiac = np.maximum(heart, med)

    texture = _smooth_noise(rng, 12, size)
    markings = _vessels(x, y, _smooth_noise(rng, 16, size))
    air = 1.0 - 0.25 * _ramp(y - 0.1, 2.0) + 0.05 * texture  # bases look denser (soft tissue overlap)
    opacity = np.zeros_like(x)  # fraction of lung air replaced by fluid or tissue, per pixel
    extra = np.zeros_like(x)  # density outside the lung fields (pleura, bone)

    if f[_IDX["Edema"]]:  # bilateral perihilar ("bat-wing") haze plus diffuse interstitial haze
        amp = 0.25 + 0.5 * p[10]  # mild to severe
        opacity += amp * (blob(-0.24, 0.02, 0.26, 0.36) + blob(0.26, 0.02, 0.26, 0.36)) + 0.1 * amp
    if f[_IDX["Consolidation"]]:  # dense, lobar, irregular margins
        lx, ly = _LOBES[int(p[11] * 5)]
        core = blob(lx, ly, 0.26, 0.22) * (1.0 + 0.5 * texture + 0.4 * _smooth_noise(rng, 16, size))
        opacity += np.clip((core - 0.35) * 2.5, 0.0, 0.95)
    if f[_IDX["Pneumonia"]]:  # patchy, multifocal, lower zones
        for _ in range(3):
            q = rng.random(3, dtype=np.float32)
            opacity += 0.5 * blob((0.3 + 0.25 * q[0]) * (1 if q[2] > 0.5 else -1), 0.05 + 0.3 * q[1], 0.1, 0.08)
    if f[_IDX["Lung Opacity"]]:  # ill-defined hazy patch
        q = rng.random(3, dtype=np.float32)
        opacity += (0.3 + 0.2 * q[2]) * blob((0.25 + 0.3 * q[0]) * np.sign(q[1] - 0.5), -0.4 + 0.7 * q[1], 0.18,
                                              0.15)
    if f[_IDX["Lung Lesion"]]:  # well-circumscribed nodule
        q = rng.random(4, dtype=np.float32)
        r = 0.035 + 0.045 * q[2]
        nx, ny = (0.3 + 0.3 * q[0]) * (1 if q[3] > 0.5 else -1), -0.45 + 0.7 * q[1]
        opacity += 0.9 * _ramp(r - np.sqrt((x - nx) ** 2 + (y - ny) ** 2), 60.0)
    if f[_IDX["Atelectasis"]]:  # plate-like band above the elevated hemidiaphragm
        q = rng.random(2, dtype=np.float32)
        band_y = 0.18 + 0.12 * q[0] + 0.15 * (q[1] - 0.5) * (x * atel_side - 0.4)
        opacity += 0.7 * _ramp(0.025 - np.abs(y - band_y), 60.0) * _ramp(0.28 - np.abs(x - 0.42 * atel_side), 12.0)
        opacity += 0.35 * blob(0.35 * atel_side, 0.4 - elev, 0.18, 0.1)

    ptx = np.zeros_like(x)
    if f[_IDX["Pneumothorax"]]:  # lung edge retracted from the apex and lateral wall; air beyond it, no markings
        side = 1.0 if p[12] > 0.5 else -1.0
        shrink = 0.72 + 0.15 * p[13]
        inner = 1.0 - ((x - 0.38 * side) / (0.37 * shrink)) ** 2 - ((y - 0.14) / (0.82 * shrink)) ** 2
        ptx = lung * _ramp(-inner, 20.0) * (x * side > 0)
        extra += 0.12 * lung * _ramp(0.04 - np.abs(inner), 40.0) * (x * side > 0)  # visceral pleural line
    if f[_IDX["Pleural Other"]]:  # pleural thickening: a bright rim along one lateral wall or apex
        side = 1.0 if p[14] > 0.5 else -1.0
        rim = _ramp(0.14 - ell, 25.0) * _ramp(ell + 0.05, 25.0) * (x * side > 0) * _ramp(diaphragm - y, 22.0)
        extra += 0.16 * rim
    eff = np.zeros_like(x)
    if f[_IDX["Pleural Effusion"]]:  # fluid at the base with a meniscus rising laterally; hides the angle
        sides = (-1.0, 1.0) if p[15] < 0.4 else ((-1.0,) if p[15] < 0.7 else (1.0,))
        for side in sides:
            level = dome - 0.12 - 0.33 * rng.random() - 0.25 * ((np.maximum(x * side, 0) - 0.3) / 0.45) ** 2
            eff = np.maximum(eff, _ramp(y - level, 14.0) * _ramp(ell + 0.1, 6.0) * (x * side > 0))
        eff *= _ramp(diaphragm + 0.04 - y, 22.0)  # fluid stays above the diaphragm
    opacity = np.clip(opacity, 0.0, 1.0)

    # Ribs: posterior arcs from the spine sloping down laterally; a fracture breaks and offsets one of them.
    rib_phase = (y + 0.9 - 0.35 * ax ** 2 - 0.1 * ax) / 0.15
    if f[_IDX["Fracture"]]:
        side, k0, x0 = (1.0 if p[16] > 0.5 else -1.0), int(2 + 4 * p[17]), 0.45 + 0.2 * p[18]
        on_rib = (np.floor(rib_phase) == k0) & (x * side > x0)
        rib_phase = rib_phase + _F32(0.18) * (on_rib & (x * side > x0 + 0.02))
        extra -= 0.10 * on_rib * (x * side < x0 + 0.025)  # the fracture gap
    ribs = np.clip(1.0 - np.abs(rib_phase - np.floor(rib_phase) - 0.5) / 0.2, 0, 1) * _ramp(ell + 0.15, 8.0)
    lung_seen = lung * (1.0 - 0.85 * cardiac)  # lung not hidden behind the heart or mediastinum
    ribs *= _ramp(diaphragm + 0.05 - y, 20.0) * (0.3 + 0.7 * lung_seen) * (1.0 - 0.6 * eff)
    clav_y = -0.72 - 0.22 * (ax - 0.1) + 0.5 * (ax - 0.35) ** 2  # S-shaped clavicles
    clav = _ramp(0.025 - np.abs(y - clav_y), 60.0) * _ramp(0.62 - ax, 20.0) * _ramp(ax - 0.08, 30.0)
    spine = _ramp(0.07 - np.abs(x - 0.01), 40.0) * (0.7 + 0.3 * np.cos(y * 40.0) ** 2)
    trachea = _ramp(0.035 - np.abs(x - 0.005), 60.0) * _ramp(-0.3 - y, 20.0)

    lung_air = lung_seen * (1.0 - eff) * (air * (1.0 - opacity) + 0.12 * ptx)
    density = (0.62 * body - 0.44 * lung_air + 0.10 * markings * lung_air * (1.0 - ptx)
               + 0.07 * ribs + 0.08 * clav + 0.05 * spine - 0.08 * trachea + 0.05 * eff + extra)
    if f[_IDX["Support Devices"]]:
        density += _devices(rng, size, fr)
    return _acquire(density, rng, p, noise, fr.u, fr.v)


def _devices(rng: np.random.Generator, size: int, fr: _Frame) -> np.ndarray:
    """Radio-opaque tubes, lines, pacemaker and ECG leads, drawn with pillow in patient coordinates."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)

    def px(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [((u + 1) * size / 2, (v + 1) * size / 2) for u, v in (fr.to_image(x, y) for x, y in pts)]

    width = max(1, size // 64)
    q = rng.random(8, dtype=np.float32)
    kinds = [k for k, flag in enumerate(q[:4] < (0.6, 0.45, 0.5, 0.2)) if flag] or [int(q[4] * 4)]
    if 0 in kinds:  # endotracheal tube, tip above the carina
        draw.line(px([(0.0, -1.05), (0.005, -0.7), (0.005, -0.42 - 0.1 * q[5])]), fill=230, width=width + 1)
    if 1 in kinds:  # enteric tube down the oesophagus into the stomach
        draw.line(px([(0.03, -1.05), (0.04, -0.3), (0.08, 0.45), (0.3, 0.62 + 0.1 * q[6])]), fill=200, width=width)
    if 2 in kinds:  # right internal jugular central line, tip in the SVC
        draw.line(px([(-0.25, -1.0), (-0.12, -0.7), (-0.07, -0.3 + 0.08 * q[7])]), fill=210, width=width)
    if 3 in kinds:  # pacemaker generator in the left upper chest with leads to the heart
        draw.rounded_rectangle(px([(0.42, -0.68), (0.6, -0.55)]), radius=max(1, size // 64), fill=255)
        draw.line(px([(0.45, -0.6), (0.15, -0.5), (0.0, 0.05), (-0.02, 0.38)]), fill=230, width=width)
    for _ in range(int(rng.integers(0, 4))):  # ECG electrodes
        ex, ey = px([(float(rng.uniform(-0.7, 0.7)), float(rng.uniform(-0.8, 0.1)))])[0]
        r = size / 60
        draw.ellipse((ex - r, ey - r, ex + r, ey + r), outline=200, width=1)
    return np.asarray(canvas, dtype=np.float32) * (0.6 / 255.0)


def _acquire(density: np.ndarray, rng: np.random.Generator, p: np.ndarray, noise: float, u: np.ndarray,
             v: np.ndarray) -> np.ndarray:
    """Exposure (gain, offset, gamma), heel-effect gradient and quantum noise; density -> uint8 brightness."""
    gain = 1.0 + noise * 0.10 * (p[19] - 0.5) * 2
    offset = noise * 0.05 * (p[20] - 0.5) * 2
    gamma = float(np.exp(noise * 0.15 * (p[21] - 0.5) * 2))
    heel = noise * 0.04 * ((p[22] - 0.5) * u + (p[23] - 0.5) * v)
    img = np.clip((density * 1.25 - 0.02) * gain + offset + heel, 0.0, 1.0) ** gamma
    if noise > 0:  # quantum noise: a sum of two uniform bytes is near-Gaussian and ~5x cheaper than a normal draw
        pairs = np.frombuffer(rng.bytes(2 * img.size), dtype=np.uint8).reshape(2, *img.shape)
        img += (pairs.sum(axis=0, dtype=np.int16) - 255).astype(np.float32) * np.float32(0.012 * noise / 104.5)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _check_image(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"image must be a 2-D uint8 array, got {image.dtype} with shape {image.shape}")


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write an 8-bit grayscale PNG.

    Args:
        path: Destination file.
        image: uint8 [H, W] image.
    """
    _check_image(image)
    Image.fromarray(image, mode="L").save(path, format="PNG")


def write_dicom(path: str | Path, image: np.ndarray, *, photometric: str = "MONOCHROME2", bits_stored: int = 12,
                view: str = "AP", seed: int = 0, patient_id: str = "SYNTHETIC", modality: str = "DX") -> None:
    """Write a DICOM Digital X-Ray (or CR) image that a windowing reader turns back into `image`.

    8-bit values are spread linearly over 5-95% of the stored range; Window Center/Width cover exactly that span, so
    a VOI LUT step (pydicom.pixels.apply_voi_lut) restores full contrast. For MONOCHROME1 the stored values are
    inverted (bright = low), so a reader must invert after windowing. UIDs derive from (patient_id, seed) only.

    Args:
        path: Destination file.
        image: uint8 [H, W] image, bright = dense.
        photometric: "MONOCHROME2" or "MONOCHROME1".
        bits_stored: Bits used in each 16-bit sample (8-16).
        view: View position, "AP" or "PA".
        seed: Makes the study/series/instance UIDs unique and reproducible.
        patient_id: Synthetic patient identifier (never a real one).
        modality: "DX" (Digital X-Ray Image Storage - For Presentation) or "CR" (Computed Radiography).

    Raises:
        ValueError: On a bad image or argument.
    """
    _check_image(image)
    if photometric not in ("MONOCHROME1", "MONOCHROME2") or view not in ("AP", "PA") or modality not in _SOP_CLASS:
        raise ValueError(f"unsupported photometric={photometric!r}, view={view!r} or modality={modality!r}")
    if not 8 <= bits_stored <= 16:
        raise ValueError(f"bits_stored must be in 8..16, got {bits_stored}")
    top = 2**bits_stored - 1
    low, span = 0.05 * top, 0.90 * top
    stored = np.rint(low + image.astype(np.float64) * (span / 255.0))
    center = low + span / 2
    if photometric == "MONOCHROME1":
        stored, center = top - stored, top - center
    uid = functools.partial(generate_uid, prefix="1.2.826.0.1.3680043.8.498.")
    study, series, instance = (uid(entropy_srcs=[kind, patient_id, str(seed)]) for kind in ("study", "series", "sop"))

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _SOP_CLASS[modality]
    meta.MediaStorageSOPInstanceUID = instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = _SOP_CLASS[modality], instance
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "SYNTHETIC^PATIENT", patient_id, "", ""
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "", "", "1", "", ""
    ds.Modality, ds.Manufacturer, ds.SeriesNumber, ds.InstanceNumber = modality, "SYNTHETIC", 1, 1
    ds.BodyPartExamined, ds.ViewPosition, ds.PatientOrientation = "CHEST", view, ["L", "F"]
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    if modality == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
    spacing = [round(_FIELD_OF_VIEW_MM / n, 6) for n in image.shape]  # DS values hold at most 16 characters
    ds.ImagerPixelSpacing, ds.PixelSpacing = spacing, spacing
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.Rows, ds.Columns = image.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits_stored, bits_stored - 1, 0
    ds.WindowCenter, ds.WindowWidth = round(center, 2), round(span + 1, 2)
    ds.VOILUTFunction = "LINEAR"
    ds.BurnedInAnnotation, ds.LossyImageCompression = "NO", "00"
    ds.PixelData = stored.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
