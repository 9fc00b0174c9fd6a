"""The search loop: epochs of bi-level steps, validation-based model selection, a checkpoint every epoch, resume.

Determinism: every epoch reseeds torch from (seed, epoch) and draws its data order from the same pair, so a run
resumed from the checkpoint of epoch e continues exactly like an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.search.batch import MultimodalBatch
from model.search.bilevel import BilevelSearcher, SearchConfig
from model.search.checkpoint import load_checkpoint, load_optimizer, save_checkpoint, state_to_cpu
from model.search.evaluate import evaluate
from model.search.supernet import Supernet

BatchFn = Callable[[int], Iterable[MultimodalBatch]]


@dataclass
class SearchData:
    """Where batches come from.

    Attributes:
        train: epoch -> batches for the weight steps.
        arch: epoch -> batches for the architecture steps, from a held-out part of the TRAIN split.
        val: () -> batches of the validation split (model selection only; never architecture steps).
    """

    train: BatchFn
    arch: BatchFn
    val: Callable[[], Iterable[MultimodalBatch]]


def split_for_arch(train_idx: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training indices into (weight part, architecture part) with ``fraction`` for the architecture."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"arch fraction must be in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(np.asarray(train_idx))
    n_arch = max(1, int(round(len(order) * fraction)))
    return np.sort(order[n_arch:]), np.sort(order[:n_arch])


def epoch_seed(seed: int, epoch: int) -> int:
    """Seed of one epoch (data order and dropout)."""
    return (seed * 1_000_003 + epoch * 7919) % (2**31 - 1)


def indexed_search_data(make_batch: Callable[[np.ndarray], MultimodalBatch], train_idx: np.ndarray,
                        val_idx: np.ndarray, batch_size: int, seed: int, arch_fraction: float = 0.5) -> SearchData:
    """SearchData over any indexable cohort: ``make_batch(indices) -> MultimodalBatch``."""
    w_idx, a_idx = split_for_arch(train_idx, arch_fraction, seed)

    def batches(idx: np.ndarray, s: int | None) -> Iterator[MultimodalBatch]:
        order = idx if s is None else idx[np.random.default_rng(s).permutation(len(idx))]
        for i in range(0, len(order), batch_size):
            yield make_batch(order[i:i + batch_size])

    val_batches: list[MultimodalBatch] = []

    def val() -> list[MultimodalBatch]:
        # Built once: pruning scores the same validation set hundreds of times.
        if not val_batches:
            val_batches.extend(batches(np.asarray(val_idx), None))
        return val_batches

    return SearchData(train=lambda e: batches(w_idx, epoch_seed(seed, e)),
                      arch=lambda e: batches(a_idx, epoch_seed(seed + 1, e)), val=val)


def retrain_data(make_batch: Callable[[np.ndarray], MultimodalBatch], train_idx: np.ndarray, val_idx: np.ndarray,
                 batch_size: int, seed: int) -> SearchData:
    """SearchData whose weight batches cover ALL of ``train``: retraining a derived architecture (DARTS practice),
    when no architecture steps are left to hold data out for. ``arch`` repeats ``train`` and is not meant for use.
    """
    val = indexed_search_data(make_batch, train_idx, val_idx, batch_size, seed).val  # its cached validation batches
    idx = np.asarray(train_idx)

    def batches(epoch: int) -> Iterator[MultimodalBatch]:
        order = idx[np.random.default_rng(epoch_seed(seed + 2, epoch)).permutation(len(idx))]
        for i in range(0, len(order), batch_size):
            yield make_batch(order[i:i + batch_size])

    return SearchData(train=batches, arch=batches, val=val)


@dataclass
class SearchOutcome:
    """History per epoch, the selected epoch and its validation score."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -math.inf


def _endless(fn: BatchFn, epoch: int) -> Iterator[MultimodalBatch]:
    while True:
        empty = True
        for b in fn(epoch):
            empty = False
            yield b
        if empty:
            raise ValueError("architecture data is empty")


def run_search(net: Supernet, data: SearchData, config: SearchConfig, checkpoint_dir: str | Path | None = None,
               metric: str = "aupr", on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None
               ) -> SearchOutcome:
    """Train the supernet bi-level; keep the epoch with the best validation ``metric`` (ties: lower loss).

    Args:
        net: The supernet (built under the caller's seed).
        data: Batch sources.
        config: Optimisation settings.
        checkpoint_dir: Where ``last/`` is written each epoch; an existing one is resumed.
        metric: Selection metric (``"auroc"``, ``"aupr"``, ``"recall@10"``, ``"neg_loss"``).
        on_epoch_end: Called with (epoch, record) after the checkpoint is written.

    Returns:
        The outcome; ``net`` holds the best epoch's state.
    """
    searcher = BilevelSearcher(net, config)
    outcome, best_state, start, bad_epochs = SearchOutcome(), None, 0, 0
    last = Path(checkpoint_dir) / "last" if checkpoint_dir is not None else None
    if last is not None and last.exists():
        model_state, opt_tensors, meta, best_state = load_checkpoint(last)
        net.load_state_dict(model_state)
        for name, opt in (("w_opt", searcher.w_opt), ("a_opt", searcher.a_opt)):
            load_optimizer(opt, name, opt_tensors, meta["optimizers"][name])
        outcome = SearchOutcome(meta["history"], meta["best_epoch"], meta["best_score"])
        start, bad_epochs = meta["epoch"] + 1, meta["bad_epochs"]
        if meta.get("stopped"):
            start = config.epochs
    device = next(net.parameters()).device
    for epoch in range(start, config.epochs):
        torch.manual_seed(epoch_seed(config.seed, epoch))
        net.train()
        arch_batches = _endless(data.arch, epoch)
        arch_sum = loss_sum = 0.0
        n_steps = 0
        for tb in data.train(epoch):
            ab = next(arch_batches)
            if device.type != "cpu":
                tb, ab = tb.to(device), ab.to(device)
            a, w = searcher.step(tb, ab)
            arch_sum, loss_sum, n_steps = arch_sum + a, loss_sum + w, n_steps + 1
        res = evaluate(net, data.val(), net.config.task, bf16=config.bf16)
        key = res.score(metric)
        steps = max(n_steps, 1)
        record = {"epoch": epoch, "train_loss": loss_sum / steps, "arch_objective": arch_sum / steps,
                  "val_loss": res.loss, **{f"val_{k}": v for k, v in res.metrics.items()}}
        outcome.history.append(record)
        best_key = (outcome.best_score, -math.inf) if outcome.best_epoch < 0 else \
            (outcome.best_score, -outcome.history[outcome.best_epoch]["val_loss"])
        if outcome.best_epoch < 0 or key > best_key:
            outcome.best_epoch, outcome.best_score = epoch, key[0]
            best_state, bad_epochs = state_to_cpu(net.state_dict()), 0
        else:
            bad_epochs += 1
        stopped = config.patience > 0 and bad_epochs >= config.patience
        if last is not None:
            meta = {"epoch": epoch, "history": outcome.history, "best_epoch": outcome.best_epoch,
                    "best_score": outcome.best_score, "bad_epochs": bad_epochs, "stopped": stopped,
                    "config": asdict(config)}
            save_checkpoint(last, net.state_dict(), {"w_opt": searcher.w_opt, "a_opt": searcher.a_opt}, meta,
                            best_state)
        if on_epoch_end is not None:
            on_epoch_end(epoch, record)
        if stopped:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    return outcome
