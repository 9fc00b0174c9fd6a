"""Plain-tensor cohorts for tests and benchmarks: random sparse inputs, optionally with a planted signal.

Sparse sequences are stored CSR-style over samples (``ptr``) with one (time step, feature) pair per non-zero,
so a batch is a gather plus an offset computation, never a dense [B, T, D] tensor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from model.search.batch import MultimodalBatch, SparseSequence
from model.search.spec import SearchSpaceConfig


@dataclass
class SparseStore:
    """Non-zeros of a sparse sequential modality for N samples: sample i owns ``[ptr[i], ptr[i+1])``."""

    ptr: np.ndarray
    step: np.ndarray
    feat: np.ndarray
    lengths: np.ndarray
    n_steps: int


@dataclass
class ToyCohort:
    """A cohort in memory.

    Attributes:
        config: The search space the inputs fit.
        sparse: Sparse sequential modalities.
        dense: Static modalities as [N, D] float32 arrays.
        presence: Bool [N, M].
        labels: Float [N, n_outputs].
        prob: True outcome probability [N] (planted tasks; the oracle), else ``None``.
    """

    config: SearchSpaceConfig
    sparse: dict[str, SparseStore]
    dense: dict[str, np.ndarray]
    presence: np.ndarray
    labels: np.ndarray
    prob: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.presence.shape[0])

    def batch(self, idx: np.ndarray) -> MultimodalBatch:
        """Assemble the samples ``idx`` into a batch."""
        inputs: dict = {}
        b = len(idx)
        for name, st in self.sparse.items():
            starts, ends = st.ptr[idx], st.ptr[idx + 1]
            counts = ends - starts
            sel = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if b else np.zeros(0, int)
            pos = np.repeat(np.arange(b), counts)
            bag = pos * st.n_steps + st.step[sel]
            order = np.argsort(bag, kind="stable")
            bag, feats = bag[order], st.feat[sel][order]
            bag_counts = np.bincount(bag, minlength=b * st.n_steps)
            offsets = np.cumsum(bag_counts) - bag_counts
            inputs[name] = SparseSequence(torch.from_numpy(feats.astype(np.int64)),
                                          torch.from_numpy(offsets.astype(np.int64)), b, st.n_steps,
                                          torch.from_numpy(st.lengths[idx].astype(np.int64)))
        for name, arr in self.dense.items():
            inputs[name] = torch.from_numpy(arr[idx])
        return MultimodalBatch(inputs, torch.from_numpy(self.presence[idx]), torch.from_numpy(self.labels[idx]))


def iterate_batches(cohort: ToyCohort, idx: np.ndarray, batch_size: int, seed: int | None = None
                    ) -> Iterator[MultimodalBatch]:
    """Batches over ``idx``, shuffled with ``seed`` (None: in order)."""
    order = np.asarray(idx)
    if seed is not None:
        order = order[np.random.default_rng(seed).permutation(len(order))]
    for i in range(0, len(order), batch_size):
        yield cohort.batch(order[i:i + batch_size])


def _random_sparse(rng: np.random.Generator, n: int, n_steps: int, dim: int, density: float,
                   min_len: int) -> SparseStore:
    lengths = rng.integers(min_len, n_steps + 1, size=n)
    per_step = rng.binomial(dim, density, size=(n, n_steps)) * (np.arange(n_steps)[None] < lengths[:, None])
    counts = per_step.sum(axis=1)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    step = np.repeat(np.tile(np.arange(n_steps), n), per_step.reshape(-1))
    feat = rng.integers(0, dim, size=int(ptr[-1]))
    return SparseStore(ptr, step, feat, lengths, n_steps)


def random_cohort(config: SearchSpaceConfig, n: int, n_steps: int, density: float = 0.03, seed: int = 0,
                  p_present: float = 1.0, min_len: int | None = None) -> ToyCohort:
    """Random inputs and random labels (benchmarks; shape tests).

    Args:
        config: Search space (sparse modalities must be sequential).
        n: Samples.
        n_steps: T.
        density: Share of non-zeros of each sparse input per step.
        seed: RNG seed.
        p_present: Probability that a modality is present (per sample, per modality).
        min_len: Shortest valid length (default: T, i.e. no padding).
    """
    rng = np.random.default_rng(seed)
    sparse, dense = {}, {}
    for m in config.modalities:
        if m.kind == "sequential":
            sparse[m.name] = _random_sparse(rng, n, n_steps, m.dim, density, n_steps if min_len is None else min_len)
        else:
            dense[m.name] = rng.standard_normal((n, m.dim)).astype(np.float32)
    presence = rng.random((n, len(config.modalities))) < p_present
    labels = (rng.random((n, config.task.n_outputs)) < 0.2).astype(np.float32)
    return ToyCohort(config, sparse, dense, presence, labels)


def planted_cohort(config: SearchSpaceConfig, n: int, n_steps: int, density: float = 0.03, seed: int = 0,
                   p_present: float = 0.9, strength: float = 3.0, n_signal: int | None = None) -> ToyCohort:
    """A binary task whose logit depends on the first sequential and the last static modality only.

    Signal: the share of a fixed set of ``n_signal`` "signal" features (default: 5% of the features) among a
    sample's non-zeros in the first sequential modality, plus a projection of the last static modality; an absent
    modality adds nothing. Fewer signal features make the task easier to learn from few samples. ``prob`` holds
    the true probabilities (the oracle).
    """
    cohort = random_cohort(config, n, n_steps, density, seed, p_present, min_len=max(1, n_steps // 2))
    rng = np.random.default_rng(seed + 1)
    names = config.modality_names
    seq_name = next(m.name for m in config.modalities if m.kind == "sequential")
    st_name = [m.name for m in config.modalities if m.kind == "static"][-1]
    st = cohort.sparse[seq_name]
    dim = config.modality(seq_name).dim
    signal = rng.choice(dim, size=max(2, dim // 20) if n_signal is None else n_signal, replace=False)
    hit = np.isin(st.feat, signal).astype(np.float64)
    per_sample = np.add.reduceat(hit, st.ptr[:-1]) * (np.diff(st.ptr) > 0)
    share = per_sample / np.maximum(np.diff(st.ptr), 1)
    seq_term = (share - share.mean()) / (share.std() + 1e-9)
    x = cohort.dense[st_name]
    u = rng.standard_normal(x.shape[1]) / np.sqrt(x.shape[1])
    st_term = x @ u / (np.std(x @ u) + 1e-9)
    pres = cohort.presence
    logit = -1.0 + strength * 0.6 * seq_term * pres[:, names.index(seq_name)] \
        + strength * 0.4 * st_term * pres[:, names.index(st_name)]
    prob = 1.0 / (1.0 + np.exp(-logit))
    cohort.labels = (rng.random(n) < prob).astype(np.float32)[:, None]
    cohort.prob = prob
    return cohort
