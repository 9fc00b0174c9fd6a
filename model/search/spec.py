"""The search space as data: which modalities exist, how they enter, and which task the heads solve.

Nothing here is hard-wired to the paper's four modalities: a chest X-ray embedding (or any other static or
sequential input) is one more ``ModalitySpec``. The config is plain data so that it round-trips through the
genotype JSON and can be built from ``params.yaml`` at an entry point.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ModalityKind = Literal["sequential", "static"]
InputKind = Literal["sparse", "dense"]
TaskKind = Literal["binary", "multilabel"]
MultilabelLoss = Literal["bce", "softmax"]


@dataclass(frozen=True)
class ModalitySpec:
    """One input modality.

    Args:
        name: Unique name, e.g. ``"events_cont"``; used as key in batches, genotypes and weights.
        kind: ``"sequential"`` ([B, T, D] per sample) or ``"static"`` ([B, D]).
        input_kind: ``"sparse"`` for wide binary FIDDLE inputs given embedding-bag style (index/offset), or
            ``"dense"`` for embeddings such as a note [CLS] vector or an X-ray embedding.
        dim: Input feature width D.
    """

    name: str
    kind: ModalityKind
    input_kind: InputKind
    dim: int

    def __post_init__(self) -> None:
        if not self.name or "." in self.name:
            raise ValueError(f"modality name {self.name!r} must be non-empty and contain no '.'")
        if self.kind not in ("sequential", "static"):
            raise ValueError(f"modality {self.name}: kind must be 'sequential' or 'static', got {self.kind!r}")
        if self.input_kind not in ("sparse", "dense"):
            raise ValueError(f"modality {self.name}: input_kind must be 'sparse' or 'dense', got {self.input_kind!r}")
        if self.dim <= 0:
            raise ValueError(f"modality {self.name}: dim must be positive, got {self.dim}")


@dataclass(frozen=True)
class TaskSpec:
    """Prediction head.

    Args:
        kind: ``"binary"`` (one or more independent binary tasks, sigmoid, Eq. 3.6) or ``"multilabel"``.
        n_outputs: Number of logits (1 for a single binary task; 1,025 for the paper's diagnoses).
        multilabel_loss: ``"softmax"`` follows Eq. 3.7 (softmax over labels, cross-entropy against the
            normalised label vector); ``"bce"`` uses independent sigmoids.
    """

    kind: TaskKind = "binary"
    n_outputs: int = 1
    multilabel_loss: MultilabelLoss = "softmax"

    def __post_init__(self) -> None:
        if self.kind not in ("binary", "multilabel"):
            raise ValueError(f"task kind must be 'binary' or 'multilabel', got {self.kind!r}")
        if self.n_outputs <= 0:
            raise ValueError(f"n_outputs must be positive, got {self.n_outputs}")
        if self.multilabel_loss not in ("bce", "softmax"):
            raise ValueError(f"multilabel_loss must be 'bce' or 'softmax', got {self.multilabel_loss!r}")


@dataclass(frozen=True)
class SearchSpaceConfig:
    """Sizes and candidate sets of the AutoFM search space (defaults: the paper's).

    Args:
        modalities: The inputs, in the column order of the presence mask.
        task: The prediction head.
        d_e: Shared latent width (paper: 256).
        n_layers: K, mixed-op layers per modality cell (paper: 2).
        n_nodes: C, fusion DAG nodes (paper: 3).
        rnn: ``"gru"`` (paper) or ``"lstm"`` (the authors' code) for the recurrent sequential op.
        n_heads: Attention heads in the attention ops (paper formula: 1).
        embed_dropout: Dropout after each input embedding.
        static_ops / seq_ops: Enabled op families (see ``model.search.ops``); interaction families expand to
            one op per partner modality.
        residual_ops: Every non-identity cell op computes ``x + o(x)`` (the authors' code does this). A mixed
            layer is then ``x + sum_o w_o o(x)``: the modality's own signal passes at weight 1 whatever the
            mixing weights, so discretising an edge cannot cut it (with ``o(x)`` alone an attention op chosen on
            both layers of a static cell discards the modality's own content).
        pooling: How a sequential cell's output becomes one vector: ``"max"`` over valid steps (the paper) or
            ``"max_mean"``, a learned projection of the max and the mean (the mean keeps how long a state lasted,
            which the max drops).
    """

    modalities: tuple[ModalitySpec, ...]
    task: TaskSpec = field(default_factory=TaskSpec)
    d_e: int = 256
    n_layers: int = 2
    n_nodes: int = 3
    rnn: Literal["gru", "lstm"] = "gru"
    n_heads: int = 1
    embed_dropout: float = 0.1
    static_ops: tuple[str, ...] = ("identity", "linear_relu", "static_static", "static_seq_attn")
    seq_ops: tuple[str, ...] = ("identity", "rnn", "self_attn", "conv1d", "ffn", "seq_seq_attn")
    residual_ops: bool = True
    pooling: Literal["max", "max_mean"] = "max"

    def __post_init__(self) -> None:
        names = [m.name for m in self.modalities]
        if not names:
            raise ValueError("at least one modality is required")
        if len(set(names)) != len(names):
            raise ValueError(f"modality names must be unique, got {names}")
        for label, value in (("d_e", self.d_e), ("n_layers", self.n_layers), ("n_nodes", self.n_nodes)):
            if value <= 0:
                raise ValueError(f"{label} must be positive, got {value}")
        if self.rnn not in ("gru", "lstm"):
            raise ValueError(f"rnn must be 'gru' or 'lstm', got {self.rnn!r}")
        if self.pooling not in ("max", "max_mean"):
            raise ValueError(f"pooling must be 'max' or 'max_mean', got {self.pooling!r}")
        if self.d_e % self.n_heads:
            raise ValueError(f"d_e={self.d_e} must be divisible by n_heads={self.n_heads}")

    @property
    def modality_names(self) -> list[str]:
        """Modality names in presence-mask column order."""
        return [m.name for m in self.modalities]

    def modality(self, name: str) -> ModalitySpec:
        """Look a modality up by name.

        Raises:
            KeyError: Unknown name.
        """
        for m in self.modalities:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSpaceConfig:
        """Inverse of ``to_dict``."""
        data = dict(data)
        data["modalities"] = tuple(ModalitySpec(**m) for m in data["modalities"])
        data["task"] = TaskSpec(**data["task"])
        data["static_ops"] = tuple(data.get("static_ops", cls.static_ops))
        data["seq_ops"] = tuple(data.get("seq_ops", cls.seq_ops))
        data.setdefault("residual_ops", False)  # genotypes written before the option had plain ops
        return cls(**data)


def paper_modalities(d1: int = 4452, d2: int = 680, d3: int = 96, note_dim: int = 768,
                     cxr_dim: int | None = None) -> tuple[ModalitySpec, ...]:
    """The paper's modalities (default sizes: ARF 12 h), optionally with a chest X-ray embedding.

    Args:
        d1: Width of the continuous (point-time) event features M.
        d2: Width of the discrete (interval) event features E.
        d3: Width of the demographics p.
        note_dim: Width of the note embedding n.
        cxr_dim: Width of an X-ray embedding; ``None`` leaves the modality out.

    Returns:
        The modality specs in presence-mask order.
    """
    mods = [
        ModalitySpec("events_cont", "sequential", "sparse", d1),
        ModalitySpec("events_disc", "sequential", "sparse", d2),
        ModalitySpec("demographics", "static", "dense", d3),
        ModalitySpec("notes", "static", "dense", note_dim),
    ]
    if cxr_dim is not None:
        mods.append(ModalitySpec("cxr", "static", "dense", cxr_dim))
    return tuple(mods)
