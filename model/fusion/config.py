"""Typed configuration of the fusion models and their training, read once at the entry point."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from model.embed.config import ImagePreprocessConfig, OnUnreadable

MissingPolicy = Literal["zero", "mask", "token"]
LossKind = Literal["uncertainty", "bce"]
ModelKind = Literal["fusion", "lstm", "ts_cnn", "ts_transformer", "image_only", "early_mlp", "mag"]
ImageInput = Literal["embedding", "pixels"]


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the robust fusion model (defaults: the paper's) and of the baselines.

    Attributes:
        kind: 'fusion' (the paper's model) or a baseline.
        n_features: Columns of the hourly time-series input.
        n_outputs: 1 (mortality) or 25 (phenotypes).
        dense: (name, width) of each non-time-series modality in token order, e.g. (('cxr', 512),).
        image_input: 'embedding' (frozen 512-d vectors) or 'pixels' (a trainable ResNet-34 trunk on [B,1,H,W]).
        hidden: LSTM width (2 stacked layers in the paper).
        lstm_layers: Stacked LSTM layers.
        d_model: Token width after projection.
        n_heads, n_layers, ff: Transformer encoder sizes.
        dropout: Transformer dropout.
        ts_dropout: Dropout after the LSTM (0.3 in the paper).
        missing: 'zero' (paper: the token is zeroed, still attended), 'mask' (key padding; the slot is dropped
            from attention and from the classifier input), 'token' (a learned missing embedding).
    """

    kind: ModelKind = "fusion"
    n_features: int = 48
    n_outputs: int = 1
    dense: tuple[tuple[str, int], ...] = (("cxr", 512),)
    image_input: ImageInput = "embedding"
    hidden: int = 256
    lstm_layers: int = 2
    d_model: int = 256
    n_heads: int = 8
    n_layers: int = 2
    ff: int = 1024
    dropout: float = 0.1
    ts_dropout: float = 0.3
    missing: MissingPolicy = "mask"

    def __post_init__(self) -> None:
        if self.missing not in ("zero", "mask", "token"):
            raise ValueError(f"missing={self.missing!r}: expected 'zero', 'mask' or 'token'")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")
        if self.n_features < 1 or self.n_outputs < 1:
            raise ValueError("n_features and n_outputs must be >= 1")

    @property
    def modalities(self) -> tuple[str, ...]:
        """Presence-mask column order: the time series first, then the dense modalities."""
        return ("timeseries", *(name for name, _ in self.dense))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation (paper: Adam betas (0.9, 0.9), lr 1e-4 mortality / 7e-5 phenotyping, batch 16).

    CPU defaults use a larger batch and lr so a few thousand stays train in minutes.

    Attributes:
        loss: 'uncertainty' (learned log σ² per task) or 'bce' (plain mean BCE).
        lr: Model learning rate.
        loss_lr: Learning rate of the log σ² parameters (their own group, 7e-4 in the paper).
        batch_size: Samples per step.
        max_epochs: Upper bound on epochs.
        patience: Epochs without a better tuning AUROC before stopping.
        weight_decay: Adam weight decay.
        seed: Initialisation, shuffling and dropout seed.
        threads: torch CPU threads.
    """

    loss: LossKind = "uncertainty"
    lr: float = 3e-4
    loss_lr: float = 7e-4
    batch_size: int = 64
    max_epochs: int = 30
    patience: int = 5
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 2

    def __post_init__(self) -> None:
        if self.loss not in ("uncertainty", "bce"):
            raise ValueError(f"loss={self.loss!r}: expected 'uncertainty' or 'bce'")
        if self.lr <= 0 or self.batch_size < 2 or self.max_epochs < 1 or self.patience < 1:
            raise ValueError("lr > 0, batch_size >= 2, max_epochs >= 1 and patience >= 1 are required")


@dataclass(frozen=True)
class PixelConfig:
    """X-ray pixels fed to a trainable trunk (end-to-end training) instead of frozen embeddings.

    Attributes:
        preprocess: Pixel pipeline (the embedding path's: 8-bit → CLAHE → resize → [0, 1]).
        on_unreadable: 'error' (default) raises naming the file; 'missing' marks that sample's X-ray absent.
        views: CXR views to use (the part after CXR//); None: every view.
        encoder_dir: Pretrained encoder folder (encoder.safetensors) to initialise the trunk; None: random init.
    """

    preprocess: ImagePreprocessConfig = field(default_factory=lambda: ImagePreprocessConfig(size=64))
    on_unreadable: OnUnreadable = "error"
    views: tuple[str, ...] | None = None
    encoder_dir: str | None = None

    def __post_init__(self) -> None:
        if self.on_unreadable not in ("error", "missing"):
            raise ValueError(f"on_unreadable={self.on_unreadable!r}: expected 'error' or 'missing'")


@dataclass(frozen=True)
class RunConfig:
    """One train-and-evaluate run: which data, which model, how to train.

    Attributes:
        meds_dir: MEDS cohort root.
        labels_dir: Output of model.data.labeling (samples/<task>.parquet).
        task: 'mortality' or 'phenotypes'.
        embeddings: (modality name, embedding folder) pairs in the index/vectors contract.
        cxr_pixels: Load the 'cxr' modality as pixels [N, 1, H, W] (trunk fine-tuned) instead of an embedding.
        out_dir: Where the checkpoint and metrics go.
        hours: Hours of the time-series window.
        drop_rate: Extra share of samples whose dense modalities are masked as missing (all splits; the sweep).
        drop_seed: Seed of that draw; fixed apart from the training seed so every seed and policy sees one draw.
        model: Model sizes.
        train: Optimisation settings.
    """

    meds_dir: str
    labels_dir: str
    task: str = "mortality"
    embeddings: tuple[tuple[str, str], ...] = ()
    cxr_pixels: PixelConfig | None = None
    out_dir: str = "runs/fusion"
    hours: int = 48
    drop_rate: float = 0.0
    drop_seed: int = 1000
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if self.task not in ("mortality", "phenotypes"):
            raise ValueError(f"task={self.task!r}: expected 'mortality' or 'phenotypes'")
        if not 0.0 <= self.drop_rate <= 1.0:
            raise ValueError(f"drop_rate={self.drop_rate}: expected a share in [0, 1]")
        if self.cxr_pixels is not None and any(name == "cxr" for name, _ in self.embeddings):
            raise ValueError("'cxr' given both as pixels and as an embedding folder")

    def to_dict(self) -> dict:
        """Plain dict of the whole run configuration (nested dataclasses included)."""
        return asdict(self)
