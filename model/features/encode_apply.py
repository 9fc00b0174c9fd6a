"""Apply fitted encoders to derived cells, vectorised over all columns at once (no per-row Python)."""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from model.features.derive import INT, RAW
from model.features.encode import Encoder

_MODES = {"mask": 0, "value": 1, "bins": 2, "cats": 3, "dummies": 4}
_CHUNK = 1 << 22


class EncodePlan:
    """Lookup tables compiled from a list of encoders (one table: S or X).

    Args:
        encoders: Fitted encoders in feature order.
        n_cols: Number of derived columns (ids 0..n_cols-1).
        extend: Cut out-of-range numbers into the outer bins.
    """

    def __init__(self, encoders: list[Encoder], n_cols: int, extend: bool = False) -> None:
        self.encoders = encoders
        self.extend = extend
        sizes = np.array([len(e.names) for e in encoders], dtype=np.int64)
        self.offset = np.concatenate([[0], np.cumsum(sizes)])[:-1] if len(encoders) else np.zeros(0, np.int64)
        self.n_features = int(sizes.sum())
        self.num_enc = np.full(n_cols + 1, -1, np.int64)
        self.str_enc = np.full(n_cols + 1, -1, np.int64)
        self.mode = np.array([_MODES[e.mode] for e in encoders], dtype=np.int64)
        raw_kind = np.zeros(len(encoders), bool)
        edges = np.full((len(encoders), 6), np.inf)
        n_edges = np.zeros(len(encoders), np.int64)
        bin_feat: list[np.ndarray] = []
        self.bin_off = np.zeros(len(encoders), np.int64)
        str_rows, num_rows, self.fills = [], [], []
        pos = 0
        for k, e in enumerate(encoders):
            if e.mode in ("mask", "value", "bins", "cats"):
                self.num_enc[e.col] = k
            if e.mode in ("bins", "cats", "dummies"):
                self.str_enc[e.col] = k
            raw_kind[k] = e.kind == RAW
            first_cat = self.offset[k] + (len(e.bins) if e.mode == "bins" else 0)
            for j, (is_text, v) in enumerate(e.cats):
                (str_rows if is_text else num_rows).append((e.col, v, int(first_cat + j)))
            if e.mode == "bins":
                n_edges[k] = len(e.edges)
                edges[k, : len(e.edges)] = e.edges
                table = np.full(len(e.edges) - 1, -1, np.int64)
                table[e.bins] = self.offset[k] + np.arange(len(e.bins))
                self.bin_off[k] = pos
                pos += len(table)
                bin_feat.append(table)
        self.raw_kind, self.edges, self.n_edges = raw_kind, edges, n_edges
        for k, e in enumerate(encoders):
            self._add_fill(k, e)
        self.bin_feat = np.concatenate(bin_feat) if bin_feat else np.zeros(0, np.int64)
        self.str_lookup = pl.DataFrame(str_rows, schema={"col": pl.UInt32, "raw": pl.String, "feat": pl.Int64},
                                       orient="row")
        self.num_lookup = pl.DataFrame(num_rows, schema={"col": pl.UInt32, "num": pl.Float64, "feat": pl.Int64},
                                       orient="row")

    def _add_fill(self, k: int, e: Encoder) -> None:
        """Cells without a number: the mean (value mode) or, for int columns, the feature of the value 0."""
        if e.mode == "value" and e.fill:
            self.fills.append((e.col, int(self.offset[k]), float(e.fill)))
        elif e.kind == INT and e.mode == "bins":
            b = self._bins(np.array([k]), np.array([0.0]))[0]
            if b >= 0 and b in e.bins:
                self.fills.append((e.col, int(self.offset[k] + e.bins.index(int(b))), 1.0))
        elif e.kind == INT and e.mode == "cats" and (False, 0.0) in e.cats:
            self.fills.append((e.col, int(self.offset[k] + e.cats.index((False, 0.0))), 1.0))

    def _bins(self, enc: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Bin index per value of bins-mode encoders `enc` (pd.cut, include_lowest), -1 when outside."""
        idx = np.zeros(len(v), np.int64)
        for j in range(self.edges.shape[1]):
            idx += self.edges[enc, j] < v
        idx[v == self.edges[enc, 0]] = 1
        top = self.n_edges[enc] - 1
        if self.extend:
            idx = np.clip(idx, 1, top)
        out = idx - 1
        out[(idx == 0) | (idx > top) | np.isnan(v)] = -1
        return out

    def apply(self, cells: pl.DataFrame, n_cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features of a batch of derived cells.

        Args:
            cells: col, cell, raw, num (from derive_static / derive_series).
            n_cells: Cells of this batch's table (IDs, or IDs x bins).

        Returns:
            COO triplets (cell, feature, value) without zeros, unsorted.
        """
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        nums = cells.filter(pl.col("num").is_not_null())
        col = nums["col"].to_numpy().astype(np.int64)
        enc = self.num_enc[col]
        mode = np.where(enc >= 0, self.mode[np.maximum(enc, 0)], -1)
        cell = nums["cell"].to_numpy()
        v = nums["num"].to_numpy()
        for code, val in ((0, None), (1, v)):
            m = mode == code
            parts.append((cell[m], self.offset[enc[m]], np.ones(int(m.sum())) if val is None else val[m]))
        m = np.flatnonzero(mode == 2)
        for s in range(0, len(m), _CHUNK):
            sel = m[s: s + _CHUNK]
            b = self._bins(enc[sel], v[sel])
            ok = b >= 0
            feat = self.bin_feat[self.bin_off[enc[sel][ok]] + b[ok]]
            keep = feat >= 0
            parts.append((cell[sel][ok][keep], feat[keep], np.ones(int(keep.sum()))))
        is_cat = mode == 3
        by_text = is_cat & self.raw_kind[np.maximum(enc, 0)] & ~nums["raw"].is_null().to_numpy()
        texts = pl.concat([
            nums.filter(pl.Series(by_text)).select("col", "cell", "raw"),
            cells.filter(pl.col("num").is_null() & pl.col("raw").is_not_null()).select("col", "cell", "raw"),
        ])
        for frame, lookup, key in ((texts, self.str_lookup, "raw"),
                                   (nums.filter(pl.Series(is_cat & ~by_text)), self.num_lookup, "num")):
            hit = frame.select("col", "cell", key).join(lookup, on=["col", key], how="inner")
            parts.append((hit["cell"].to_numpy(), hit["feat"].to_numpy(), np.ones(hit.height)))
        parts.extend(self._fill_parts(col, cell, n_cells))
        c = np.concatenate([p[0] for p in parts]).astype(np.int64)
        f = np.concatenate([p[1] for p in parts]).astype(np.int64)
        x = np.concatenate([p[2] for p in parts]).astype(np.float64)
        nz = x != 0
        return c[nz], f[nz], x[nz]

    def _fill_parts(self, col: np.ndarray, cell: np.ndarray, n_cells: int) -> list:
        """Triplets for cells where a filled column has no number (groups bound the dense presence mask)."""
        out: list = []
        if not self.fills or n_cells == 0:
            return out
        which = np.full(len(self.num_enc), -1, np.int64)
        which[[c for c, _, _ in self.fills]] = np.arange(len(self.fills))
        slot = which[col]
        per = max(1, (1 << 27) // n_cells)
        for g in range(0, len(self.fills), per):
            present = np.zeros((min(per, len(self.fills) - g), n_cells), bool)
            sel = (slot >= g) & (slot < g + per)
            present[slot[sel] - g, cell[sel]] = True
            for i, (_, feat, val) in enumerate(self.fills[g: g + per]):
                absent = np.flatnonzero(~present[i])
                out.append((absent, np.full(len(absent), feat), np.full(len(absent), val)))
        return out

    def to_csr(self, cells: pl.DataFrame, n_cells: int) -> sp.csr_matrix:
        """`apply`, assembled as a CSR matrix (n_cells x n_features) with sorted indices."""
        c, f, x = self.apply(cells, n_cells)
        m = sp.csr_matrix((x, (c, f)), shape=(n_cells, self.n_features))
        m.sort_indices()
        return m
