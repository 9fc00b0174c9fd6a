"""Charted measurements of the synthetic cohort: vitals (hourly, with gaps), labs (sparse), GCS, urine output."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from model.data import synthetic_vocab as V
from model.data.synthetic_buffer import US_PER_H, EventBuffer, ragged_hours
from model.data.synthetic_config import CohortConfig

# After-onset effects (in units of the measure's sd): ARF lowers oxygenation, shock lowers pressure.
ARF_EFFECT = {"spo2": -1.6, "resp_rate": 1.0, "fio2": 2.8, "pao2": -1.2, "paco2": 0.8, "o2_flow": 2.0}
SHOCK_EFFECT = {"map": -1.6, "sbp": -1.4, "dbp": -1.2, "heart_rate": 1.0, "lactate": 2.0, "ph": -0.8,
                "abp_sys": -1.4, "abp_dia": -1.2, "abp_mean": -1.6}
MINUTE_US = 60_000_000


def _latent_shift(m: V.Measure, s: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    out = np.zeros(len(idx))
    for name, w in m.loadings.items():
        out += w * s[name][idx]
    return out


def _value(m: V.Measure, s: dict, idx: np.ndarray, hour: np.ndarray, cfg: CohortConfig, rng, smooth=None):
    """mean + sd * (latent shift + after-onset effect + within-stay drift + measurement noise), clipped."""
    z = _latent_shift(m, s, idx)
    if m.name in ARF_EFFECT:
        z += ARF_EFFECT[m.name] * (hour >= np.nan_to_num(s["t_arf"][idx], nan=np.inf))
    if m.name in SHOCK_EFFECT:
        z += SHOCK_EFFECT[m.name] * (hour >= np.nan_to_num(s["t_shock"][idx], nan=np.inf))
    if smooth is not None:
        z += smooth
    z += 0.35 * cfg.noise * rng.normal(size=len(idx))
    v = np.clip(m.mean + m.sd * z, m.lo, m.hi)
    return np.round(v, m.decimals)


def _stay_times(s: dict, idx: np.ndarray, hours: np.ndarray) -> np.ndarray:
    t = s["icu_us"][idx] + (hours * US_PER_H).astype(np.int64)
    return t - t % MINUTE_US  # charted to the minute, as in MIMIC


def add_vitals(buf: EventBuffer, s: dict, cfg: CohortConfig, rng: np.random.Generator) -> None:
    """About hourly vitals from ICU admission to discharge, each stay with one longer gap and random misses."""
    n_h = np.ceil(s["icu_los_h"]).astype(np.int64)
    idx, hour = ragged_hours(n_h)
    gap_start = rng.uniform(4, 120, len(n_h))  # independent of the stay's length: LOS must not leak into windows
    gap_len = np.where(rng.random(len(n_h)) < 0.5, rng.poisson(3, len(n_h)), 0)
    in_gap = (hour >= gap_start[idx]) & (hour < gap_start[idx] + gap_len[idx])
    minute = rng.uniform(0, 0.95, len(idx))
    t = hour + minute
    inside = t < s["icu_los_h"][idx]
    lined = (s["sev"] > 0)[idx]
    for m in (*V.VITALS, *V.ARTERIAL):
        keep = inside & ~in_gap & (rng.random(len(idx)) < min(1.0, 0.92 / m.every_h))
        if m in V.ARTERIAL:
            keep &= lined
        k = np.flatnonzero(keep)
        drift = lfilter([0.35 * np.sqrt(1 - 0.85**2)], [1, -0.85], rng.normal(size=len(k)))
        v = _value(m, s, idx[k], t[k], cfg, rng, smooth=drift)
        buf.add(s["subject_id"][idx[k]], _stay_times(s, idx[k], t[k]), m.code, numeric=v, stay=s["stay_id"][idx[k]])


def _sparse_times(s: dict, every_h: float, rng: np.random.Generator, first_within_h: float = 2.0):
    """Sparse sampling times: one early draw per stay, then Poisson(LOS / every_h) uniform draws."""
    los = s["icu_los_h"]
    n = 1 + rng.poisson(los / every_h)
    idx = np.repeat(np.arange(len(los)), n)
    first = np.r_[True, idx[1:] != idx[:-1]] if len(idx) else np.zeros(0, bool)
    t = np.where(first, rng.uniform(0, np.minimum(first_within_h, los[idx] * 0.9)), rng.uniform(0, los[idx]))
    return idx, t


def add_labs(buf: EventBuffer, s: dict, cfg: CohortConfig, rng: np.random.Generator) -> None:
    """Labs every 8-48 h; troponin and NT-proBNP ordered only when suspected (the ordering is itself a signal)."""
    for m in V.LABS:
        idx, t = _sparse_times(s, m.every_h, rng)
        if m.name == "troponin_t":
            ordered = rng.random(len(s["sev"])) < 0.25 + 0.5 * np.maximum(s["hx_cad"], s["ami"])
            sel = ordered[idx]
            idx, t = idx[sel], t[sel]
        if m.name == "ntprobnp":
            ordered = rng.random(len(s["sev"])) < 0.2 + 0.5 * s["hx_chf"]
            sel = ordered[idx]
            idx, t = idx[sel], t[sel]
        if cfg.missingness.labs > 0:
            sel = rng.random(len(idx)) >= cfg.missingness.labs
            idx, t = idx[sel], t[sel]
        v = _value(m, s, idx, t, cfg, rng)
        if m.name in ("troponin_t", "ntprobnp", "bilirubin", "alt", "creatinine", "lactate"):
            v = np.round(np.clip(m.mean * np.exp((v - m.mean) / max(m.mean, 1e-9) * 0.9), m.lo, m.hi), m.decimals)
        buf.add(s["subject_id"][idx], _stay_times(s, idx, t), m.code, numeric=v, stay=s["stay_id"][idx])
    for m in V.ANTHRO:
        v = np.round(np.clip(m.mean + m.sd * rng.normal(size=len(s["sev"])), m.lo, m.hi), m.decimals)
        t = np.minimum(0.5, s["icu_los_h"] * 0.5)
        buf.add(s["subject_id"], _stay_times(s, np.arange(len(t)), t), m.code, numeric=v, stay=s["stay_id"])


def add_categorical(buf: EventBuffer, s: dict, cfg: CohortConfig, rng: np.random.Generator) -> None:
    """GCS components and capillary refill as text values every ~4 h (worse with confusion, stroke, sedation)."""
    idx, t = _sparse_times(s, V.CATEGORICAL_EVERY_H, rng, first_within_h=1.0)
    vent = t >= np.nan_to_num(s["t_arf"][idx], nan=np.inf)
    base = 0.9 * s["confusion"][idx] + 1.6 * s["stroke_acute"][idx] + 0.25 * s["sev"][idx] + 1.2 * vent
    for (itemid, levels), scale in ((V.GCS_EYE, 0.8), (V.GCS_VERBAL, 1.0), (V.GCS_MOTOR, 0.8)):
        lvl = np.clip(np.round(scale * base + 0.6 * cfg.noise * rng.normal(size=len(idx)) - 0.3), 0, len(levels) - 1)
        text = [levels[int(i)] for i in lvl]
        if itemid == V.GCS_VERBAL[0]:
            text = [V.GCS_INTUBATED_VERBAL if v else x for v, x in zip(vent, text)]
        buf.add(s["subject_id"][idx], _stay_times(s, idx, t), f"LAB//{itemid}//UNK", text=text, stay=s["stay_id"][idx])
    itemid, levels = V.HEART_RHYTHM
    afib = (s["hx_afib"][idx] > 0) & (rng.random(len(idx)) < 0.7)
    tachy = (s["hemo"][idx] + 0.5 * s["infect"][idx] + 0.5 * cfg.noise * rng.normal(size=len(idx))) > 1.0
    brady = rng.random(len(idx)) < 0.04
    rhythm = np.where(afib, 2, np.where(tachy, 1, np.where(brady, 3, 0)))
    buf.add(s["subject_id"][idx], _stay_times(s, idx, t), f"LAB//{itemid}//UNK",
            text=[levels[int(r)] for r in rhythm], stay=s["stay_id"][idx])
    itemid, levels = V.CAP_REFILL
    k = rng.random(len(idx)) < 0.5
    shock = t[k] >= np.nan_to_num(s["t_shock"][idx[k]], nan=np.inf)
    abnormal = (s["hemo"][idx[k]] + 1.5 * shock + 0.5 * cfg.noise * rng.normal(size=k.sum())) > 1.3
    buf.add(s["subject_id"][idx[k]], _stay_times(s, idx[k], t[k]), f"LAB//{itemid}//UNK",
            text=[levels[int(a)] for a in abnormal], stay=s["stay_id"][idx[k]])


def add_urine(buf: EventBuffer, s: dict, cfg: CohortConfig, rng: np.random.Generator) -> None:
    m = V.URINE
    idx, t = _sparse_times(s, m.every_h, rng)
    v = _value(m, s, idx, t, cfg, rng)
    buf.add(s["subject_id"][idx], _stay_times(s, idx, t), m.code, numeric=v, stay=s["stay_id"][idx])
