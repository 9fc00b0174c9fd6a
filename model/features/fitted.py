"""The fitted featurizer: everything learned from the training split, saved as one versioned JSON file.

Applying it (`model.features.featurize.transform_batch`) never looks at other data: bins, categories, imputation
means, kept variables and kept features are all read from here, so a single stay at serving time gets exactly
the features it gets inside a batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import DataValidationError
from model.features.config import FeaturizerConfig
from model.features.derive import Structure
from model.features.encode import Encoder
from model.io_atomic import write_json

FORMAT = "autofm-featurizer"
VERSION = 1


def _digest(d: dict[str, Any]) -> str:
    text = json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Table:
    """One output tensor (S / X, or p / M / E).

    Attributes:
        name: Table name.
        temporal: Whether rows are (ID, bin) rather than ID.
        encoders: Encoders of the table's derived columns, in feature order.
        keep: Indices (into all encoder features) kept by the post-filter, ascending.
        aliases: Dropped perfectly correlated features, by the kept feature they duplicate.
    """

    name: str
    temporal: bool
    encoders: list[Encoder]
    keep: list[int]
    aliases: dict[str, list[str]] = field(default_factory=dict)

    @property
    def all_names(self) -> list[str]:
        """Feature names before the post-filter."""
        return [n for e in self.encoders for n in e.names]

    @property
    def names(self) -> list[str]:
        """Feature names of the output."""
        names = self.all_names
        return [names[i] for i in self.keep]


@dataclass
class FittedFeaturizer:
    """What `fit` learned (see the module docstring)."""

    config: FeaturizerConfig
    types: dict[str, str]
    underscore: list[str]
    structure: Structure
    tables: dict[str, Table]
    var_tables: dict[str, str]
    static_table: str
    train: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        st = self.structure
        return {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "types": self.types,
            "underscore": self.underscore,
            "structure": {"invariant": list(st.invariant), "nonfrequent": list(st.nonfrequent),
                          "frequent": list(st.frequent)},
            "var_tables": self.var_tables,
            "static_table": self.static_table,
            "tables": {k: {"temporal": t.temporal, "encoders": [e.to_dict() for e in t.encoders], "keep": t.keep,
                           "aliases": t.aliases} for k, t in self.tables.items()},
            "train": self.train,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<dict>") -> FittedFeaturizer:
        """Inverse of `to_dict`.

        Raises:
            DataValidationError: Not a fitted featurizer of a version this code reads.
        """
        if d.get("format") != FORMAT or d.get("version") != VERSION:
            raise DataValidationError("not a fitted featurizer this version can read", file=source, field="format",
                                      expected=f"format {FORMAT!r}, version {VERSION}")
        cfg = FeaturizerConfig.from_dict(d["config"])
        s = d["structure"]
        st = Structure(tuple(s["invariant"]), tuple(s["nonfrequent"]), tuple(s["frequent"]), cfg.stats_functions)
        tables = {k: Table(k, t["temporal"], [Encoder.from_dict(e) for e in t["encoders"]], list(t["keep"]),
                           t.get("aliases", {})) for k, t in d["tables"].items()}
        return cls(cfg, d["types"], d["underscore"], st, tables, d["var_tables"], d["static_table"], d.get("train", {}))

    def save(self, path: str | Path) -> str:
        """Write the JSON atomically; returns its SHA-256 (a version id for lineage)."""
        d = self.to_dict()
        write_json(path, d)
        return _digest(d)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON."""
        return _digest(self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> FittedFeaturizer:
        """Read a saved featurizer.

        Raises:
            DataValidationError: Missing, unreadable or of the wrong format.
        """
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataValidationError(f"cannot read fitted featurizer: {exc}", file=str(path),
                                      expected="a JSON file written by FittedFeaturizer.save") from None
        return cls.from_dict(d, str(path))
