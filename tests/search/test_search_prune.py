"""Algorithm 1 bookkeeping (one op removed per candidate, renormalised, no accumulation, final save), argmax and
DARTS-PT."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from search_helpers import tiny_config

from model.derived import load_derived
from model.search.evaluate import EvalResult, evaluate
from model.search.genotype import Genotype
from model.search.prune import PruneResult, prune_supernet
from model.search.search_loop import indexed_search_data
from model.search.selection import DiscretiseConfig, darts_pt_genotype
from model.search.supernet import Supernet
from model.search.toy_data import planted_cohort

CFG = tiny_config(n_layers=1, n_nodes=2, seq_ops=("identity", "ffn", "seq_seq_attn"),
                  static_ops=("identity", "linear_relu", "static_static"))


def _setup() -> tuple[Supernet, object, object]:
    co = planted_cohort(CFG, 64, 4, density=0.2, seed=4)
    data = indexed_search_data(co.batch, np.arange(40), np.arange(40, 64), 16, seed=0)
    torch.manual_seed(0)
    net = Supernet(CFG)
    with torch.no_grad():
        for p in net.arch_parameters():
            p.normal_(0, 1)
    return net, data, co


class SpyScorer:
    """Records, for every evaluation, the alive masks and weights of every edge; scores by a fixed rule."""

    def __init__(self, data) -> None:  # noqa: ANN001
        self.data, self.calls = data, []

    def __call__(self, net: Supernet) -> EvalResult:
        self.calls.append({k: (e.alive.clone(), e.weights().detach().clone()) for k, e in net.edges().items()})
        return evaluate(net, self.data.val(), net.config.task)


@dataclass
class PruneRun:
    """One Algorithm 1 run (``select="final"``) shared by the tests that only read it."""

    net: Supernet
    data: object
    initial: dict[str, torch.Tensor]
    spy: SpyScorer
    result: PruneResult
    out: Path


@pytest.fixture(scope="module")
def prune_run(tmp_path_factory: pytest.TempPathFactory) -> PruneRun:
    net, data, _ = _setup()
    initial = {k: e.alive.clone() for k, e in net.edges().items()}
    spy = SpyScorer(data)
    out = tmp_path_factory.mktemp("prune") / "pruned"
    config = DiscretiseConfig(finetune_steps=1, finetune_lr=1e-3, metric="auroc", select="final")
    result = prune_supernet(net, data, config, out_dir=out, scorer=spy)
    return PruneRun(net, data, initial, spy, result, out)


def test_pruning_bookkeeping_and_save(prune_run: PruneRun) -> None:
    net, data, spy, result = prune_run.net, prune_run.data, prune_run.spy, prune_run.result
    n_removals = sum(len(e.op_names) - 1 for e in net.edges().values())
    assert len(result.trajectory) == n_removals + 1 and net.is_discrete()
    # Replay: before each removal the candidates differ from the current masks by exactly one op.
    current = {k: v.clone() for k, v in prune_run.initial.items()}
    call = 2  # the first two calls score the initial point (supernet and its argmax completion)
    for rec in result.trajectory[1:]:
        edge = rec["edge"]
        n_alive = int(current[edge].sum())
        for c in range(n_alive):
            seen_alive, seen_w = spy.calls[call + c][edge]
            assert int((current[edge] & ~seen_alive).sum()) == 1 and not bool((seen_alive & ~current[edge]).any())
            torch.testing.assert_close(seen_w.sum(), torch.tensor(1.0))
            assert torch.all(seen_w[~seen_alive] == 0) and torch.all(seen_w[seen_alive] > 0)
            for other, (a, _) in spy.calls[call + c].items():
                if other != edge:
                    assert torch.equal(a, current[other]), "candidate masks must not leak into other edges"
        removed = net.edges()[edge].op_names.index(rec["removed"])
        assert bool(current[edge][removed])
        current[edge][removed] = False
        call += n_alive + 2
    assert all(torch.equal(current[k], e.alive) for k, e in net.edges().items())
    # Selectors keep both outcomes possible (the reference code always dropped `identity`).
    # Final save: genotype + weights of the kept point + trajectory.
    out = prune_run.out
    assert sorted(p.name for p in out.iterdir()) == ["genotype.json", "trajectory.json", "weights.safetensors"]
    assert Genotype.load(out / "genotype.json") == result.genotype
    traj = json.loads((out / "trajectory.json").read_text())
    assert traj["best_step"] == result.best_step and len(traj["trajectory"]) == len(result.trajectory)
    batch = next(iter(data.val()))
    torch.testing.assert_close(load_derived(out)(batch), result.derived.eval()(batch))


def test_final_selection_is_the_fully_pruned_net(prune_run: PruneRun) -> None:
    # The same run as above (select="final"): the kept point is the last step, i.e. the fully pruned net.
    from model.search.derive import genotype_of

    result = prune_run.result
    assert result.best_step == len(result.trajectory) - 1
    assert result.genotype.cells == genotype_of(prune_run.net, "autofm_prune").cells


def test_darts_pt_discretises_every_edge() -> None:
    net, data, _ = _setup()
    g = darts_pt_genotype(net, data, DiscretiseConfig(finetune_steps=1, finetune_lr=1e-3, metric="auroc"))
    assert net.is_discrete() and g.method == "darts_pt"
