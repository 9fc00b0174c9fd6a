"""Interval events of the synthetic cohort: infusions (vasopressors and others) and procedures (ventilation, lines)."""

from __future__ import annotations

import numpy as np

from model.data import synthetic_vocab as V
from model.data.synthetic_buffer import US_PER_H, EventBuffer
from model.data.synthetic_config import CohortConfig


def _interval(buf: EventBuffer, s: dict, idx: np.ndarray, t0: np.ndarray, t1: np.ndarray, start_code: str,
              end_code: str, start_value: np.ndarray | None = None, end_value: np.ndarray | None = None) -> None:
    sub, stay, icu = s["subject_id"][idx], s["stay_id"][idx], s["icu_us"][idx]
    buf.add(sub, icu + (t0 * US_PER_H).astype(np.int64), start_code, numeric=start_value, stay=stay)
    buf.add(sub, icu + (t1 * US_PER_H).astype(np.int64), end_code, numeric=end_value, stay=stay)


def add_vasopressors(buf: EventBuffer, s: dict, rng: np.random.Generator) -> None:
    """Shock: a vasopressor starts at onset (norepinephrine most often), sometimes a second one later."""
    los = s["icu_los_h"]
    for second in (False, True):
        has = ~np.isnan(s["t_shock"]) & ((rng.random(len(los)) < 0.35) if second else True)
        idx = np.flatnonzero(has)
        if not len(idx):
            continue
        which = rng.choice(len(V.VASOPRESSORS), size=len(idx), p=(0.6, 0.1, 0.08, 0.14, 0.08))
        t0 = s["t_shock"][idx] + (rng.uniform(1, 8, len(idx)) if second else rng.uniform(0, 0.4, len(idx)))
        t0 = np.minimum(t0, los[idx] * 0.999)
        t1 = np.minimum(t0 + rng.uniform(4, 72, len(idx)), los[idx])
        for k, (itemid, _, rate) in enumerate(V.VASOPRESSORS):
            j = which == k
            r = np.round(rate * rng.lognormal(0, 0.4, j.sum()), 3)
            amount = np.round(r * (t1[j] - t0[j]) * 60, 2)
            _interval(buf, s, idx[j], t0[j], t1[j], f"INFUSION_START//{itemid}", f"INFUSION_END//{itemid}", r, amount)


def add_ventilation(buf: EventBuffer, s: dict, cfg: CohortConfig, rng: np.random.Generator) -> None:
    """ARF: ventilation starts at onset (invasive 70%); PEEP charted hourly while invasively ventilated."""
    los = s["icu_los_h"]
    idx = np.flatnonzero(~np.isnan(s["t_arf"]))
    if not len(idx):
        return
    t0 = s["t_arf"][idx]
    t1 = np.minimum(t0 + rng.uniform(6, 120, len(idx)), los[idx])
    invasive = rng.random(len(idx)) < 0.7
    for itemid, sel in ((V.VENT_INVASIVE, invasive), (V.VENT_NONINVASIVE, ~invasive)):
        _interval(buf, s, idx[sel], t0[sel], t1[sel], f"PROCEDURE//START//{itemid}", f"PROCEDURE//END//{itemid}")
    vi, v0, v1 = idx[invasive], t0[invasive], t1[invasive]
    n = np.maximum(np.floor(v1 - v0).astype(np.int64), 1)
    rep = np.repeat(np.arange(len(vi)), n)
    step = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    t = np.minimum(v0[rep] + step + rng.uniform(0, 0.5, len(rep)), v1[rep])
    peep = np.round(np.clip(V.PEEP.mean + V.PEEP.sd * (0.5 * s["resp"][vi[rep]] + 0.3 * cfg.noise *
                                                       rng.normal(size=len(rep))), V.PEEP.lo, V.PEEP.hi))
    buf.add(s["subject_id"][vi[rep]], s["icu_us"][vi[rep]] + (t * US_PER_H).astype(np.int64), V.PEEP.code,
            numeric=peep, stay=s["stay_id"][vi[rep]])
    s["vent_start"] = np.full(len(los), np.nan)
    s["vent_start"][vi] = v0


def _flag(s: dict, name: str | None, n: int) -> np.ndarray:
    if name is None:
        return np.zeros(n)
    if name == "vent":
        return (~np.isnan(s.get("vent_start", np.full(n, np.nan)))).astype(float)
    return np.asarray(s[name], dtype=float)


def add_other_infusions(buf: EventBuffer, s: dict, rng: np.random.Generator) -> None:
    """Fluids, sedation while ventilated, anticoagulation, insulin, antibiotics, diuretics."""
    los = s["icu_los_h"]
    n = len(los)
    for itemid, _, rate, flag, base in V.OTHER_INFUSIONS:
        f = _flag(s, flag, n)
        p = np.clip(base + 0.65 * f, 0, 0.95)
        idx = np.flatnonzero(rng.random(n) < p)
        if flag == "vent":
            t0 = np.minimum(s["vent_start"][idx] + rng.uniform(0, 0.5, len(idx)), los[idx] * 0.999)
        elif flag in ("infect", "hx_diabetes"):
            t0 = rng.uniform(0, np.minimum(8.0, los[idx] * 0.9))  # started early when indicated
        else:
            t0 = rng.uniform(0, 120.0, len(idx))  # a rate independent of the stay's length (no leak of LOS)
            inside = t0 < los[idx]
            idx, t0 = idx[inside], t0[inside]
        t1 = np.minimum(t0 + rng.uniform(1, 24, len(idx)), los[idx])
        r = np.round(rate * rng.lognormal(0, 0.3, len(idx)), 2)
        _interval(buf, s, idx, t0, t1, f"INFUSION_START//{itemid}", f"INFUSION_END//{itemid}", r,
                  np.round(r * (t1 - t0), 1))


def add_procedures(buf: EventBuffer, s: dict, rng: np.random.Generator) -> None:
    """Lines, catheters, ECGs, dialysis for AKI, and the chest X-ray procedure at each image time."""
    los = s["icu_los_h"]
    n = len(los)
    for itemid, _, flag, base in V.OTHER_PROCEDURES:
        if flag == "imaged":
            continue
        p = np.clip(base + (0.45 if flag else 0.0) * _flag(s, flag, n), 0, 0.95)
        idx = np.flatnonzero(rng.random(n) < p)
        t0 = rng.uniform(0, np.minimum(6.0, los[idx] * 0.9))
        t1 = np.where(itemid == 225402, t0 + 0.2, np.minimum(t0 + rng.uniform(12, 200, len(idx)), los[idx]))
        _interval(buf, s, idx, t0, np.minimum(t1, los[idx]), f"PROCEDURE//START//{itemid}",
                  f"PROCEDURE//END//{itemid}")
