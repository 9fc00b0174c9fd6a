"""A non-neural reference on the derived model's own inputs: gradient-boosted trees on flattened features.

Reads a ``bench_search_quality.py`` work folder (feature store, labels, stand-in embeddings of one task), flattens
each sample's sequences to per-feature aggregates over time (max, mean, mean of the last quarter) next to the
static table and the embeddings (NaN where a modality is absent), fits scikit-learn's
``HistGradientBoostingClassifier`` on train (a small grid, chosen on the tuning split; internal early stopping on
15% of train) and prints held-out AUROC against the oracle and, when present, the derived model's
``eval/metrics.json``. ``--n-train`` subsamples train for a learning curve; ``--aggs`` drops aggregates, e.g. to
ask what the cells' max pooling alone leaves a tree model.

Usage:
  .venv/bin/python benchmarks/bench_gbt_reference.py --work DIR [--task mortality] [--mode standin]
      [--n-train 5000 13000] [--aggs max mean last]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.errors import DataValidationError  # noqa: E402
from model.search.cohort_data import CohortData  # noqa: E402

AGGS = ("max", "mean", "last")
GRID = ((0.03, 7), (0.03, 15), (0.1, 7), (0.1, 15))  # (learning rate, max leaf nodes)


def flatten(cohort: CohortData, idx: np.ndarray, aggs: tuple[str, ...], chunk: int = 500) -> np.ndarray:
    """[n, features]: sequence aggregates over time, the static table, then the embeddings (NaN if absent)."""
    parts = []
    steps = cohort.store.L
    for table in cohort.tables:
        if not cohort.store.tables[table]["temporal"]:
            parts.append(cohort.store.dense(table, cohort.rows[idx]))
            continue
        out = []
        for i in range(0, len(idx), chunk):
            rows = cohort.rows[idx[i:i + chunk]]
            x = cohort.store.rows(table, rows).toarray().reshape(len(rows), steps, -1)
            stat = {"max": lambda: x.max(1), "mean": lambda: x.mean(1),
                    "last": lambda: x[:, -max(1, steps // 4):].mean(1)}
            out.append(np.concatenate([stat[a]() for a in aggs], axis=1))
        parts.append(np.concatenate(out))
    for emb in cohort.embeddings.values():
        row = emb.row[idx]
        vec = np.full((len(idx), emb.vectors.shape[1]), np.nan, dtype=np.float32)
        vec[row >= 0] = emb.vectors[row[row >= 0]]
        parts.append(vec)
    return np.concatenate(parts, axis=1).astype(np.float32)


def fit_reference(x_tr: np.ndarray, y_tr: np.ndarray, x_tu: np.ndarray, y_tu: np.ndarray, seed: int = 0
                  ) -> tuple[HistGradientBoostingClassifier, dict]:
    """The grid point with the best tuning AUROC."""
    best: tuple | None = None
    for lr, leaves in GRID:
        model = HistGradientBoostingClassifier(learning_rate=lr, max_leaf_nodes=leaves, max_iter=2000,
                                               l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
                                               n_iter_no_change=50, random_state=seed)
        model.fit(x_tr, y_tr)
        auc = roc_auc_score(y_tu, model.predict_proba(x_tu)[:, 1])
        if best is None or auc > best[0]:
            best = (auc, model, {"learning_rate": lr, "max_leaf_nodes": leaves, "tuning_auroc": auc})
    assert best is not None
    return best[1], best[2]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--task", default="mortality")
    p.add_argument("--mode", default="standin", help="embedding folder emb_<mode> of the task")
    p.add_argument("--n-train", type=int, nargs="*", default=[], help="train subsample sizes (default: all)")
    p.add_argument("--aggs", nargs="+", choices=AGGS, default=list(AGGS))
    a = p.parse_args()
    work, task_dir = Path(a.work), Path(a.work) / a.task
    emb_dir = task_dir / f"emb_{a.mode}"
    emb = {k: str(emb_dir / k) for k in ("notes", "cxr") if (emb_dir / k).is_dir()}
    try:
        cohort = CohortData(task_dir / "features", work / "labels" / "samples" / f"{a.task}.parquet", emb)
    except (DataValidationError, OSError) as exc:
        raise SystemExit(f"not a bench_search_quality work folder of task {a.task!r}: {exc}") from None
    if cohort.oracle is None:
        raise SystemExit("the samples have no oracle_p column: not a synthetic cohort")
    tr, tu, ho = (cohort.indices(s) for s in ("train", "tuning", "held_out"))
    aggs = tuple(a.aggs)
    x_tr, x_tu, x_ho = (flatten(cohort, i, aggs) for i in (tr, tu, ho))
    y_ho = cohort.labels[ho]
    oracle = roc_auc_score(y_ho, cohort.oracle[ho])
    metrics = task_dir / a.mode / "eval" / "metrics.json"
    derived = json.loads(metrics.read_text())["auroc"] if metrics.is_file() else None
    print(f"{a.task}: {x_tr.shape[1]} flattened features ({', '.join(aggs)}), held-out {len(ho)} "
          f"({int(y_ho.sum())} positive), oracle AUROC {oracle:.4f}"
          + (f", derived model {derived:.4f} ({derived - oracle:+.4f})" if derived is not None else ""))
    rng = np.random.default_rng(0)
    for n in a.n_train or [len(tr)]:
        sub = rng.permutation(len(tr))[:min(n, len(tr))]
        model, info = fit_reference(x_tr[sub], cohort.labels[tr][sub], x_tu, cohort.labels[tu])
        auc = roc_auc_score(y_ho, model.predict_proba(x_ho)[:, 1])
        print(f"  GBT, {len(sub)} train samples (lr {info['learning_rate']}, {info['max_leaf_nodes']} leaves, "
              f"tuning {info['tuning_auroc']:.4f}): held-out AUROC {auc:.4f}, - oracle {auc - oracle:+.4f}"
              + (f", - derived {auc - derived:+.4f}" if derived is not None else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
