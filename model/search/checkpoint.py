"""Search checkpoints without pickle: tensors in safetensors, scalars and history in JSON, written atomically.

A checkpoint directory holds ``model.safetensors`` (supernet weights, architecture logits, alive masks),
``optim.safetensors`` (Adam moments and step counts of both optimisers), optionally ``best.safetensors`` (the
best-so-far supernet state) and ``state.json`` (epoch, history, optimiser hyper-parameters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from model.io_atomic import atomic_dir


def state_to_cpu(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Detached, contiguous CPU clones (safe to keep while training goes on)."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def optimizer_tensors(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split an optimiser state dict into flat tensors and JSON-able hyper-parameters."""
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for name, value in st.items():
            t = value if isinstance(value, Tensor) else torch.tensor(value)
            tensors[f"{prefix}.{idx}.{name}"] = t.detach().cpu().contiguous()
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups}


def load_optimizer(opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    """Inverse of ``optimizer_tensors``."""
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        head, idx, name = key.split(".", 2)
        if head == prefix:
            state.setdefault(int(idx), {})[name] = value
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    opt.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(directory: str | Path, model_state: dict[str, Tensor], optimizers: dict[str, torch.optim.Optimizer],
                    meta: dict[str, Any], best_state: dict[str, Tensor] | None = None) -> None:
    """Write (replace) a checkpoint directory atomically."""
    tensors: dict[str, Tensor] = {}
    opt_meta = {}
    for name, opt in optimizers.items():
        t, m = optimizer_tensors(opt, name)
        tensors.update(t)
        opt_meta[name] = m
    with atomic_dir(directory, overwrite=True) as tmp:
        save_file(state_to_cpu(model_state), str(tmp / "model.safetensors"))
        save_file(tensors, str(tmp / "optim.safetensors"))
        if best_state is not None:
            save_file(state_to_cpu(best_state), str(tmp / "best.safetensors"))
        (tmp / "state.json").write_text(json.dumps({**meta, "optimizers": opt_meta}, indent=2))


def load_checkpoint(directory: str | Path) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Any],
                                                    dict[str, Tensor] | None]:
    """Read a checkpoint: (model state, optimiser tensors, meta, best state or None)."""
    directory = Path(directory)
    best = directory / "best.safetensors"
    return (load_file(str(directory / "model.safetensors")), load_file(str(directory / "optim.safetensors")),
            json.loads((directory / "state.json").read_text()), load_file(str(best)) if best.exists() else None)
