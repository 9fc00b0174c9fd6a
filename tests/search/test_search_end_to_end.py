"""Search -> prune -> evaluate on a plain-tensor cohort with a planted signal, with quality thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from model.derived import load_derived
from model.metrics import auroc
from model.search.bilevel import SearchConfig
from model.search.evaluate import evaluate
from model.search.prune import prune_supernet
from model.search.search_loop import indexed_search_data, run_search
from model.search.selection import DiscretiseConfig
from model.search.spec import SearchSpaceConfig, paper_modalities
from model.search.supernet import Supernet
from model.search.toy_data import planted_cohort


@pytest.mark.slow
def test_search_prune_evaluate_planted_signal(tmp_path: Path) -> None:
    # The paper's K = 2, C = 3 with one op of each kind (recurrent, attention, feed-forward, cross-modal attention)
    # instead of all of them: conv1d, seq_seq_attn and static_static are covered op by op in test_search_ops /
    # test_search_supernet_masks, and each extra op adds pruning candidates (this test took ~2 min on 2 cores).
    cfg = SearchSpaceConfig(paper_modalities(40, 20, 6, 12), d_e=16, embed_dropout=0.0,
                            seq_ops=("identity", "rnn", "self_attn", "ffn"),
                            static_ops=("identity", "linear_relu", "static_seq_attn"))
    co = planted_cohort(cfg, 1000, 6, density=0.1, seed=0)
    idx = np.arange(1000)
    train, val, test = idx[:600], idx[600:800], idx[800:]
    data = indexed_search_data(co.batch, train, val, 32, seed=0)
    torch.manual_seed(0)
    net = Supernet(cfg)
    out = run_search(net, data, SearchConfig(epochs=6, batch_size=32, w_lr=1e-2, arch_lr=3e-3, seed=0),
                     tmp_path / "ckpt", metric="auroc")
    assert len(out.history) == 6

    def test_batches():  # noqa: ANN202
        return (co.batch(test[i:i + 100]) for i in range(0, len(test), 100))

    oracle = auroc(co.labels[test, 0], co.prob[test])
    supernet_auroc = evaluate(net, test_batches(), cfg.task).metrics["auroc"]
    # Candidates are scored after a few recovery steps; the kept net is fine-tuned with early stopping.
    config = DiscretiseConfig(finetune_steps=3, finetune_lr=1e-3, metric="neg_loss", candidate_finetune_steps=3,
                              final_finetune_steps=200, eval_every=20, final_lr=1e-3, final_patience=3)
    result = prune_supernet(net, data, config, out_dir=tmp_path / "derived")
    derived = load_derived(tmp_path / "derived")
    derived_auroc = evaluate(derived, test_batches(), cfg.task).metrics["auroc"]
    assert result.derived.genotype == derived.genotype and len(result.trajectory) > 1
    print(f"oracle {oracle:.3f} supernet {supernet_auroc:.3f} derived {derived_auroc:.3f}")
    assert oracle > 0.85
    assert supernet_auroc > 0.75  # far above chance (0.5): the search learns the planted signal
    # Measured: oracle 0.903, supernet 0.830, derived 0.851 on these 200 test samples (AUROC standard error there
    # ~0.03); with all ops, 8 epochs and 5 / 5 steps it was supernet 0.834, derived 0.810. The 0.005 goal is not
    # asserted: see docs/results-autofm.md for the gap and the larger benchmark.
    assert derived_auroc > supernet_auroc - 0.03
