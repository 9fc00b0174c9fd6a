"""How the kept architecture is trained last: start weights, and an ensemble of several final trainings.

Reads a ``bench_search_quality.py`` work folder (searched supernet, pruning's genotype, cohort of one task) and
retrains the pruned genotype with the derived model's final fine-tune (all of train, early-stopped on tuning) from
each ``--inits`` start: ``supernet`` (the searched weights, the default), ``scratch`` (fresh weights, DARTS's
retraining) or ``kept``. Each start is run ``--members`` times with seeds seed, seed+1, ... (data order and
dropout); the held-out AUROC of every member, their mean and the ensemble (mean probability) are printed next to
the oracle and the work folder's derived model, with paired bootstrap CIs of the differences to the oracle.
``--first-member K`` starts the seeds at seed+K; with ``--join-derived`` the new members are pooled with the work
folder's derived model (its members: seeds seed .. seed+K-1), i.e. the derived model with more members.

Usage:
  .venv/bin/python benchmarks/bench_final_training.py --work DIR [--task mortality] [--mode standin]
      [--inits supernet scratch] [--members 3] [--final-lr 1e-3] [--patience 5] [--steps 1000]
      [--first-member 5 --join-derived] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.derived import DerivedEnsemble, load_derived  # noqa: E402
from model.errors import DataValidationError  # noqa: E402
from model.fusion.evaluate import bootstrap_paired_diff  # noqa: E402
from model.search.cohort_data import CohortData  # noqa: E402
from model.search.genotype import Genotype  # noqa: E402
from model.search.selection import FINAL_INITS  # noqa: E402
from model.search.task_runner import (  # noqa: E402
    CohortSearchConfig,
    _load_supernet,
    finetune_genotype_on_cohort,
    split_scores,
)


def paired(y: np.ndarray, a: np.ndarray, b: np.ndarray, n_boot: int) -> str:
    """``A - B`` AUROC with its paired 95% bootstrap CI."""
    d = bootstrap_paired_diff(y[:, None].astype(float), [a[:, None]], [b[:, None]], n_boot=n_boot)
    return f"{d[0]:+.4f} [{d[1]:+.4f}, {d[2]:+.4f}]"


def saved_members(a: argparse.Namespace, rdir: Path, cfg: CohortSearchConfig, derived: np.ndarray | None) -> int:
    """Members of the work folder's derived model, checked to be poolable with the new ones."""
    saved = load_derived(rdir / "prune")
    n_saved = len(saved.members) if isinstance(saved, DerivedEnsemble) else 1
    if derived is None or a.inits != [cfg.final_init] or a.first_member < n_saved:
        raise SystemExit(f"--join-derived needs the folder's evaluated derived model, --inits {cfg.final_init} "
                         f"(its start) and --first-member >= {n_saved} (its members' seeds)")
    return n_saved


