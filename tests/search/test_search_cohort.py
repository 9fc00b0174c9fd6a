"""The synthetic-cohort path: feature store + labels + embedding folders -> batches -> search/prune/evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from model.search.cohort_data import CohortData
from model.search.spec import SearchSpaceConfig
from model.search.task_runner import (
    CohortSearchConfig,
    evaluate_on_cohort,
    prune_on_cohort,
    search_cohort,
    search_on_cohort,
)


@pytest.fixture(scope="module")
def cohort_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    from model.data.labeling import label_dataset
    from model.data.synthetic import generate_cohort
    from model.data.synthetic_config import CohortConfig
    from model.features.task_features import featurize_task

    root = tmp_path_factory.mktemp("cohort")
    generate_cohort(root / "meds", CohortConfig(n_stays=300, image_size=32, seed=3))
    label_dataset(root / "meds", root / "labels", tasks=("arf",))
    samples_path = root / "labels" / "samples" / "arf.parquet"
    featurize_task(root / "meds", pl.read_parquet(samples_path), root / "features", 12)
    # A stand-in note embedding: every third sample absent, one sample missing from the index altogether.
    s = pl.read_parquet(samples_path).select("subject_id", "prediction_time")
    present = np.arange(s.height) % 3 != 0
    (root / "notes").mkdir()
    s[1:].with_columns(present=pl.Series(present[1:])).write_parquet(root / "notes" / "index.parquet")
    np.save(root / "notes" / "vectors.npy", np.random.default_rng(0).standard_normal((s.height - 1, 5)).astype("f4"))
    return root / "features", samples_path, root / "notes"


def test_batches_match_the_store_and_embedding_presence(cohort_dirs: tuple[Path, Path, Path]) -> None:
    features, samples_path, notes = cohort_dirs
    co = CohortData(features, samples_path, {"notes": str(notes)})
    cfg = SearchSpaceConfig(co.modalities(), d_e=8)
    assert cfg.modality_names == ["events_cont", "events_disc", "demographics", "notes"]
    idx = np.arange(6)
    batch = co.batch(idx)
    batch.validate(cfg)
    dense = co.store.dense("E", co.rows[idx])
    np.testing.assert_allclose(batch.inputs["events_disc"].to_dense(cfg.modality("events_disc").dim).numpy(), dense)
    # Sample 0 is not in the index, sample 3 is marked absent, 1, 2, 4, 5 are present.
    assert batch.presence[:, 3].tolist() == [False, True, True, False, True, True]
    assert torch.all(batch.inputs["notes"][~batch.presence[:, 3]] == 0)
    groups = co.subgroups()
    assert set(groups) == {"sex", "age_band"} and set(groups["sex"]) <= {"F", "M"}


def test_search_prune_evaluate_on_cohort(cohort_dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    features, samples_path, notes = cohort_dirs
    emb = {"notes": str(notes)}
    cfg = CohortSearchConfig(d_e=8, n_layers=1, n_nodes=2, epochs=2, batch_size=64, w_lr=3e-3, arch_lr=3e-3,
                             finetune_steps=1, finetune_lr=1e-3, candidate_finetune_steps=1, final_finetune_steps=4,
                             eval_every=2, n_boot=20, metric="auroc")
    log = search_on_cohort(features, samples_path, tmp_path / "search", cfg, emb)
    assert len(log["history"]) == 2 and not (tmp_path / ".search.ckpt").exists()
    summary = prune_on_cohort(tmp_path / "search", features, samples_path, tmp_path / "prune", cfg, emb)
    names = sorted(p.name for p in (tmp_path / "prune").iterdir())
    assert names == ["genotype.json", "genotypes", "trajectory.json", "weights.safetensors"]
    assert sorted(p.name for p in (tmp_path / "prune" / "genotypes").iterdir()) == ["darts_argmax.json",
                                                                                  "darts_pt.json"]
    assert 0.0 <= summary["tuning"]["auroc"] <= 1.0
    metrics = evaluate_on_cohort(tmp_path / "prune", features, samples_path, tmp_path / "eval", emb, n_boot=20)
    on_disk = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert on_disk["auroc"] == metrics["auroc"] and metrics["auroc_ci_low"] <= metrics["auroc"]
    assert metrics["oracle"]["auroc"] > 0.5 and {r["group"] for r in metrics["subgroups"]} == {"sex", "age_band"}
    assert json.loads((tmp_path / "eval" / "curves.json").read_text())["roc"]["fpr"]


def test_bf16_reaches_the_search_config() -> None:
    # The pipeline passes it through search_overrides; the bi-level searcher reads SearchConfig.bf16.
    assert CohortSearchConfig.from_dict({"bf16": True}).search().bf16
    assert not CohortSearchConfig().search().bf16


def test_regularisation_settings_reach_the_supernet_and_the_searcher(cohort_dirs: tuple[Path, Path, Path]) -> None:
    features, samples_path, _ = cohort_dirs
    cfg = CohortSearchConfig(d_e=8, n_layers=1, n_nodes=1, epochs=1, w_lr=3e-3, arch_lr=3e-3, metric="auroc",
                             embed_dropout=0.25, w_weight_decay=0.02)
    run = search_cohort(CohortData(features, samples_path), cfg)
    assert run.supernet.config.embed_dropout == 0.25
    assert {m.dropout.p for m in run.supernet.embeddings.embed.values()} == {0.25}
    assert cfg.search().w_weight_decay == 0.02 and CohortSearchConfig().search().w_weight_decay == 1e-3
