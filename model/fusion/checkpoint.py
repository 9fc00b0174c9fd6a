"""Checkpoints as safetensors (weights) + JSON (configuration, standardiser, labels): never pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import nn

from model.errors import DataValidationError
from model.fusion.baselines import build_model
from model.fusion.config import ModelConfig
from model.fusion.loss import MultiTaskLoss

WEIGHTS, CONFIG = "model.safetensors", "model.json"


def save_checkpoint(folder: Path, model: nn.Module, loss_fn: MultiTaskLoss, info: dict[str, Any]) -> None:
    """Write weights (model + 'loss.' log σ²) and `info` (must hold 'model_config') into an existing folder."""
    state = {f"model.{k}": v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    state["loss.log_var"] = loss_fn.log_var.detach().contiguous().cpu()
    save_file(state, str(folder / WEIGHTS), metadata={"format": "pt"})
    (folder / CONFIG).write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")


def load_checkpoint(folder: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model from model.json and load its weights (eval mode).

    Raises:
        DataValidationError: A file is missing or the weights do not fit the configuration (names the file).
    """
    folder = Path(folder)
    for name in (WEIGHTS, CONFIG):
        if not (folder / name).is_file():
            raise DataValidationError("checkpoint file missing", file=str(folder / name))
    info = json.loads((folder / CONFIG).read_text())
    mc = dict(info["model_config"])
    mc["dense"] = tuple(tuple(x) for x in mc["dense"])
    model = build_model(ModelConfig(**mc))
    state = load_file(str(folder / WEIGHTS))
    try:
        model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
    except RuntimeError as exc:
        raise DataValidationError("weights do not match model.json", file=str(folder / WEIGHTS)) from exc
    return model.eval(), info


def n_parameters(model: nn.Module) -> int:
    """Trainable parameter count."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

