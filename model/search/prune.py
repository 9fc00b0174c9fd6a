"""Pruning-based discretisation (Algorithm 1), without the reference code's bugs.

Each step picks a random non-discrete edge, scores every alive op on it with only that op removed (the other
weights renormalised by the masked softmax; the mask restored after each candidate), removes the op whose removal
scores best, fine-tunes the weights, and records the validation of the pruned supernet and of its argmax
completion (a discrete architecture). The kept point is the best completed architecture on that trajectory
(``select="best"``) or the fully pruned supernet (``select="final"``, default). The kept architecture is then
fine-tuned "until it converges again", keeping its best validation point; genotype, weights and the whole
trajectory are saved.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.derived import DerivedEnsemble, DerivedModel, save_derived
from model.io_atomic import atomic_file
from model.search.checkpoint import state_to_cpu
from model.search.derive import derive_model, discretise_to
from model.search.genotype import Genotype
from model.search.search_loop import SearchData
from model.search.selection import (
    DiscretiseConfig,
    Finetuner,
    Scorer,
    alive_state,
    argmax_genotype,
    candidate_scorer,
    default_scorer,
    evaluate_as,
    set_alive_state,
)
from model.search.supernet import Supernet


@dataclass
class PruneResult:
    """Outcome of Algorithm 1."""

    genotype: Genotype
    derived: DerivedModel | DerivedEnsemble
    trajectory: list[dict[str, Any]] = field(default_factory=list)
    best_step: int = 0


def _point(step: int, net: Supernet, scorer: Scorer, metric: str, extra: dict[str, Any]) -> tuple[dict, tuple]:
    sup = scorer(net)
    completed = argmax_genotype(net, "autofm_prune")
    comp = evaluate_as(net, completed, scorer)
    rec = {"step": step, **extra, "supernet_val_loss": sup.loss,
           **{f"supernet_val_{k}": v for k, v in sup.metrics.items()},
           "completed_val_loss": comp.loss,
           **{f"completed_val_{k}": v for k, v in comp.metrics.items()},
           "completed_genotype": completed.digest(), "discrete": net.is_discrete()}
    return rec, comp.score(metric)


def _final_finetune(net: Supernet, tuner: Finetuner, scorer: Scorer, config: DiscretiseConfig,
                    step: int) -> list[dict[str, Any]]:
    """Fine-tune the discrete net with early stopping, keep its best validation point (loaded into ``net``).

    Returns:
        One record per evaluation.
    """
    if config.final_finetune_steps <= 0:
        return []
    tuner.set_lr(config.final_lr if config.final_lr is not None else config.finetune_lr)
    tuner.opt.state.clear()  # fresh moments: the discrete net's gradients differ from the supernet's
    res = scorer(net)
    best_key, best_state, records, done, bad = res.score(config.metric), state_to_cpu(net.state_dict()), [], 0, 0
    while done < config.final_finetune_steps and not (config.final_patience and bad >= config.final_patience):
        n = min(config.eval_every, config.final_finetune_steps - done)
        tuner.run(n)
        done += n
        res = scorer(net)
        records.append({"step": step, "edge": None, "removed": None, "finetune_steps": done,
                        "discrete_val_loss": res.loss, **{f"discrete_val_{k}": v for k, v in res.metrics.items()}})
        if res.score(config.metric) > best_key:
            best_key, best_state, bad = res.score(config.metric), state_to_cpu(net.state_dict()), 0
        else:
            bad += 1
    net.load_state_dict(best_state)
    return records


def score_candidates(net: Supernet, edge: Any, tuner: Finetuner, scorer: Scorer, config: DiscretiseConfig
                     ) -> dict[int, tuple[float, float]]:
    """Validation key of the supernet with each alive op of ``edge`` removed (one at a time, then restored).

    With ``candidate_finetune_steps`` every candidate first gets the same few weight steps from the same
    weights, undone afterwards, so that candidates are compared after the net has adapted to the removal.
    """
    k = config.candidate_finetune_steps
    batches = tuner.take(k) if k else []
    snap = tuner.snapshot() if k else None
    out = {}
    for i in edge.alive_indices():
        with edge.without(i):
            if snap is not None:
                tuner.run_on(batches)
            out[i] = scorer(net).score(config.metric)
            if snap is not None:
                tuner.restore(snap)
    return out


def fresh_state(net: Supernet, seed: int) -> dict[str, torch.Tensor]:
    """Weights of a newly initialised supernet of ``net``'s space (``final_init="scratch"``); RNG state kept."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return state_to_cpu(Supernet(net.config).to(next(net.parameters()).dtype).state_dict())


def _final_start(net: Supernet, config: DiscretiseConfig) -> dict[str, torch.Tensor] | None:
    """The final fine-tune's starting weights fixed before pruning (None: the kept point's, ``"kept"``)."""
    if config.final_init == "supernet":
        return state_to_cpu(net.state_dict())
    return fresh_state(net, config.seed) if config.final_init == "scratch" else None


def _more_members(net: Supernet, genotype: Genotype, start: dict[str, torch.Tensor], data: SearchData,
                  scorer: Scorer, config: DiscretiseConfig, step: int) -> tuple[list[DerivedModel], list[dict]]:
    """Members 1.. of the final training: each from ``start`` (fresh weights of its seed for ``"scratch"``),
    seed ``config.seed + k`` for its data order and dropout."""
    members, records = [], []
    for k in range(1, config.final_members):
        seed = config.seed + k
        net.load_state_dict(fresh_state(net, seed) if config.final_init == "scratch" else start)
        discretise_to(net, genotype)
        torch.manual_seed(seed)
        tuner = Finetuner(net, data, config.finetune_lr, seed)
        records += [{**r, "member": k} for r in _final_finetune(net, tuner, scorer, config, step)]
        members.append(derive_model(net, genotype))
    return members, records


