"""Content-addressed vector cache: reruns skip texts/images already encoded with the same settings."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from model.io_atomic import atomic_file


def content_key(*parts: str | bytes) -> str:
    """sha256 over the parts, each length-prefixed so ('ab', 'c') and ('a', 'bc') differ."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


class VectorCache:
    """One .npy file per key under `root/<key[:2]>/`; a disabled cache (root None) stores nothing.

    Args:
        root: Cache folder, or None to disable.
    """

    def __init__(self, root: str | Path | None) -> None:
        self.root = None if root is None else Path(root)
        self.hits = 0

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached vector for `key`, or None (also when the file is damaged: it is then recomputed)."""
        if self.root is None:
            return None
        path = self._path(key)
        if not path.exists():
            return None
        try:
            vec = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        self.hits += 1
        return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        """Store `vec` atomically (a crash never leaves a half-written entry)."""
        if self.root is None:
            return
        with atomic_file(self._path(key), "wb") as fh:
            np.save(fh, np.asarray(vec, dtype=np.float32), allow_pickle=False)
