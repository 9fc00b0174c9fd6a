"""Library entry points the pipeline wraps as components: search, prune and evaluate on a featurized cohort.

Splits: architecture batches come from a held-out half of ``train`` (DARTS habit), the ``tuning`` split drives
model selection, early stopping and pruning scores, and ``held_out`` is read only by ``evaluate_on_cohort``. The
kept architecture's final fine-tune uses all of ``train`` (``retrain_all_train``; DARTS retrains the derived net).
Every output directory appears whole or not at all (``atomic_dir``); the search checkpoints each epoch into a
sibling ``.<out_dir>.ckpt`` folder, resumed when present and removed once the search output is written.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from model.derived import DerivedModel, load_derived, save_derived
from model.io_atomic import atomic_dir
from model.metrics import binary_metrics, curves, evaluate_binary
from model.search.bilevel import SearchConfig
from model.search.checkpoint import state_to_cpu
from model.search.cohort_data import CohortData
from model.search.evaluate import evaluate
from model.search.genotype import Genotype
from model.search.prune import PruneResult, finetune_genotype, prune_supernet
from model.search.search_loop import SearchData, indexed_search_data, retrain_data, run_search
from model.search.selection import DiscretiseConfig, argmax_genotype, darts_pt_genotype
from model.search.spec import SearchSpaceConfig
from model.search.supernet import Supernet


@dataclass(frozen=True)
class CohortSearchConfig:
    """Everything a cohort run needs (built from ``params.yaml`` at the entry point; defaults: the paper's).

    Args:
        d_e / n_layers / n_nodes: Search-space sizes.
        static_ops / seq_ops: Enabled op families (None: all, the paper's space; see ``SearchSpaceConfig``).
        epochs / batch_size / w_lr / arch_lr / order / penalty_weight / patience / seed: Search settings.
        metric: Tuning-split selection metric (``"auroc"``, ``"aupr"``, ``"neg_loss"``).
        finetune_steps / finetune_lr / candidate_finetune_steps: Pruning (see ``DiscretiseConfig``).
        final_finetune_steps / final_lr / final_patience / eval_every: Fine-tuning of the derived architecture.
        prune_metric: Metric that scores pruning candidates (the loss is smoother than AUROC on small splits).
        n_boot: Bootstrap resamples of the held-out CIs.
        final_init: Start of that fine-tune: the searched supernet's weights (``"supernet"``), the pruned ones
            (``"kept"``, Algorithm 1 as written) or fresh ones (``"scratch"``); see ``DiscretiseConfig``.
        final_members: Final trainings of the kept architecture, ensembled when > 1 (``DiscretiseConfig``).
        retrain_all_train: The final fine-tune of the kept architecture sees all of train, not only the half
            the supernet weights were trained on (the other half fed architecture steps).
        baselines: Also derive the DARTS argmax and DARTS-PT genotypes (Table 7).
        bf16: bf16 autocast in the search's forward/backward passes (``SearchConfig.bf16``).
        candidate_split: Split that scores pruning / DARTS-PT candidates (see ``DiscretiseConfig``).
        embed_dropout / w_weight_decay: Dropout after each input embedding (``SearchSpaceConfig``) and the
            weights' Adam L2 penalty in the search (``SearchConfig``); the dropout also acts in pruning's
            fine-tunes (same modules), the penalty does not. Dropout 0.3 rather than the space's 0.1: on the
            12k-stay cohort the derived model gained 0.006-0.011 held-out AUROC on mortality in 3 of 3 seeds
            (ARF: -0.001), 0.5 lost 0.013 (docs/results-autofm.md).
        pooling: Sequential cells' pooling over time (``SearchSpaceConfig.pooling``).
    """

    d_e: int = 256
    n_layers: int = 2
    n_nodes: int = 3
    epochs: int = 10
    batch_size: int = 64
    w_lr: float = 1e-4
    arch_lr: float = 1e-5
    order: str = "first"
    penalty_weight: float = 0.1
    patience: int = 5
    seed: int = 0
    metric: str = "aupr"
    finetune_steps: int = 20
    finetune_lr: float = 2e-6
    candidate_finetune_steps: int = 5
    final_finetune_steps: int = 500
    final_lr: float = 1e-4
    final_patience: int = 4
    eval_every: int = 50
    prune_metric: str = "neg_loss"
    n_boot: int = 1000
    baselines: bool = True
    retrain_all_train: bool = True
    final_init: str = "supernet"
    static_ops: tuple[str, ...] | None = None
    seq_ops: tuple[str, ...] | None = None
    bf16: bool = False
    candidate_split: str = "tuning"
    embed_dropout: float = 0.3
    w_weight_decay: float = 1e-3
    pooling: str = "max"
    final_members: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CohortSearchConfig:
        """Build from a plain dict, rejecting unknown keys.

        Raises:
            ValueError: Unknown key.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown CohortSearchConfig keys: {sorted(unknown)}")
        return cls(**data)

    def search(self) -> SearchConfig:
        """The bi-level optimisation settings."""
        return SearchConfig(epochs=self.epochs, batch_size=self.batch_size, w_lr=self.w_lr, arch_lr=self.arch_lr,
                            order=self.order, penalty_weight=self.penalty_weight, seed=self.seed,
                            patience=self.patience, bf16=self.bf16,
                            w_weight_decay=self.w_weight_decay)  # type: ignore[arg-type]

    def discretise(self) -> DiscretiseConfig:
        """The pruning settings."""
        return DiscretiseConfig(finetune_steps=self.finetune_steps, finetune_lr=self.finetune_lr,
                                metric=self.prune_metric, seed=self.seed, select="final",
                                final_finetune_steps=self.final_finetune_steps, eval_every=self.eval_every,
                                candidate_finetune_steps=self.candidate_finetune_steps, final_lr=self.final_lr,
                                final_patience=self.final_patience, final_init=self.final_init,
                                candidate_split=self.candidate_split, final_members=self.final_members)


def _data(cohort: CohortData, cfg: CohortSearchConfig) -> SearchData:
    return indexed_search_data(cohort.batch, cohort.indices("train"), cohort.indices("tuning"), cfg.batch_size,
                               cfg.seed, arch_fraction=0.5)


def _final_data(cohort: CohortData, cfg: CohortSearchConfig) -> SearchData:
    if not cfg.retrain_all_train:
        return _data(cohort, cfg)
    return retrain_data(cohort.batch, cohort.indices("train"), cohort.indices("tuning"), cfg.batch_size, cfg.seed)


def _load_supernet(search_dir: Path) -> Supernet:
    space = SearchSpaceConfig.from_dict(json.loads((search_dir / "space.json").read_text()))
    net = Supernet(space)
    net.load_state_dict(load_file(str(search_dir / "supernet.safetensors")))
    return net


@dataclass
class CohortRun:
    """An in-memory search + pruning of one cohort (what ``search_on_cohort`` and ``prune_on_cohort`` write).

    Attributes:
        log: The search log (history, best epoch and score, config).
        supernet: The searched supernet (best epoch), before any discretisation.
        pruned: Algorithm 1's result (derived model after the final fine-tune, trajectory).
        baselines: Table 7's DARTS argmax and DARTS-PT genotypes of the same supernet (``cfg.baselines``).
    """

    log: dict
    supernet: Supernet
    pruned: PruneResult | None = None
    baselines: dict[str, Genotype] = field(default_factory=dict)


def search_cohort(cohort: CohortData, cfg: CohortSearchConfig, checkpoint_dir: Path | None = None) -> CohortRun:
    """Train the supernet on ``cohort`` (its modalities: the tables and embeddings it was built with)."""
    ops = {k: tuple(v) for k, v in (("static_ops", cfg.static_ops), ("seq_ops", cfg.seq_ops)) if v is not None}
    space = SearchSpaceConfig(cohort.modalities(), d_e=cfg.d_e, n_layers=cfg.n_layers, n_nodes=cfg.n_nodes,
                              embed_dropout=cfg.embed_dropout, pooling=cfg.pooling, **ops)
    torch.manual_seed(cfg.seed)
    net = Supernet(space)
    outcome = run_search(net, _data(cohort, cfg), cfg.search(), checkpoint_dir, metric=cfg.metric)
    log = {"history": outcome.history, "best_epoch": outcome.best_epoch, "best_score": outcome.best_score,
           "config": asdict(cfg), "n_samples": len(cohort)}
    return CohortRun(log, net)


def prune_cohort(run: CohortRun, cohort: CohortData, cfg: CohortSearchConfig) -> CohortRun:
    """Algorithm 1 on a copy of the searched supernet, plus the Table 7 baseline genotypes; fills ``run``."""
    data = _data(cohort, cfg)
    if cfg.baselines:
        run.baselines["darts_argmax"] = argmax_genotype(run.supernet)
        run.baselines["darts_pt"] = darts_pt_genotype(copy.deepcopy(run.supernet), data, cfg.discretise())
    run.pruned = prune_supernet(copy.deepcopy(run.supernet), data, cfg.discretise(),
                                final_data=_final_data(cohort, cfg))
    return run


def search_on_cohort(features_dir: str | Path, samples_path: str | Path, out_dir: str | Path,
                     cfg: CohortSearchConfig, embeddings: dict[str, str] | None = None) -> dict:
    """Train the supernet; write supernet / architecture safetensors, ``space.json`` and ``search_log.json``.

    Returns:
        The search log (history, best epoch and score).
    """
    out_dir = Path(out_dir)
    cohort = CohortData(features_dir, samples_path, embeddings)
    ckpt = out_dir.parent / f".{out_dir.name}.ckpt"
    run = search_cohort(cohort, cfg, ckpt)
    net, log = run.supernet, {**run.log, "embeddings": sorted(embeddings or {})}
    with atomic_dir(out_dir, overwrite=True) as tmp:
        save_file(state_to_cpu(net.state_dict()), str(tmp / "supernet.safetensors"))
        save_file({k: e.alpha.detach().clone() for k, e in net.edges().items()}, str(tmp / "architecture.safetensors"))
        (tmp / "space.json").write_text(json.dumps(net.config.to_dict(), indent=2))
        (tmp / "search_log.json").write_text(json.dumps(log, indent=2, allow_nan=True))
    shutil.rmtree(ckpt, ignore_errors=True)
    return log


def prune_on_cohort(search_dir: str | Path, features_dir: str | Path, samples_path: str | Path,
                    out_dir: str | Path, cfg: CohortSearchConfig, embeddings: dict[str, str] | None = None) -> dict:
    """Algorithm 1 on the searched supernet; write the derived model, trajectory and Table 7 genotypes.

    Returns:
        Summary: genotype digests and the tuning metrics of the kept derived model.
    """
    search_dir, out_dir = Path(search_dir), Path(out_dir)
    cohort = CohortData(features_dir, samples_path, embeddings)
    run = prune_cohort(CohortRun({}, _load_supernet(search_dir)), cohort, cfg)
    result, baselines = run.pruned, run.baselines
    assert result is not None
    tuning = evaluate(result.derived, _data(cohort, cfg).val(), run.supernet.config.task).metrics
    summary = {"genotype": result.genotype.digest(), "best_step": result.best_step, "tuning": tuning,
               "baselines": {k: g.digest() for k, g in baselines.items()}}
    with atomic_dir(out_dir, overwrite=True) as tmp:
        save_derived(result.derived, tmp / "model")
        for f in (tmp / "model").iterdir():
            f.rename(tmp / f.name)
        (tmp / "model").rmdir()
        (tmp / "trajectory.json").write_text(json.dumps(
            {"best_step": result.best_step, "config": asdict(cfg.discretise()), "trajectory": result.trajectory,
             "summary": summary}, indent=2, allow_nan=True))
        if baselines:
            (tmp / "genotypes").mkdir()
            for name, g in baselines.items():
                g.save(tmp / "genotypes" / f"{name}.json")
    return summary


def finetune_genotype_on_cohort(supernet: str | Path | Supernet, genotype: Genotype, cohort: CohortData,
                                cfg: CohortSearchConfig) -> DerivedModel:
    """The searched supernet (a search folder, or in memory: left unchanged) restricted to ``genotype`` and
    fine-tuned exactly as the derived model is (Table 7's DARTS argmax / DARTS-PT rows)."""
    net = copy.deepcopy(supernet) if isinstance(supernet, Supernet) else _load_supernet(Path(supernet))
    model, _ = finetune_genotype(net, genotype, _final_data(cohort, cfg), cfg.discretise())
    return model


def split_scores(model: torch.nn.Module, cohort: CohortData, split: str = "held_out") -> np.ndarray:
    """First-output scores (probabilities) of a supernet / derived model on one split, in sample order."""
    idx = cohort.indices(split)
    batches = (cohort.batch(idx[i:i + 256]) for i in range(0, len(idx), 256))
    return evaluate(model, batches, model.config.task).scores[:, 0]  # type: ignore[arg-type]


def evaluate_on_cohort(model_dir: str | Path, features_dir: str | Path, samples_path: str | Path,
                       out_dir: str | Path, embeddings: dict[str, str] | None = None, n_boot: int = 1000) -> dict:
    """Held-out report of a derived model: ``metrics.json`` (CIs, ECE, subgroups, oracle) and ``curves.json``.

    Returns:
        The metrics dict written to ``metrics.json``.
    """
    model = load_derived(model_dir)
    cohort = CohortData(features_dir, samples_path, embeddings)
    test = cohort.indices("held_out")
    scores = split_scores(model, cohort)
    y = cohort.labels[test]
    groups = {k: v[test] for k, v in cohort.subgroups().items()}
    metrics = evaluate_binary(y, scores, groups=groups, n_boot=n_boot)
    metrics["split"], metrics["genotype"] = "held_out", model.genotype.digest()
    if cohort.oracle is not None:
        oracle = binary_metrics(y, cohort.oracle[test])
        metrics["oracle"] = {"auroc": oracle["auroc"], "aupr": oracle["aupr"]}
    with atomic_dir(Path(out_dir), overwrite=True) as tmp:
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2))
        (tmp / "curves.json").write_text(json.dumps(curves(y, scores), indent=2))
        np.save(tmp / "scores.npy", scores.astype(np.float32), allow_pickle=False)
    return metrics
