"""The grayscale ResNet-34 X-ray encoder (MONAI) and its safetensors + JSON persistence (never pickle).

Layout of a weights folder: encoder.safetensors (trunk + 14-finding head) and encoder.json (architecture,
preprocessing, finding names, training summary). Embedding uses the trunk's 512-d penultimate features.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from model.embed.config import ImagePreprocessConfig
from model.errors import DataValidationError
from model.io_atomic import atomic_dir

WEIGHTS_FILE, CONFIG_FILE = "encoder.safetensors", "encoder.json"
FEATURE_DIM = 512
# Fixed intensity normalisation of the [0, 1] CLAHE output: centres inputs for BatchNorm at initialisation.
PIXEL_MEAN, PIXEL_STD = 0.5, 0.25


def build_resnet34_trunk() -> nn.Module:
    """MONAI ResNet-34, 1 input channel, without its classifier: [B, 1, H, W] → [B, 512].

    conv1_t_stride=2 gives the standard (torchvision/paper) stem; MONAI's default stride 1 costs ~4× the FLOPs.
    """
    from monai.networks.nets import resnet34

    return resnet34(spatial_dims=2, n_input_channels=1, num_classes=14, conv1_t_stride=2, feed_forward=False)


class CxrEncoder(nn.Module):
    """ResNet-34 trunk plus a linear head over the finding labels.

    Args:
        n_findings: Number of finding labels of the pretraining head.
    """

    def __init__(self, n_findings: int = 14) -> None:
        super().__init__()
        self.trunk = build_resnet34_trunk()
        self.head = nn.Linear(FEATURE_DIM, n_findings)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1], [B, 1, H, W] → penultimate features [B, 512]."""
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(f"images must be [B, 1, H, W], got {tuple(x.shape)}")
        return self.trunk((x - PIXEL_MEAN) / PIXEL_STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Finding logits [B, n_findings]."""
        return self.head(self.features(x))


def save_encoder(model: CxrEncoder, out_dir: str | Path, *, findings: list[str], preprocess: ImagePreprocessConfig,
                 summary: dict[str, Any]) -> None:
    """Write encoder.safetensors + encoder.json atomically into `out_dir`."""
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    cfg = {"architecture": "monai.resnet34", "spatial_dims": 2, "n_input_channels": 1, "conv1_t_stride": 2,
           "feature_dim": FEATURE_DIM, "findings": findings, "preprocess": asdict(preprocess), "summary": summary,
           "pixel_mean": PIXEL_MEAN, "pixel_std": PIXEL_STD}
    with atomic_dir(out_dir, overwrite=True) as tmp:
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": "pt"})
        (tmp / CONFIG_FILE).write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def load_encoder(weights_dir: str | Path) -> tuple[CxrEncoder, dict[str, Any]]:
    """Load a saved encoder in eval mode.

    Raises:
        DataValidationError: A file is missing, or the weights do not fit the architecture (names the file).
    """
    weights_dir = Path(weights_dir)
    cfg_path, w_path = weights_dir / CONFIG_FILE, weights_dir / WEIGHTS_FILE
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise DataValidationError("encoder file missing", file=str(p))
    cfg = json.loads(cfg_path.read_text())
    model = CxrEncoder(n_findings=len(cfg["findings"]))
    try:
        model.load_state_dict(load_file(str(w_path)))
    except (RuntimeError, OSError) as exc:
        raise DataValidationError(f"weights do not match the architecture ({type(exc).__name__})",
                                  file=str(w_path)) from exc
    return model.eval(), cfg
