"""The batch the AutoFM models take: sparse binary sequences embedding-bag style, dense statics, presence mask.

A wide, mostly-zero FIDDLE input [B, T, D] is given by its non-zeros only: bag ``b * T + t`` holds the feature
indices active for sample ``b`` at time step ``t`` (``torch.nn.EmbeddingBag`` layout), so the embedding costs
O(nnz * d_e) instead of O(B * T * D * d_e).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from model.search.spec import SearchSpaceConfig


@dataclass(frozen=True)
class SparseSequence:
    """A [B, T, D] sparse input as bags of active feature indices, one bag per (sample, time step).

    Args:
        indices: int64 [nnz], feature indices in [0, D).
        offsets: int64 [B * T], start of each bag in ``indices`` (bag ``b * T + t``), non-decreasing.
        batch_size: B.
        n_steps: T.
        lengths: int64 [B], valid (unpadded, left-aligned) time steps per sample.
        values: Optional float [nnz] feature values; ``None`` means binary (all ones).
    """

    indices: Tensor
    offsets: Tensor
    batch_size: int
    n_steps: int
    lengths: Tensor
    values: Tensor | None = None

    @classmethod
    def from_dense(cls, x: Tensor, lengths: Tensor | None = None) -> SparseSequence:
        """Build from a dense [B, T, D] tensor (tests and small data; keeps non-binary values).

        Args:
            x: Dense input.
            lengths: Valid steps per sample; default all T.
        """
        if x.dim() != 3:
            raise ValueError(f"expected a [B, T, D] tensor, got shape {tuple(x.shape)}")
        b, t, d = x.shape
        flat = x.reshape(b * t, d)
        rows, cols = flat.nonzero(as_tuple=True)
        counts = torch.bincount(rows, minlength=b * t)
        offsets = torch.cumsum(counts, 0) - counts
        vals = flat[rows, cols]
        binary = bool(((vals == 1).all()).item())
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long)
        return cls(cols.long(), offsets.long(), b, t, lengths.long(), None if binary else vals.float())

    def to_dense(self, dim: int) -> Tensor:
        """Dense [B, T, D] float tensor (tests only)."""
        out = torch.zeros(self.batch_size * self.n_steps, dim)
        counts = torch.diff(self.offsets, append=torch.tensor([self.indices.numel()]))
        rows = torch.repeat_interleave(torch.arange(self.batch_size * self.n_steps), counts)
        vals = torch.ones(self.indices.numel()) if self.values is None else self.values.float()
        out.index_put_((rows, self.indices), vals, accumulate=True)
        return out.reshape(self.batch_size, self.n_steps, dim)

    def step_mask(self) -> Tensor:
        """Bool [B, T]: True on valid (unpadded) time steps."""
        return torch.arange(self.n_steps, device=self.lengths.device)[None, :] < self.lengths[:, None]

    def validate(self, name: str, dim: int, batch_size: int) -> None:
        """Raise ValueError when the layout is inconsistent."""
        if self.batch_size != batch_size:
            raise ValueError(f"{name}: batch size {self.batch_size} != presence mask batch size {batch_size}")
        if self.indices.dim() != 1 or self.offsets.dim() != 1:
            raise ValueError(f"{name}: indices and offsets must be 1-D")
        if self.offsets.numel() != self.batch_size * self.n_steps:
            raise ValueError(f"{name}: offsets has {self.offsets.numel()} entries, expected B*T = "
                             f"{self.batch_size * self.n_steps}")
        if self.lengths.shape != (self.batch_size,):
            raise ValueError(f"{name}: lengths must have shape [{self.batch_size}], got {tuple(self.lengths.shape)}")
        if self.offsets.numel() and (int(self.offsets[0]) != 0 or bool((self.offsets.diff() < 0).any())
                                     or int(self.offsets[-1]) > self.indices.numel()):
            raise ValueError(f"{name}: offsets must start at 0, be non-decreasing and stay within indices")
        if self.indices.numel() and (int(self.indices.min()) < 0 or int(self.indices.max()) >= dim):
            raise ValueError(f"{name}: feature indices must lie in [0, {dim})")
        if self.values is not None and self.values.shape != self.indices.shape:
            raise ValueError(f"{name}: values must match indices in shape")
        if bool(((self.lengths < 0) | (self.lengths > self.n_steps)).any()):
            raise ValueError(f"{name}: lengths must lie in [0, {self.n_steps}]")

    def to(self, device: torch.device | str) -> SparseSequence:
        """Copy to a device."""
        vals = None if self.values is None else self.values.to(device)
        return replace(self, indices=self.indices.to(device), offsets=self.offsets.to(device),
                       lengths=self.lengths.to(device), values=vals)


@dataclass(frozen=True)
class DenseSequence:
    """A dense [B, T, D] sequential input with its valid lengths [B]."""

    values: Tensor
    lengths: Tensor

    def step_mask(self) -> Tensor:
        """Bool [B, T]: True on valid time steps."""
        return torch.arange(self.values.shape[1], device=self.lengths.device)[None, :] < self.lengths[:, None]


ModalityInput = SparseSequence | DenseSequence | Tensor


@dataclass(frozen=True)
class MultimodalBatch:
    """One batch for the supernet and the derived model.

    Args:
        inputs: Per modality name: ``SparseSequence`` / ``DenseSequence`` for sequential modalities, a
            [B, D] tensor (dense) or a ``SparseSequence`` with T = 1 (sparse) for static ones. A modality
            absent from every sample may be left out.
        presence: Bool [B, M], per-sample modality presence in ``config.modalities`` order.
        labels: Float [B, n_outputs] (or [B] for one binary task), or ``None`` at inference.
    """

    inputs: dict[str, ModalityInput]
    presence: Tensor
    labels: Tensor | None = None

    @property
    def batch_size(self) -> int:
        """B."""
        return int(self.presence.shape[0])

    def validate(self, config: SearchSpaceConfig) -> None:
        """Check shapes and kinds against the config; raise ValueError naming the modality at fault."""
        names = config.modality_names
        if self.presence.dim() != 2 or self.presence.shape[1] != len(names):
            raise ValueError(f"presence mask must have shape [B, {len(names)}] (modalities {names}), "
                             f"got {tuple(self.presence.shape)}")
        if self.presence.dtype != torch.bool:
            raise ValueError(f"presence mask must be bool, got {self.presence.dtype}")
        b = self.batch_size
        unknown = set(self.inputs) - set(names)
        if unknown:
            raise ValueError(f"unknown modalities in batch: {sorted(unknown)}")
        for j, spec in enumerate(config.modalities):
            x = self.inputs.get(spec.name)
            if x is None:
                if bool(self.presence[:, j].any()):
                    raise ValueError(f"{spec.name}: marked present but no input given")
                continue
            if isinstance(x, SparseSequence):
                x.validate(spec.name, spec.dim, b)
                if spec.kind == "static" and x.n_steps != 1:
                    raise ValueError(f"{spec.name}: a sparse static input must have T = 1")
            elif isinstance(x, DenseSequence):
                if spec.kind != "sequential" or x.values.dim() != 3 or x.values.shape[0] != b \
                        or x.values.shape[2] != spec.dim or x.lengths.shape != (b,):
                    raise ValueError(f"{spec.name}: expected DenseSequence values [{b}, T, {spec.dim}] and "
                                     f"lengths [{b}] for a sequential modality")
            elif isinstance(x, Tensor):
                if spec.kind != "static" or tuple(x.shape) != (b, spec.dim):
                    raise ValueError(f"{spec.name}: expected a static tensor of shape [{b}, {spec.dim}], "
                                     f"got {tuple(x.shape)} for a {spec.kind} modality")
            else:
                raise ValueError(f"{spec.name}: unsupported input type {type(x).__name__}")
        if self.labels is not None:
            n = config.task.n_outputs
            ok = tuple(self.labels.shape) in ((b, n),) + (((b,),) if n == 1 else ())
            if not ok:
                raise ValueError(f"labels must have shape [{b}, {n}], got {tuple(self.labels.shape)}")

    def targets(self) -> Tensor:
        """Labels as float [B, n_outputs].

        Raises:
            ValueError: The batch has no labels.
        """
        if self.labels is None:
            raise ValueError("batch has no labels")
        y = self.labels.float()
        return y[:, None] if y.dim() == 1 else y

    def to(self, device: torch.device | str) -> MultimodalBatch:
        """Copy to a device."""
        inputs: dict[str, ModalityInput] = {}
        for k, v in self.inputs.items():
            if isinstance(v, DenseSequence):
                inputs[k] = DenseSequence(v.values.to(device), v.lengths.to(device))
            else:
                inputs[k] = v.to(device)
        labels = None if self.labels is None else self.labels.to(device)
        return MultimodalBatch(inputs, self.presence.to(device), labels)
