"""Typed settings of the embedding steps; validated once when built, read only at entry points."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Pooling = Literal["cls", "mean"]
OnUnreadable = Literal["error", "missing"]


@dataclass(frozen=True)
class NoteEncoderConfig:
    """How notes become one vector per sample.

    Attributes:
        model_path: Local Hugging Face folder (None: the bundled all-MiniLM-L6-v2; production: a ClinicalBERT folder).
        pooling: 'cls' (the first token, as in the paper) or 'mean' (mean over real tokens only: padding excluded).
        max_length: Tokens kept per sample; longer text is truncated.
        batch_size: Texts per forward pass.
        categories: Note categories (the part after NOTE//) to use; None: every category found.
        cache_dir: Folder of cached vectors keyed by content hash; None disables caching.
        progress: Show a progress bar (counts only, never text).
    """

    model_path: str | None = None
    pooling: Pooling = "cls"
    max_length: int = 256
    batch_size: int = 16
    categories: tuple[str, ...] | None = None
    cache_dir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.pooling not in ("cls", "mean"):
            raise ValueError(f"pooling={self.pooling!r}: expected 'cls' or 'mean'")
        if not 8 <= self.max_length <= 8192:
            raise ValueError(f"max_length={self.max_length}: expected 8..8192")
        if self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size}: expected >= 1")

    def to_dict(self) -> dict:
        """Plain dict of the settings."""
        return asdict(self)


@dataclass(frozen=True)
class ImagePreprocessConfig:
    """Pixel pipeline: decode → (VOI/inversion for DICOM) → 8-bit → CLAHE → resize → scale to [0, 1].

    Attributes:
        size: Output side in pixels (square).
        clahe: Apply CLAHE (clipLimit 2.0, 8×8 tiles, as the paper); False only for the ablation.
        clip_limit: CLAHE clip limit.
        tile_grid: CLAHE tiles per side.
    """

    size: int = 128
    clahe: bool = True
    clip_limit: float = 2.0
    tile_grid: int = 8

    def __post_init__(self) -> None:
        if not 16 <= self.size <= 1024:
            raise ValueError(f"size={self.size}: expected 16..1024")
        if self.clip_limit <= 0 or self.tile_grid < 1:
            raise ValueError("clip_limit must be > 0 and tile_grid >= 1")


@dataclass(frozen=True)
class ImageEncoderConfig:
    """How X-rays become one 512-d vector per sample.

    Attributes:
        weights_dir: Folder with the pretrained encoder (encoder.safetensors + encoder.json).
        preprocess: Pixel pipeline; must match what the encoder was trained with (checked against encoder.json).
        batch_size: Images per forward pass.
        on_unreadable: 'error' (default) raises on a corrupt/unsupported image; 'missing' marks that sample absent
            and counts it in meta.json.
        views: CXR views to use (the part after CXR//); None: every view.
        progress: Show a progress bar.
    """

    weights_dir: str
    preprocess: ImagePreprocessConfig = ImagePreprocessConfig()
    batch_size: int = 32
    on_unreadable: OnUnreadable = "error"
    views: tuple[str, ...] | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.on_unreadable not in ("error", "missing"):
            raise ValueError(f"on_unreadable={self.on_unreadable!r}: expected 'error' or 'missing'")
        if self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size}: expected >= 1")


@dataclass(frozen=True)
class PretrainConfig:
    """Training of the grayscale ResNet-34 on the 14 finding labels (train split only).

    Attributes:
        preprocess: Pixel pipeline (saved with the weights so embedding uses the same one).
        epochs: Passes over the training images.
        batch_size: Images per step.
        lr: Adam learning rate.
        seed: Initialisation and shuffling seed.
        threads: torch CPU threads.
        augment: Random flips/shifts during training.
        max_train_images: Use a seeded subset of at most this many training images (smoke runs); None: all.
    """

    preprocess: ImagePreprocessConfig = ImagePreprocessConfig()
    epochs: int = 3
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    threads: int = 2
    augment: bool = True
    max_train_images: int | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