def join_derived(a: argparse.Namespace, n_saved: int, y: np.ndarray, oracle: np.ndarray, derived: np.ndarray,
                 new: list[np.ndarray]) -> dict:
    """The work folder's derived model with the new members added: the mean probability over all members."""
    pooled = (n_saved * derived + len(new) * np.mean(new, axis=0)) / (n_saved + len(new))
    row = {"members": n_saved + len(new), "auroc": roc_auc_score(y, pooled)}
    print(f"  derived model ({n_saved} members) + these {len(new)}: ensemble of {row['members']} "
          f"{row['auroc']:.4f}; - oracle {paired(y, pooled, oracle, a.n_boot)}, - derived "
          f"{paired(y, pooled, derived, a.n_boot)}", flush=True)
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--task", default="mortality")
    p.add_argument("--mode", default="standin", help="input mode folder of the task (emb_<mode>, <mode>/search)")
    p.add_argument("--inits", nargs="+", choices=FINAL_INITS, default=["supernet", "scratch"])
    p.add_argument("--members", type=int, default=3, help="final trainings per start (seeds seed, seed+1, ...)")
    p.add_argument("--final-lr", type=float, default=None, help="default: the work folder's")
    p.add_argument("--patience", type=int, default=None, help="evaluations without gain (default: the folder's)")
    p.add_argument("--steps", type=int, default=None, help="most final steps (default: the folder's)")
    p.add_argument("--first-member", type=int, default=0, help="seed offset of the first member")
    p.add_argument("--join-derived", action="store_true",
                   help="also pool the new members with the work folder's derived model (same start, earlier seeds)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    work, task_dir = Path(a.work), Path(a.work) / a.task
    rdir, emb_dir = task_dir / a.mode, task_dir / f"emb_{a.mode}"
    emb = {k: str(emb_dir / k) for k in ("notes", "cxr") if (emb_dir / k).is_dir()}
    try:
        cohort = CohortData(task_dir / "features", work / "labels" / "samples" / f"{a.task}.parquet", emb)
        cfg = CohortSearchConfig.from_dict(json.loads((rdir / "search" / "search_log.json").read_text())["config"])
        genotype = Genotype.load(rdir / "prune" / "genotype.json")
        supernet = _load_supernet(rdir / "search")
    except (DataValidationError, OSError, KeyError) as exc:
        raise SystemExit(f"not a finished bench_search_quality work folder of task {a.task!r}: {exc}") from None
    if cohort.oracle is None:
        raise SystemExit("the samples have no oracle_p column: not a synthetic cohort")
    overrides = {k: v for k, v in (("final_lr", a.final_lr), ("final_patience", a.patience),
                                   ("final_finetune_steps", a.steps)) if v is not None}
    cfg = replace(cfg, **overrides)
    y = cohort.labels[cohort.indices("held_out")].astype(int)
    oracle = cohort.oracle[cohort.indices("held_out")]
    saved = rdir / "eval" / "scores.npy"
    derived = np.load(saved) if saved.is_file() else None
    print(f"{a.task}: held-out {len(y)} ({y.sum()} positive), oracle {roc_auc_score(y, oracle):.4f}"
          + (f", work folder's derived model {roc_auc_score(y, derived):.4f}" if derived is not None else "")
          + f"; final lr {cfg.final_lr}, patience {cfg.final_patience}, <= {cfg.final_finetune_steps} steps",
          flush=True)
    n_saved = saved_members(a, rdir, cfg, derived) if a.join_derived else 0
    out: dict = {"args": vars(a), "oracle": roc_auc_score(y, oracle), "inits": {}}
    every: list[np.ndarray] = []
    for init in a.inits:
        members = []
        for k in range(a.members):
            t0 = time.perf_counter()
            model = finetune_genotype_on_cohort(supernet, genotype, cohort,
                                                replace(cfg, final_init=init, seed=cfg.seed + a.first_member + k,
                                                        final_members=1))
            members.append(split_scores(model, cohort))
            print(f"  {init} member {a.first_member + k}: held-out AUROC {roc_auc_score(y, members[-1]):.4f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
        ens = np.mean(members, axis=0)
        aucs = [roc_auc_score(y, m) for m in members]
        row = {"members": aucs, "member_mean": float(np.mean(aucs)), "ensemble": roc_auc_score(y, ens)}
        print(f"  {init}: members mean {row['member_mean']:.4f} (min {min(aucs):.4f}, max {max(aucs):.4f}), "
              f"ensemble of {a.members} {row['ensemble']:.4f}; ensemble - oracle {paired(y, ens, oracle, a.n_boot)}"
              + (f", ensemble - derived {paired(y, ens, derived, a.n_boot)}" if derived is not None else ""),
              flush=True)
        out["inits"][init] = row
        every += members
    if len(a.inits) > 1:
        ens = np.mean(every, axis=0)
        out["ensemble_all"] = roc_auc_score(y, ens)
        print(f"  all {len(every)} members ({' + '.join(a.inits)}): ensemble {out['ensemble_all']:.4f}; - oracle "
              f"{paired(y, ens, oracle, a.n_boot)}"
              + (f", - derived {paired(y, ens, derived, a.n_boot)}" if derived is not None else ""), flush=True)
    if a.join_derived:
        out["joined"] = join_derived(a, n_saved, y, oracle, derived, every)  # type: ignore[arg-type]
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
