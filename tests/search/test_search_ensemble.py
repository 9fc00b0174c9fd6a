"""The derived ensemble (``final_members`` > 1): mean-score prediction, safetensors round trip, and the pruning /
fine-tune paths that train its members (its presence-mask test: test_search_supernet_masks.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from search_helpers import tiny_config

from model.derived import DerivedEnsemble, DerivedModel, load_derived, save_derived
from model.search.derive import genotype_of
from model.search.loss import predict_scores
from model.search.prune import finetune_genotype, prune_supernet
from model.search.search_loop import indexed_search_data
from model.search.selection import DiscretiseConfig
from model.search.spec import TaskSpec
from model.search.supernet import Supernet
from model.search.toy_data import planted_cohort, random_cohort


def _members(task: TaskSpec, n: int = 3) -> tuple[list[DerivedModel], object]:
    cfg = tiny_config(task=task)
    net = Supernet(cfg)
    for e in net.edges().values():
        e.keep_only(0 if "selector" in e.edge_id else len(e.op_names) - 1)  # every input kept
    genotype = genotype_of(net, "test")
    members = []
    for seed in range(n):
        torch.manual_seed(seed)
        members.append(DerivedModel(genotype).eval())
    return members, random_cohort(cfg, 12, 4, density=0.3, seed=2, p_present=0.7, min_len=2)


@pytest.mark.parametrize("task", [TaskSpec(), TaskSpec("multilabel", 6, "softmax"), TaskSpec("multilabel", 6, "bce")])
def test_ensemble_predicts_the_members_mean_score(task: TaskSpec) -> None:
    members, cohort = _members(task)
    ens = DerivedEnsemble(members).eval()
    batch = cohort.batch(np.arange(12))
    with torch.no_grad():
        expected = torch.stack([predict_scores(m(batch), task) for m in members]).mean(0)
        got = predict_scores(ens(batch), task)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_ensemble_round_trip_and_bad_metadata(tmp_path) -> None:  # noqa: ANN001
    members, cohort = _members(TaskSpec())
    ens = DerivedEnsemble(members).eval()
    save_derived(ens, tmp_path / "m")
    loaded = load_derived(tmp_path / "m")
    assert isinstance(loaded, DerivedEnsemble) and len(loaded.members) == 3
    batch = cohort.batch(np.arange(12))
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch), ens(batch))
    assert isinstance(load_derived(save_derived(members[0], tmp_path / "one")), DerivedModel)
    weights = tmp_path / "m" / "weights.safetensors"
    save_file(load_file(str(weights)), str(weights), metadata={"members": "2"})
    with pytest.raises(ValueError, match="weights do not match"):
        load_derived(tmp_path / "m")
    save_file(load_file(str(weights)), str(weights), metadata={"members": "zero"})
    with pytest.raises(ValueError, match="members"):
        load_derived(tmp_path / "m")
    other, _ = _members(TaskSpec("multilabel", 6, "bce"), 1)
    with pytest.raises(ValueError, match="one genotype"):
        DerivedEnsemble([members[0], other[0]])


CFG = tiny_config(n_layers=1, n_nodes=2, seq_ops=("identity", "ffn"), static_ops=("identity", "linear_relu"),
                  embed_dropout=0.2)


@pytest.mark.parametrize("init", ["supernet", "scratch"])
def test_pruning_trains_each_member_and_member_zero_is_the_single_model(init: str) -> None:
    co = planted_cohort(CFG, 64, 4, density=0.2, seed=4)
    data = indexed_search_data(co.batch, np.arange(40), np.arange(40, 64), 16, seed=0)
    torch.manual_seed(0)
    net = Supernet(CFG)
    base = dict(finetune_steps=2, finetune_lr=1e-2, metric="auroc", final_finetune_steps=10, eval_every=5,
                final_lr=1e-2, final_init=init)
    single = prune_supernet(copy.deepcopy(net), data, DiscretiseConfig(**base))
    pair = prune_supernet(copy.deepcopy(net), data, DiscretiseConfig(**base, final_members=2))
    assert isinstance(single.derived, DerivedModel) and isinstance(pair.derived, DerivedEnsemble)
    assert pair.genotype == single.genotype
    first, second = pair.derived.members
    for k, v in single.derived.state_dict().items():
        assert torch.equal(first.state_dict()[k], v), k
    assert any(not torch.equal(second.state_dict()[k], v) for k, v in first.state_dict().items())
    assert [r.get("member") for r in pair.trajectory if r.get("member")] == [1, 1]  # member 1's two evaluations
    model, records = finetune_genotype(copy.deepcopy(net), pair.genotype, data,
                                       DiscretiseConfig(**base, final_members=3))
    assert isinstance(model, DerivedEnsemble) and len(model.members) == 3
    assert {r.get("member", 0) for r in records} == {0, 1, 2}
    with pytest.raises(ValueError, match="final_members"):
        DiscretiseConfig(final_members=0)
