"""The synthetic cohort's latent per-stay state, its outcomes, and each outcome's true probability.

Signal is spread across modalities on purpose: `goals_of_care_comfort` is stated only in notes; the chest X-ray
findings (drawn only for imaged stays) reach the outcomes only through the images; mortality has a term that only
an interaction shows (early vasopressors together with the haemodynamic state seen in blood pressure); the
rest is seen, noisily, in vitals, labs, infusions and procedures.

Outcome draws are independent of cohort membership given the latent state, so the written probabilities are the
exact conditional probabilities of the task labels (see `arf_label_probability`).
"""

from __future__ import annotations

import numpy as np

from model.data.render_cxr import FINDINGS
from model.data.synthetic_config import CohortConfig

HX_PREVALENCE = {
    "hx_chf": 0.15, "hx_copd": 0.12, "hx_diabetes": 0.25, "hx_ckd": 0.15, "hx_cad": 0.22, "hx_hypertension": 0.45,
    "hx_hyperlipidemia": 0.35, "hx_liver_disease": 0.07, "hx_afib": 0.18, "hx_alcohol_use": 0.08, "hx_stroke": 0.06,
    "hx_gi_bleed": 0.05, "hx_cancer": 0.12, "hx_depression": 0.12, "hx_asthma": 0.07,
}
AGE_RELATED = ("hx_chf", "hx_ckd", "hx_cad", "hx_hypertension", "hx_afib", "hx_hyperlipidemia", "hx_stroke")
ARF_EARLY_SHARE, SHOCK_EARLY_SHARE = 0.4, 0.4


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _intercept_for_mean(score: np.ndarray, target: float) -> float:
    """Intercept b such that mean(sigmoid(b + score)) == target (bisection): prevalences stay stable."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(mid + score).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _bern(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    return rng.random(p.shape) < p


def draw_patients(cfg: CohortConfig, rng: np.random.Generator, n_stays: int) -> dict[str, np.ndarray]:
    """Patients: demographics and chronic history, with exactly `n_stays` planned stays between them."""
    n_planned = np.minimum(1 + rng.poisson(0.6, size=n_stays), 4)
    n_pat = int(np.searchsorted(np.cumsum(n_planned), n_stays)) + 1
    n_planned = n_planned[:n_pat]
    n_planned[-1] -= int(n_planned.sum() - n_stays)
    age0 = np.clip(rng.normal(63, 16, n_pat), 18, 92)
    pat: dict[str, np.ndarray] = {
        "subject_id": 10_000_000 + np.arange(n_pat, dtype=np.int64) * 3 + rng.integers(0, 3, n_pat),
        "n_planned": n_planned,
        "female": rng.random(n_pat) < 0.44,
        "age0": age0,
        "race": rng.choice(6, size=n_pat, p=cfg.race_p),
    }
    for name, prev in HX_PREVALENCE.items():
        shift = 0.035 * (age0 - 63) if name in AGE_RELATED else np.zeros(n_pat)
        pat[name] = _bern(rng, sigmoid(logit(prev) + shift))
    return pat


def draw_stays(cfg: CohortConfig, pat: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Stays with latent state, outcomes, times (hours from ICU admission) and true label probabilities."""
    pidx = np.repeat(np.arange(len(pat["subject_id"])), pat["n_planned"])
    n = len(pidx)
    first = np.r_[True, pidx[1:] != pidx[:-1]]
    seq = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    gap_days = np.where(first, 0.0, rng.uniform(20, 700, n))
    start_days = rng.uniform(0, 365 * 70, len(pat["subject_id"]))[pidx]
    admit_day = start_days + _cumsum_by_group(gap_days, first)
    s: dict[str, np.ndarray] = {"pidx": pidx, "seq": seq, "admit_day": admit_day}
    s["age"] = pat["age0"][pidx] + (admit_day - start_days) / 365.25
    for name in HX_PREVALENCE:
        s[name] = pat[name][pidx].astype(float)
    agez = (s["age"] - 63) / 16
    s["sev"] = rng.normal(size=n)
    s["resp"] = 0.35 * s["sev"] + np.sqrt(1 - 0.35**2) * rng.normal(size=n) + 0.4 * s["hx_copd"]
    s["hemo"] = 0.35 * s["sev"] + np.sqrt(1 - 0.35**2) * rng.normal(size=n)
    s["infect"] = _bern(rng, sigmoid(-1.0 + 0.7 * s["sev"])).astype(float)
    s["goals_of_care_comfort"] = _bern(rng, sigmoid(-2.4 + 0.5 * agez + 0.3 * s["sev"] + 0.8 * s["hx_cancer"]))
    s["post_surgical"] = _bern(rng, np.full(n, 0.2)).astype(float)
    s["stroke_acute"] = _bern(rng, sigmoid(-3.4 + 2.0 * s["hx_stroke"])).astype(float)
    s["confusion"] = _bern(rng, sigmoid(-2.0 + 0.6 * s["sev"] + 2.5 * s["stroke_acute"] + 0.8 * s["hx_alcohol_use"]))
    s["ami"] = _bern(rng, sigmoid(-3.2 + 1.5 * s["hx_cad"])).astype(float)
    s["aki"] = _bern(rng, sigmoid(-2.0 + 0.8 * s["hemo"] + 1.0 * s["hx_ckd"] + 0.5 * s["sev"])).astype(float)
    s["fluid_lyte"] = _bern(rng, sigmoid(-1.0 + 0.5 * s["sev"])).astype(float)
    s["sev_high"] = (s["sev"] > 0.5).astype(float)
    _draw_imaging(cfg, s, rng)
    _draw_outcomes(cfg, s, rng)
    return s


