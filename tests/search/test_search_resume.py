"""Search checkpoints every epoch (safetensors + JSON) and a killed run resumes to the same final result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from search_helpers import tiny_config

from model.search.bilevel import SearchConfig
from model.search.search_loop import indexed_search_data, run_search, split_for_arch
from model.search.selection import argmax_genotype
from model.search.supernet import Supernet
from model.search.toy_data import planted_cohort

CFG = tiny_config(embed_dropout=0.1)  # dropout on: the RNG must be restored too
SC = SearchConfig(epochs=3, batch_size=16, w_lr=1e-2, arch_lr=1e-2, seed=7)


class Killed(Exception):
    pass


def _run(ckpt: Path | None, kill_after: int | None = None) -> tuple[Supernet, object]:
    co = planted_cohort(CFG, 96, 4, density=0.2, seed=3)
    data = indexed_search_data(co.batch, np.arange(64), np.arange(64, 96), SC.batch_size, seed=SC.seed)
    torch.manual_seed(SC.seed)
    net = Supernet(CFG)

    def hook(epoch: int, record: dict) -> None:
        if kill_after is not None and epoch == kill_after:
            raise Killed

    return net, run_search(net, data, SC, ckpt, metric="auroc", on_epoch_end=hook)


def test_resume_after_kill_gives_same_result(tmp_path: Path) -> None:
    straight, out_a = _run(None)
    with pytest.raises(Killed):
        _run(tmp_path, kill_after=0)
    files = sorted(p.name for p in (tmp_path / "last").iterdir())
    assert files == ["best.safetensors", "model.safetensors", "optim.safetensors", "state.json"]
    assert json.loads((tmp_path / "last" / "state.json").read_text())["epoch"] == 0
    resumed, out_b = _run(tmp_path)
    assert out_b.history == out_a.history and out_b.best_epoch == out_a.best_epoch
    assert argmax_genotype(resumed) == argmax_genotype(straight)
    sa, sb = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_arch_split_is_disjoint_part_of_train() -> None:
    train = np.arange(100, 200)
    w, a = split_for_arch(train, 0.5, seed=0)
    assert len(np.intersect1d(w, a)) == 0 and set(w) | set(a) == set(train) and len(a) == 50
