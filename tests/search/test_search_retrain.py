"""The kept architecture's retraining: on all of train (``retrain_data``), from the searched weights
(``final_init="supernet"``), and the same fine-tune for a given genotype (``finetune_genotype``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from search_helpers import tiny_config

from model.search.derive import derive_model
from model.search.prune import finetune_genotype, fresh_state, prune_supernet
from model.search.search_loop import indexed_search_data, retrain_data
from model.search.selection import DiscretiseConfig
from model.search.supernet import Supernet
from model.search.toy_data import planted_cohort

CFG = tiny_config(n_layers=1, n_nodes=2, seq_ops=("identity", "ffn"), static_ops=("identity", "linear_relu"))


def _setup() -> tuple[Supernet, object, object]:
    co = planted_cohort(CFG, 64, 4, density=0.2, seed=4)
    torch.manual_seed(0)
    return Supernet(CFG), co, indexed_search_data(co.batch, np.arange(40), np.arange(40, 64), 16, seed=0)


def test_retrain_data_covers_all_of_train_once_per_epoch() -> None:
    seen = []
    data = retrain_data(lambda idx: seen.append(np.asarray(idx)) or idx, np.arange(40), np.arange(40, 64), 16, 0)
    list(data.train(3))
    assert sorted(np.concatenate(seen).tolist()) == list(range(40))


def test_final_init_supernet_starts_from_the_searched_weights() -> None:
    net, _, data = _setup()
    searched = copy.deepcopy(net)
    config = DiscretiseConfig(finetune_steps=2, finetune_lr=1e-2, metric="auroc", final_init="supernet")
    result = prune_supernet(net, data, config)  # no final fine-tune: the derived weights are the searched ones
    expected = derive_model(searched, result.genotype).state_dict()
    for k, v in result.derived.state_dict().items():
        assert torch.equal(v, expected[k]), k
    kept = prune_supernet(copy.deepcopy(searched), data, DiscretiseConfig(finetune_steps=2, finetune_lr=1e-2,
                                                                        metric="auroc"))
    assert any(not torch.equal(v, derive_model(searched, kept.genotype).state_dict()[k])
               for k, v in kept.derived.state_dict().items())  # "kept": the pruning steps moved the weights


def test_finetune_genotype_keeps_the_best_validation_point() -> None:
    net, _, data = _setup()
    genotype = prune_supernet(copy.deepcopy(net), data, DiscretiseConfig(finetune_steps=0)).genotype
    config = DiscretiseConfig(final_finetune_steps=20, eval_every=5, final_lr=1e-2, metric="neg_loss")
    model, records = finetune_genotype(net, genotype, data, config)
    assert model.genotype == genotype and len(records) == 4
    assert net.is_discrete()


def test_final_init_scratch_starts_from_fresh_seeded_weights() -> None:
    net, _, data = _setup()
    searched = copy.deepcopy(net)
    with torch.no_grad():  # a "trained" supernet: its weights differ from any fresh initialisation
        for p in searched.weight_parameters():
            p.add_(0.5)
    config = DiscretiseConfig(finetune_steps=2, finetune_lr=1e-2, metric="auroc", final_init="scratch", seed=3)
    result = prune_supernet(copy.deepcopy(searched), data, config)  # no final fine-tune: the start weights
    torch.manual_seed(3)
    expected = derive_model(Supernet(CFG), result.genotype).state_dict()
    for k, v in result.derived.state_dict().items():
        assert torch.equal(v, expected[k]), k
    model, _ = finetune_genotype(copy.deepcopy(searched), result.genotype, data, config)
    for k, v in model.state_dict().items():
        assert torch.equal(v, expected[k]), k
    rng_before = torch.get_rng_state()
    fresh_state(searched, 7)
    assert torch.equal(rng_before, torch.get_rng_state())  # drawing fresh weights leaves the caller's RNG alone
    with pytest.raises(ValueError, match="final_init"):
        DiscretiseConfig(final_init="random")
