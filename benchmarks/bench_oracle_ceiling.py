"""Benchmark: how much of the synthetic cohort's oracle AUROC depends on information the model inputs lack.

The oracle is the generator's true outcome probability, a function of latent per-stay terms (severity, haemodynamic
and respiratory state, comfort-care status, X-ray findings, ...). The inputs show them only in part: findings only
through the image (a 16 px stand-in or a learned encoder), severity only noisily through vitals and labs. This
script draws the latent state of many stays from the generator (``model.data.synthetic_latent``), samples each
outcome from its true probability, and fits a logistic regression on the outcome's latent terms with pieces hidden
or seen with Gaussian noise; the held-out AUROCs bound what any model could reach with that much information.
Not a task cohort (every stay counts, no exclusions): a decomposition of the outcome score, seconds to run.

Usage:
  .venv/bin/python benchmarks/bench_oracle_ceiling.py [--n-stays 200000] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.data import synthetic_latent as latent  # noqa: E402
from model.data.synthetic_config import CohortConfig  # noqa: E402

NOISY = ("sev", "hemo", "resp")  # the states vitals and labs show with measurement noise and drift


def score_terms(s: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Per outcome: the latent terms of its score in ``_draw_outcomes``, by name; X-ray findings under ``cxr_*``."""
    return {
        "mortality": {"sev": s["sev"], "agez": (s["age"] - 63) / 16, "comfort": s["goals_of_care_comfort"] * 1.0,
                      "hemo": s["hemo"], "resp": s["resp"], "infect": s["infect"],
                      "shock_early_x_hemo": s["shock_early"] * s["hemo"], **{
                          k: s[k] for k in ("cxr_pleural_effusion", "cxr_cardiomegaly", "cxr_edema")}},
        "arf": {"resp": s["resp"], "sev": s["sev"], "hx_copd": s["hx_copd"],
                "cxr_edema_or_consolidation": np.maximum(s["cxr_edema"], s["cxr_consolidation"]),
                "cxr_lung_opacity": s["cxr_lung_opacity"]},
    }


def latent_terms(s: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The score terms plus the observable correlates of the findings (history, infection, surgery, imaged), so
    that hiding the findings leaves what the other inputs can still tell about them."""
    proxies = {k: s[k] * 1.0 for k in ("hx_chf", "hx_cancer", "infect", "post_surgical", "sev_high", "imaged")}
    return {task: {**terms, **{k: v for k, v in proxies.items() if k not in terms}}
            for task, terms in score_terms(s).items()}


def ceiling(terms: dict[str, np.ndarray], y: np.ndarray, rng: np.random.Generator, hide: tuple[str, ...] = (),
            noise: float = 0.0) -> float:
    """Held-out AUROC of a logistic regression on the terms not hidden, the noisy states with N(0, noise^2) added."""
    cols = [v + noise * rng.normal(size=len(v)) if k in NOISY else v
            for k, v in terms.items() if not any(k.startswith(h) for h in hide)]
    x = np.column_stack(cols)
    half = len(y) // 2
    model = LogisticRegression(max_iter=2000).fit(x[:half], y[:half])
    return float(roc_auc_score(y[half:], model.decision_function(x[half:])))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-stays", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    cfg = CohortConfig()
    s = latent.draw_stays(cfg, latent.draw_patients(cfg, rng, a.n_stays), rng)
    probs = {"mortality": s["p_mortality"], "arf": s["p_arf"]}
    rows = [("all latent terms", (), 0.0), ("without the X-ray findings", ("cxr_",), 0.0),
            ("without comfort care (notes)", ("comfort",), 0.0),
            ("without the early-shock x hemo interaction", ("shock_early",), 0.0)]
    rows += [(f"sev/hemo/resp seen with noise sd {n}", (), n) for n in (0.3, 0.5, 0.7)]
    rows += [(f"noise sd {n} and without the X-ray findings", ("cxr_",), n) for n in (0.3, 0.5, 0.7)]
    print(f"{a.n_stays} stays, seed {a.seed}, imaged {s['imaged'].mean():.3f}; held-out half of the stays\n")
    print("| information | " + " | ".join(f"{t} AUROC (ceiling - oracle)" for t in probs) + " |")
    print("|---|" + "---|" * len(probs))
    ys = {t: rng.random(len(pr)) < pr for t, pr in probs.items()}
    half = a.n_stays // 2
    oracle = {t: roc_auc_score(ys[t][half:], probs[t][half:]) for t in probs}
    print("| oracle (true probability) | " + " | ".join(f"{oracle[t]:.4f}" for t in probs) + " |")
    terms = latent_terms(s)
    for name, hide, noise in rows:
        cells = []
        for t in probs:
            if hide and not any(k.startswith(h) for k in terms[t] for h in hide):
                cells.append("(no such term)")
                continue
            c = ceiling(terms[t], ys[t], np.random.default_rng(a.seed + 1), hide, noise)
            cells.append(f"{c:.4f} ({c - oracle[t]:+.4f})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
