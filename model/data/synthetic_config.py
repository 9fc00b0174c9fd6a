"""Typed parameters of the synthetic multimodal ICU cohort."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Missingness:
    """Share of stays whose modality is removed completely at random after outcomes are drawn.

    The oracle probabilities do not change: a model that loses a modality loses its information.
    """

    notes: float = 0.05
    images: float = 0.0
    labs: float = 0.0  # share of individual lab results dropped

    def __post_init__(self) -> None:
        for name, v in asdict(self).items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"missingness.{name}={v}: expected a share in [0, 1]")


@dataclass(frozen=True)
class CohortConfig:
    """What the generator draws.

    Attributes:
        n_stays: ICU stays in the cohort (no stay follows a patient's death).
        seed: Everything is a deterministic function of the seed.
        noise: Scale of measurement noise on vitals and labs (1 = default).
        image_rate: Share of stays with a chest X-ray (sicker patients more often).
        dicom_share: Share of X-rays written as DICOM instead of PNG (half of them MONOCHROME1).
        image_size: Side of the square X-ray images in pixels.
        stays_per_shard: Stays per data shard (each subject in exactly one shard).
        mortality_rate, arf_rate, shock_rate: Mean event probabilities the intercepts are fitted to.
        missingness: Completely-at-random removal per modality.
        workers: Processes for shard generation (1 = in-process).
    """

    n_stays: int = 2000
    seed: int = 0
    noise: float = 1.0
    image_rate: float = 0.25
    dicom_share: float = 0.1
    image_size: int = 128
    stays_per_shard: int = 2500
    mortality_rate: float = 0.12
    arf_rate: float = 0.30
    shock_rate: float = 0.22
    missingness: Missingness = field(default_factory=Missingness)
    race_p: tuple[float, ...] = (0.62, 0.15, 0.07, 0.05, 0.06, 0.05)
    workers: int = 1

    def __post_init__(self) -> None:
        if self.n_stays < 1:
            raise ValueError(f"n_stays={self.n_stays}: expected at least 1")
        if self.noise < 0:
            raise ValueError(f"noise={self.noise}: expected >= 0")
        for name in ("image_rate", "dicom_share", "mortality_rate", "arf_rate", "shock_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}={v}: expected a share in [0, 1]")
        if self.image_size < 32:
            raise ValueError(f"image_size={self.image_size}: expected >= 32")

    def to_dict(self) -> dict:
        return asdict(self)
