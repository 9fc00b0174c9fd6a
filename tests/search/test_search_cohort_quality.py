"""End-to-end on the synthetic cohort with a quality threshold: generate -> label -> featurize -> search -> prune ->
evaluate (ARF, structured tables only, the small space of the Table 5-7 runs; about 20 s on one thread)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from model.search.task_runner import CohortSearchConfig, evaluate_on_cohort, prune_on_cohort, search_on_cohort

# Search seeds 0-3 on this cohort gave derived held-out AUROCs 0.814, 0.820, 0.826, 0.807 with embed dropout 0.3
# (0.834, 0.809, 0.813, 0.807 with 0.1; oracle 0.861); a search
# that learns nothing sits near 0.5, one that ignores the event tables near 0.65 (demographics only).
MIN_AUROC = 0.76
MAX_ORACLE_GAP = 0.10


@pytest.mark.slow
def test_search_prune_evaluate_reaches_quality_threshold(tmp_path: Path) -> None:
    from model.data.labeling import label_dataset
    from model.data.synthetic import generate_cohort
    from model.data.synthetic_config import CohortConfig
    from model.features.task_features import featurize_task

    generate_cohort(tmp_path / "meds", CohortConfig(n_stays=1500, image_size=32, seed=0))
    label_dataset(tmp_path / "meds", tmp_path / "labels", tasks=("arf",))
    samples = tmp_path / "labels" / "samples" / "arf.parquet"
    featurize_task(tmp_path / "meds", pl.read_parquet(samples), tmp_path / "features", 12)
    cfg = CohortSearchConfig(d_e=16, n_layers=1, n_nodes=2, epochs=6, w_lr=3e-3, arch_lr=3e-3, metric="auroc",
                             finetune_steps=2, finetune_lr=1e-3, candidate_finetune_steps=2, final_finetune_steps=300,
                             eval_every=20, final_lr=1e-3, final_patience=5, baselines=False, seed=0, n_boot=50,
                             static_ops=("identity", "linear_relu", "static_seq_attn"),
                             seq_ops=("identity", "rnn", "self_attn", "ffn"))
    search_on_cohort(tmp_path / "features", samples, tmp_path / "search", cfg)
    prune_on_cohort(tmp_path / "search", tmp_path / "features", samples, tmp_path / "prune", cfg)
    metrics = evaluate_on_cohort(tmp_path / "prune", tmp_path / "features", samples, tmp_path / "eval", n_boot=50)
    oracle = metrics["oracle"]["auroc"]
    print(f"held-out AUROC derived {metrics['auroc']:.3f}, oracle {oracle:.3f}")
    assert metrics["auroc"] >= MIN_AUROC
    assert metrics["auroc"] >= oracle - MAX_ORACLE_GAP
