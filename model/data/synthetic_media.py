"""Notes, chest X-ray files and discharge diagnoses of the synthetic cohort."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from model.data.render_cxr import FINDINGS, render_cxr, write_dicom, write_png
from model.data.render_notes import compose_note
from model.data.synthetic_buffer import US_PER_H, EventBuffer
from model.data.synthetic_config import CohortConfig
from model.data.synthetic_diagnoses import draw_diagnoses
from model.data.synthetic_latent import HX_PREVALENCE, finding_columns

# (category, first note within hours, hours between notes, max notes)
NOTE_SCHEDULE = (("Nursing", 6.0, 12.0, 6), ("Physician", 10.0, 24.0, 3), ("Respiratory", 8.0, 12.0, 3),
                 ("Radiology", 24.0, 48.0, 2))


def add_notes(buf: EventBuffer, s: dict, cfg: CohortConfig, rng: np.random.Generator) -> None:
    """Notes per category on a schedule; the facts they state come from the latent state at the note's time."""
    n = len(s["sev"])
    has_notes = rng.random(n) >= cfg.missingness.notes
    # Respiratory therapy notes: from admission for stays with poor respiratory state, else only from ARF onset,
    # so that a note's presence never tells of a future onset.
    resp_from_start = s["resp"] > 0.3
    vent_start = np.nan_to_num(s.get("vent_start", np.full(n, np.nan)), nan=np.inf)
    for cat, first_h, every_h, cap in NOTE_SCHEDULE:
        eligible = has_notes & ((resp_from_start | ~np.isnan(s["t_arf"])) if cat == "Respiratory" else True)
        if cat == "Radiology":
            eligible &= rng.random(n) < 0.4
        rows: list[int] = []
        times: list[float] = []
        texts: list[str] = []
        for i in np.flatnonzero(eligible):
            t = rng.uniform(0.5, first_h)
            if cat == "Respiratory" and not resp_from_start[i]:
                t = s["t_arf"][i] + rng.uniform(0.2, 2.0)
            k = 0
            while t < s["icu_los_h"][i] and k < cap:
                facts = _facts(s, i, t, vent_start)
                texts.append(compose_note(cat, facts, rng, age=int(s["age"][i]), sex="F" if s["female"][i] else "M"))
                rows.append(i)
                times.append(t)
                t += every_h * rng.uniform(0.8, 1.2)
                k += 1
        r = np.asarray(rows, dtype=np.int64)
        t_us = s["icu_us"][r] + (np.asarray(times) * US_PER_H).astype(np.int64)
        buf.add(s["subject_id"][r], t_us, f"NOTE//{cat}", text=texts, stay=s["stay_id"][r])


def _facts(s: dict, i: int, t: float, vent_start: np.ndarray) -> dict[str, bool]:
    arf_now = t >= (s["t_arf"][i] if not np.isnan(s["t_arf"][i]) else np.inf)
    facts = {h: bool(s[h][i]) for h in HX_PREVALENCE}
    facts.update(
        goals_of_care_comfort=bool(s["goals_of_care_comfort"][i]),
        suspected_infection=bool(s["infect"][i]),
        resp_distress=bool(s["resp"][i] > 0.9 or arf_now),
        on_ventilator=bool(t >= vent_start[i]),
        confusion=bool(s["confusion"][i]),
        post_surgical=bool(s["post_surgical"][i]),
    )
    return facts


def add_images(buf: EventBuffer, s: dict, cfg: CohortConfig, root: Path, rng: np.random.Generator) -> list[dict]:
    """Write X-ray files for imaged stays (an admission film within 10 h, sometimes a follow-up) and their events.

    Returns:
        One row per written image: image_path (relative to root) and the 14 finding labels.
    """
    rows: list[dict] = []
    fcols = finding_columns()
    keep = s["imaged"].astype(bool) & (rng.random(len(s["sev"])) >= cfg.missingness.images)
    for i in np.flatnonzero(keep):
        los = s["icu_los_h"][i]
        times = [rng.uniform(0.3, min(10.0, los * 0.9))]
        follow_up = 12.0 + rng.exponential(48.0)  # drawn independently of the stay's length (no leak)
        if rng.random() < 0.3 and follow_up < los:
            times.append(follow_up)
        findings = np.array([s[c][i] > 0 for c in fcols])
        for k, t in enumerate(times):
            img = render_cxr(findings, rng, size=cfg.image_size, noise=cfg.noise)
            as_dicom = rng.random() < cfg.dicom_share
            # File names carry no identifier: a hash of (seed, stay, index), sharded by its first two characters.
            h = hashlib.sha256(f"{cfg.seed}:{s['stay_id'][i]}:{k}".encode()).hexdigest()[:20]
            rel = f"images/{h[:2]}/{h}.{'dcm' if as_dicom else 'png'}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            view = "AP" if rng.random() < 0.8 else "PA"
            if as_dicom:
                photometric = "MONOCHROME1" if rng.random() < 0.5 else "MONOCHROME2"
                write_dicom(root / rel, img, photometric=photometric, view=view, seed=int(s["stay_id"][i]) * 10 + k,
                            patient_id=f"SYN{s['subject_id'][i]}")
            else:
                write_png(root / rel, img)
            buf.add(s["subject_id"][i:i + 1], s["icu_us"][i:i + 1] + int(t * US_PER_H), f"CXR//{view}",
                    image=[rel], stay=s["stay_id"][i:i + 1])
            buf.add(s["subject_id"][i:i + 1], s["icu_us"][i:i + 1] + int(t * US_PER_H), "PROCEDURE//START//225459",
                    stay=s["stay_id"][i:i + 1])
            rows.append({"image_path": rel, "subject_id": int(s["subject_id"][i]), "stay_id": int(s["stay_id"][i]),
                         **{name: bool(f) for name, f in zip(FINDINGS, findings)}})
    return rows


def add_diagnoses(buf: EventBuffer, s: dict, rng: np.random.Generator) -> None:
    """DIAGNOSIS//ICD//{9|10}//{code} stamped at hospital discharge (outside every feature window)."""
    idx, version, codes = draw_diagnoses(s, s["icd10"], rng)
    ids = np.array([buf.code_id(f"DIAGNOSIS//ICD//{v}//{c}") for v, c in zip(version, codes)], dtype=np.int32)
    buf.add(s["subject_id"][idx], s["hosp_end_us"][idx], ids, stay=s["stay_id"][idx])
