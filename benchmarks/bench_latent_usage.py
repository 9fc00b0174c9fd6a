"""Which parts of the generator's outcome score a trained model picks up (synthetic cohort only).

Reads a ``bench_search_quality.py`` work folder, rebuilds the cohort's latent per-stay state from its generation
config (``model.data.synthetic._stay_table``: same seed, same draws), matches each held-out sample to its stay, and
regresses the model's held-out logit and the oracle's on the outcome's latent terms. A term whose coefficient
ratio (model / oracle) is far below 1 is one the model under-uses: missing from its inputs, or not learnt.

Usage:
  .venv/bin/python benchmarks/bench_latent_usage.py --work DIR [--task mortality] [--mode standin] [--scores F]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.linear_model import LinearRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_oracle_ceiling import score_terms  # noqa: E402

from model.data.synthetic import _stay_table  # noqa: E402
from model.data.synthetic_config import CohortConfig  # noqa: E402

PROB = {"mortality": "p_mortality", "arf": "p_arf"}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", required=True)
    p.add_argument("--task", choices=sorted(PROB), default="mortality")
    p.add_argument("--mode", default="standin", help="the input mode folder of the work folder's task")
    p.add_argument("--scores", default=None, help="held-out scores (.npy); default: the derived model's")
    a = p.parse_args()
    work = Path(a.work)
    gen = json.loads((work / "meds" / "metadata" / "generation.json").read_text())["config"]
    _, s = _stay_table(CohortConfig(n_stays=gen["n_stays"], image_size=gen["image_size"], seed=gen["seed"]))
    stays = pl.DataFrame({"subject_id": s["subject_id"], "anchor_time": pl.Series(s["icu_us"]).cast(pl.Datetime("us")),
                          "stay": np.arange(len(s["stay_id"]))})
    samples = pl.read_parquet(work / "labels" / "samples" / f"{a.task}.parquet")
    joined = samples.join(stays, on=["subject_id", "anchor_time"], how="left", maintain_order="left")
    if joined["stay"].null_count():
        raise SystemExit(f"{joined['stay'].null_count()} samples match no generated stay: not this cohort's config")
    held = (joined["split"] == "held_out").to_numpy()
    stay = joined["stay"].to_numpy()[held]
    oracle = s[PROB[a.task]][stay]
    if not np.allclose(oracle, joined["oracle_p"].to_numpy()[held]):
        raise SystemExit("rebuilt latent state does not reproduce the samples' oracle_p")
    scores = np.load(a.scores or work / a.task / a.mode / "eval" / "scores.npy")
    y = joined["boolean_value"].to_numpy()[held]
    terms = {k: v[stay] for k, v in score_terms(s)[a.task].items()}
    x = np.column_stack(list(terms.values()))
    fit_o, fit_m = LinearRegression().fit(x, _logit(oracle)), LinearRegression().fit(x, _logit(scores))
    print(f"{a.task}, {held.sum()} held-out samples: AUROC model {roc_auc_score(y, scores):.3f}, oracle "
          f"{roc_auc_score(y, oracle):.3f}; R^2 of the model logit on the latent terms "
          f"{fit_m.score(x, _logit(scores)):.3f}\n")
    print("| latent term | oracle coefficient | model coefficient | ratio |\n|---|---|---|---|")
    for name, co, cm in zip(terms, fit_o.coef_, fit_m.coef_):
        print(f"| {name} | {co:+.3f} | {cm:+.3f} | {cm / co:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
