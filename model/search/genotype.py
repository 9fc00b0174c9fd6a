"""The discrete architecture ("genotype"): human-readable, schema-versioned JSON, validated on load.

Example (abridged)::

    {"schema_version": 1, "method": "autofm_prune",
     "cells": {"events_cont": ["rnn", "seq_seq_attn:events_disc"], "notes": ["identity", "linear_relu"]},
     "nodes": [{"inputs": ["events_cont", "notes"], "op": "attentive_sum"}, ...],
     "config": {...the SearchSpaceConfig...}}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.io_atomic import atomic_file
from model.search.fusion import FUSION_OPS, node_input_names
from model.search.ops import candidate_ops
from model.search.spec import SearchSpaceConfig

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FusionNodeGene:
    """One fusion node: the inputs its selectors kept (modality names or ``g1``, ``g2``...) and its fusion op."""

    inputs: tuple[str, ...]
    op: str


@dataclass(frozen=True)
class Genotype:
    """A derived architecture.

    Args:
        config: The search space it was derived from (sizes, modalities, task).
        cells: Per modality, the chosen op of each of the K layers.
        nodes: The C fusion nodes in order.
        method: How it was derived (``"autofm_prune"``, ``"darts_argmax"``, ``"darts_pt"``).
    """

    config: SearchSpaceConfig
    cells: dict[str, tuple[str, ...]]
    nodes: tuple[FusionNodeGene, ...]
    method: str = "autofm_prune"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every choice against the search space.

        Raises:
            ValueError: A modality, op or input is unknown or misplaced.
        """
        cfg = self.config
        if set(self.cells) != set(cfg.modality_names):
            raise ValueError(f"genotype cells {sorted(self.cells)} != modalities {sorted(cfg.modality_names)}")
        for name, ops in self.cells.items():
            allowed = candidate_ops(cfg, name)
            if len(ops) != cfg.n_layers:
                raise ValueError(f"cell {name}: {len(ops)} ops for {cfg.n_layers} layers")
            for op in ops:
                if op not in allowed:
                    raise ValueError(f"cell {name}: op {op!r} not among {allowed}")
        if len(self.nodes) != cfg.n_nodes:
            raise ValueError(f"{len(self.nodes)} fusion nodes for n_nodes={cfg.n_nodes}")
        for c, node in enumerate(self.nodes):
            allowed_inputs = node_input_names(cfg.modality_names, c)
            bad = [i for i in node.inputs if i not in allowed_inputs]
            if bad or len(set(node.inputs)) != len(node.inputs):
                raise ValueError(f"node g{c + 1}: inputs {list(node.inputs)} must be distinct, from {allowed_inputs}")
            if node.op not in FUSION_OPS:
                raise ValueError(f"node g{c + 1}: fusion op {node.op!r} not among {sorted(FUSION_OPS)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict with the schema version first."""
        return {
            "schema_version": SCHEMA_VERSION,
            "method": self.method,
            "cells": {k: list(v) for k, v in self.cells.items()},
            "nodes": [{"inputs": list(n.inputs), "op": n.op} for n in self.nodes],
            "config": self.config.to_dict(),
        }

    def to_json(self) -> str:
        """Indented JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def digest(self) -> str:
        """Short content hash (for labels and logs)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Genotype:
        """Parse and validate.

        Raises:
            ValueError: Wrong schema version or invalid content.
        """
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"genotype schema_version {version!r} is not supported (expected {SCHEMA_VERSION})")
        try:
            config = SearchSpaceConfig.from_dict(data["config"])
            cells = {k: tuple(v) for k, v in data["cells"].items()}
            nodes = tuple(FusionNodeGene(tuple(n["inputs"]), n["op"]) for n in data["nodes"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed genotype: {exc!r}") from exc
        return cls(config, cells, nodes, data.get("method", "unknown"))

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        """Inverse of ``to_json``."""
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        """Write the JSON atomically."""
        with atomic_file(path) as fh:
            fh.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Genotype:
        """Read a genotype JSON file."""
        return cls.from_json(Path(path).read_text())