def _cumsum_by_group(x: np.ndarray, first: np.ndarray) -> np.ndarray:
    c = np.cumsum(x)
    base = np.maximum.accumulate(np.where(first, c - x, -np.inf))
    return c - base


def _draw_imaging(cfg: CohortConfig, s: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Who gets a chest X-ray (sicker patients more often) and its findings (image-only latent `lung_injury`)."""
    n = len(s["sev"])
    score = 0.9 * s["sev"] + 0.8 * s["resp"]
    s["imaged"] = _bern(rng, sigmoid(_intercept_for_mean(score, cfg.image_rate) + score))
    lung = rng.normal(size=n)
    f = {name: np.zeros(n, dtype=bool) for name in FINDINGS}
    b = lambda z: _bern(rng, sigmoid(z))  # noqa: E731
    f["Cardiomegaly"] = b(-2.0 + 2.5 * s["hx_chf"] + 0.4 * (s["age"] - 63) / 16)
    f["Enlarged Cardiomediastinum"] = b(-3.0 + 1.0 * f["Cardiomegaly"])
    f["Edema"] = b(-2.2 + 1.6 * s["hx_chf"] + 0.9 * lung)
    f["Consolidation"] = b(-2.3 + 1.4 * s["infect"] + 0.9 * lung)
    f["Pneumonia"] = b(-2.8 + 1.6 * s["infect"] + 1.2 * f["Consolidation"])
    f["Atelectasis"] = b(-1.8 + 0.6 * s["post_surgical"] + 0.4 * lung)
    f["Lung Opacity"] = b(-2.0 + 1.5 * (f["Edema"] | f["Consolidation"] | f["Atelectasis"]))
    f["Pleural Effusion"] = b(-1.8 + 1.4 * s["hx_chf"] + 0.7 * lung)
    f["Pneumothorax"] = b(-3.6 + 1.2 * s["post_surgical"])
    f["Lung Lesion"] = b(-3.2 + 2.0 * s["hx_cancer"])
    f["Pleural Other"] = b(np.full(n, -4.0))
    f["Fracture"] = b(-4.0 + 1.0 * s["post_surgical"])
    f["Support Devices"] = b(-1.0 + 1.5 * s["sev_high"])
    others = np.stack([f[k] for k in FINDINGS if k not in ("No Finding", "Support Devices")]).any(axis=0)
    f["No Finding"] = ~others
    for name in FINDINGS:
        s[_finding_col(name)] = (f[name] & s["imaged"]).astype(float)


def _finding_col(name: str) -> str:
    return "cxr_" + name.lower().replace(" ", "_")


def finding_columns() -> list[str]:
    """Stay-table column names of the 14 findings, in FINDINGS order."""
    return [_finding_col(n) for n in FINDINGS]


def _draw_outcomes(cfg: CohortConfig, s: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    n = len(s["sev"])
    agez = (s["age"] - 63) / 16
    fc = {k: s[_finding_col(k)] for k in FINDINGS}
    lung_img = np.maximum(fc["Edema"], fc["Consolidation"])
    # ICU length of stay and early deaths (< 48 h) depend only on the latent state.
    los = np.exp(np.log(62) + 0.25 * s["sev"] + 0.15 * s["resp"] + 0.6 * rng.normal(size=n))
    los = np.clip(los, 6.0, 24 * 40.0)
    early_death = _bern(rng, sigmoid(-4.4 + 0.9 * s["sev"] + 0.6 * s["hemo"]))
    t_early = rng.uniform(3.0, 47.0, n)
    early_death &= t_early < los
    los = np.where(early_death, t_early, los)
    # ARF and shock: ever during the stay, and whether onset comes before the 12 h prediction time.
    arf_score = 1.5 * s["resp"] + 0.4 * s["sev"] + 0.6 * s["hx_copd"] + 1.0 * lung_img + 0.5 * fc["Lung Opacity"]
    q_arf = sigmoid(_intercept_for_mean(arf_score, cfg.arf_rate) + arf_score)
    shock_score = 1.7 * s["hemo"] + 0.4 * s["sev"] + 1.0 * s["infect"]
    q_shock = sigmoid(_intercept_for_mean(shock_score, cfg.shock_rate) + shock_score)
    s["arf_ever"] = _bern(rng, q_arf)
    s["arf_early"] = s["arf_ever"] & (rng.random(n) < ARF_EARLY_SHARE)
    s["shock_ever"] = _bern(rng, q_shock)
    s["shock_early"] = s["shock_ever"] & (rng.random(n) < SHOCK_EARLY_SHARE)
    s["p_arf"] = arf_label_probability(q_arf, ARF_EARLY_SHARE)
    s["p_shock"] = arf_label_probability(q_shock, SHOCK_EARLY_SHARE)
    # In-hospital death after 48 h; the interaction term is visible only as early pressors together with low MAP.
    mort_score = (0.55 * s["sev"] + 0.5 * agez + 2.4 * s["goals_of_care_comfort"] + 0.4 * s["hemo"]
                  + 0.3 * s["resp"] + 0.4 * s["infect"] + 1.4 * fc["Pleural Effusion"] + 0.8 * fc["Cardiomegaly"]
                  + 0.8 * fc["Edema"] + 1.2 * s["shock_early"] * s["hemo"])
    p_mort = sigmoid(_intercept_for_mean(mort_score, cfg.mortality_rate) + mort_score)
    died_late = _bern(rng, p_mort) & ~early_death
    ward = rng.exponential(60.0, n) + 2.0
    hosp_end = los + ward
    t_death = np.where(los >= 48, rng.uniform(48.0, np.maximum(hosp_end, 48.0 + 1e-3)),
                       rng.uniform(los, hosp_end))
    los = np.where(died_late & (t_death < los), t_death, los)
    s["p_mortality"] = p_mort
    s["died"] = early_death | died_late
    s["t_death"] = np.where(early_death, t_early, np.where(died_late, t_death, np.nan))
    s["icu_los_h"] = los
    s["hosp_end_h"] = np.where(s["died"], s["t_death"], hosp_end)
    s["pre_icu_h"] = rng.exponential(10.0, n) + 0.5
    s["t_arf"] = _onsets(rng, s["arf_ever"], s["arf_early"], los)
    s["t_shock"] = _onsets(rng, s["shock_ever"], s["shock_early"], los)
    s["arf_ever"] = ~np.isnan(s["t_arf"])
    s["shock_ever"] = ~np.isnan(s["t_shock"])


def arf_label_probability(q_ever: np.ndarray, early_share: float) -> np.ndarray:
    """P(onset after the prediction time | latent, in the cohort), the cohort excluding onsets before it.

    With P(ever) = q and P(early | ever) = e independent of the cohort's other conditions (alive and in the ICU at
    the prediction time), P(late | not early) = q (1 - e) / (1 - q e).
    """
    return q_ever * (1 - early_share) / (1 - q_ever * early_share)


def _onsets(rng: np.random.Generator, ever: np.ndarray, early: np.ndarray, los: np.ndarray) -> np.ndarray:
    """Onset hours: early ones in [0.2, 12) h, late ones in [12 h, ICU discharge); none when the stay is too short."""
    n = len(los)
    t_early = rng.uniform(0.2, 1.0, n) * np.minimum(12.0, los) * 0.95
    t_late = 12.0 + rng.uniform(0.02, 0.9, n) * (los - 12.0)
    t = np.where(early, t_early, np.where(ever & (los > 12.0), t_late, np.nan))
    return np.where(ever, t, np.nan)


def drop_after_death(s: dict[str, np.ndarray]) -> np.ndarray:
    """Mask of stays kept: a patient's stays after the stay in which they died never happen."""
    pidx = s["pidx"]
    died_before = np.zeros(len(pidx), dtype=bool)
    d = s["died"].astype(np.int64)
    cum = np.cumsum(d)
    first = np.r_[True, pidx[1:] != pidx[:-1]]
    base = np.maximum.accumulate(np.where(first, cum - d, 0))
    died_before = (cum - d - base) > 0
    return ~died_before
