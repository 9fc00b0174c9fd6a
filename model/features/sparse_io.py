"""Sparse tensors on disk without pickles.

- FIDDLE's `.npz` (pydata `sparse.save_npz` of a COO array: keys coords, data, shape, fill_value), so
  `sparse.load_npz("X.npz")` reads our drop-in output.
- Our shards: scipy CSR matrices (`scipy.sparse.save_npz`), rows = IDs or ID-major (ID, bin) pairs, so a
  mini-batch of IDs is a contiguous row slice.
Both are read back with `allow_pickle=False`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from model.io_atomic import atomic_file


def save_fiddle_coo(path: str | Path, m: sp.csr_matrix, L: int | None, dtype: type = np.float64) -> None:
    """Write a CSR table as FIDDLE's COO `.npz`: shape (N, D) for S, (N, L, D) for X.

    Args:
        path: Target file (written atomically).
        m: (N, D) or (N * L, D) matrix with ID-major rows.
        L: Bins per ID for X, or None for S.
        dtype: Value dtype (FIDDLE: int64 when discretized, float64 otherwise).
    """
    coo = m.tocoo()
    order = np.lexsort((coo.col, coo.row))
    row, col = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)
    data = coo.data[order].astype(dtype)
    if L is None:
        coords, shape = np.stack([row, col]), (m.shape[0], m.shape[1])
    else:
        coords, shape = np.stack([row // L, row % L, col]), (m.shape[0] // L, L, m.shape[1])
    with atomic_file(path, "wb") as fh:
        np.savez_compressed(fh, data=data, shape=np.asarray(shape, np.int64), fill_value=np.zeros((), dtype),
                            coords=coords)


def load_fiddle_coo(path: str | Path) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Read FIDDLE's COO `.npz`: (coords [ndim x nnz], data, shape)."""
    with np.load(path, allow_pickle=False) as z:
        return z["coords"], z["data"], tuple(int(s) for s in z["shape"])


def fiddle_coo_to_dense(path: str | Path) -> np.ndarray:
    """Dense array of a small FIDDLE `.npz` (tests and inspection only)."""
    coords, data, shape = load_fiddle_coo(path)
    out = np.zeros(shape, dtype=data.dtype)
    out[tuple(coords)] = data
    return out


def save_csr(path: str | Path, m: sp.csr_matrix, compressed: bool = True) -> None:
    """Write a CSR matrix (scipy's npz format) atomically."""
    with atomic_file(path, "wb") as fh:
        sp.save_npz(fh, m.tocsr(), compressed=compressed)


def load_csr(path: str | Path) -> sp.csr_matrix:
    """Read a CSR matrix written by `save_csr`."""
    return sp.load_npz(path).tocsr()