def _as_model(members: list[DerivedModel]) -> DerivedModel | DerivedEnsemble:
    return members[0] if len(members) == 1 else DerivedEnsemble(members)


def finetune_genotype(net: Supernet, genotype: Genotype, data: SearchData, config: DiscretiseConfig
                      ) -> tuple[DerivedModel | DerivedEnsemble, list[dict[str, Any]]]:
    """Restrict ``net`` to ``genotype`` (in place) and give it the final fine-tune on ``data`` (e.g. the DARTS
    argmax / DARTS-PT genotypes, trained exactly as the derived model is; ``final_init="scratch"`` first
    re-initialises the weights, the other inits start from ``net``'s).

    Returns:
        The derived model of the best validation point (an ensemble with ``config.final_members`` > 1) and the
        fine-tuning records.
    """
    start = _final_start(net, config) or state_to_cpu(net.state_dict())  # "kept": net's own weights
    net.load_state_dict(start)
    discretise_to(net, genotype)
    torch.manual_seed(config.seed)
    tuner = Finetuner(net, data, config.finetune_lr, config.seed)
    scorer = default_scorer(data)
    records = _final_finetune(net, tuner, scorer, config, 0)
    members = [derive_model(net, genotype)]
    more, more_records = _more_members(net, genotype, start, data, scorer, config, 0)
    return _as_model(members + more), records + more_records


def prune_supernet(net: Supernet, data: SearchData, config: DiscretiseConfig, out_dir: str | Path | None = None,
                   scorer: Scorer | None = None, final_data: SearchData | None = None) -> PruneResult:
    """Run Algorithm 1 on a trained supernet (in place: its alive masks end fully pruned).

    Args:
        net: The trained supernet.
        data: Training batches (fine-tuning) and validation batches (scoring).
        config: Fine-tuning and selection settings.
        out_dir: If given, ``genotype.json``, ``weights.safetensors`` and ``trajectory.json`` are written there
            atomically (replacing an existing directory).
        scorer: Validation scorer of the trajectory and the final fine-tune (default: ``evaluate`` on
            ``data.val()``); candidates are scored on ``config.candidate_split``.
        final_data: Training batches of the final fine-tune (default ``data``). DARTS retrains the kept
            architecture on all of train (``retrain_data``): the search held half of it out for architecture steps.

    Returns:
        The kept genotype, its derived model (after the final fine-tune from ``config.final_init``; an ensemble
        of ``config.final_members`` such trainings when > 1) and the trajectory.
    """
    scorer = scorer or default_scorer(data)
    cand_scorer = candidate_scorer(data, config, scorer)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    tuner = Finetuner(net, data, config.finetune_lr, config.seed)
    start = _final_start(net, config)
    rec, key = _point(0, net, scorer, config.metric, {"edge": None, "removed": None})
    trajectory = [rec]
    best = (key, 0, argmax_genotype(net, "autofm_prune"), state_to_cpu(net.state_dict()))
    step = 0
    while not net.is_discrete():
        step += 1
        open_edges = [e for e in net.edges().values() if len(e.alive_indices()) > 1]
        edge = open_edges[int(rng.integers(len(open_edges)))]
        candidates = score_candidates(net, edge, tuner, cand_scorer, config)
        worst = max(candidates, key=lambda i: candidates[i])
        edge.remove(worst)
        tuner.run(config.finetune_steps)
        rec, key = _point(step, net, scorer, config.metric, {
            "edge": edge.edge_id, "removed": edge.op_names[worst],
            "candidates": {edge.op_names[i]: s[0] if math.isfinite(s[0]) else None for i, s in candidates.items()}})
        trajectory.append(rec)
        if config.select == "best" and key >= best[0] or config.select == "final" and net.is_discrete():
            best = (key, step, argmax_genotype(net, "autofm_prune"), state_to_cpu(net.state_dict()))
    _, best_step, genotype, state = best
    final_alive, final_state = alive_state(net), state_to_cpu(net.state_dict())
    start = start if start is not None else state
    net.load_state_dict(start)
    discretise_to(net, genotype)
    if final_data is not None:
        tuner = Finetuner(net, final_data, config.finetune_lr, config.seed)
    trajectory += _final_finetune(net, tuner, scorer, config, step)
    first = derive_model(net, genotype)
    more, records = _more_members(net, genotype, start, final_data or data, scorer, config, step)
    derived = _as_model([first] + more)
    trajectory += records
    net.load_state_dict(final_state)
    set_alive_state(net, final_alive)
    result = PruneResult(genotype, derived, trajectory, best_step)
    if out_dir is not None:
        save_prune_result(result, out_dir, config)
    return result


def save_prune_result(result: PruneResult, out_dir: str | Path, config: DiscretiseConfig) -> None:
    """Write the kept architecture (genotype + safetensors weights) and the trajectory JSON."""
    out_dir = Path(out_dir)
    save_derived(result.derived, out_dir, overwrite=True)
    with atomic_file(out_dir / "trajectory.json") as fh:
        json.dump({"best_step": result.best_step, "config": asdict(config), "trajectory": result.trajectory},
                  fh, indent=2, allow_nan=True)
