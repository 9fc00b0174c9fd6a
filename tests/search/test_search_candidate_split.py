"""Which split scores pruning / DARTS-PT candidates (``DiscretiseConfig.candidate_split``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from search_helpers import tiny_config

from model.search.evaluate import evaluate
from model.search.prune import prune_supernet
from model.search.search_loop import indexed_search_data
from model.search.selection import DiscretiseConfig, candidate_scorer
from model.search.supernet import Supernet
from model.search.toy_data import planted_cohort

CFG = tiny_config(n_layers=1, n_nodes=2, seq_ops=("identity", "ffn"), static_ops=("identity", "linear_relu"))
TRAIN, TUNING = np.arange(40), np.arange(40, 64)


def _setup() -> tuple[Supernet, object, list[np.ndarray]]:
    co = planted_cohort(CFG, 64, 4, density=0.2, seed=4)
    seen: list[np.ndarray] = []

    def make_batch(idx: np.ndarray):
        seen.append(np.asarray(idx).copy())
        return co.batch(idx)

    torch.manual_seed(0)
    return Supernet(CFG), indexed_search_data(make_batch, TRAIN, TUNING, 16, seed=0), seen


@pytest.mark.parametrize("split", ["arch", "tuning"])
def test_candidate_scorer_reads_only_its_split(split: str) -> None:
    net, data, seen = _setup()
    scorer = candidate_scorer(data, DiscretiseConfig(candidate_split=split, metric="auroc"))
    result = scorer(net)
    used = np.concatenate(seen)
    if split == "arch":
        # The architecture half of train only: never a tuning sample, and the same batches on every call.
        assert set(used) < set(TRAIN)
        n_built = len(seen)
        again = scorer(net)
        assert len(seen) == n_built and again.metrics["auroc"] == result.metrics["auroc"]
    else:
        assert set(used) == set(TUNING)
        assert result.metrics["auroc"] == evaluate(net, data.val(), CFG.task).metrics["auroc"]


def test_pruning_with_arch_candidates_leaves_tuning_to_the_trajectory() -> None:
    net, data, _ = _setup()
    calls = {"arch": 0, "tuning": 0}
    results = {}
    for split in calls:
        def spy(n: Supernet, split: str = split):
            calls[split] += 1
            return evaluate(n, data.val(), n.config.task)

        config = DiscretiseConfig(finetune_steps=1, finetune_lr=1e-2, metric="auroc", candidate_split=split)
        results[split] = prune_supernet(copy.deepcopy(net), data, config, scorer=spy)
    n_candidates = sum(len(r.get("candidates") or {}) for r in results["tuning"].trajectory)
    assert n_candidates > 0
    # The tuning scorer scored every candidate plus the trajectory; with "arch" it scores the trajectory only.
    assert calls["tuning"] - calls["arch"] == n_candidates
    removals = {k: sum(r.get("removed") is not None for r in v.trajectory) for k, v in results.items()}
    assert removals["arch"] == removals["tuning"] > 0  # same supernet: every edge pruned down to one op


def test_unknown_candidate_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="candidate_split"):
        DiscretiseConfig(candidate_split="held_out")
