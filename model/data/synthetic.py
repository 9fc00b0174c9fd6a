"""Generate the synthetic multimodal ICU cohort as a MEDS dataset (the embedded default and the test data).

Usage: python -m model.data.synthetic OUT_DIR [--n-stays 2000] [--seed 0] [--workers 2] ...
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from model.data import synthetic_vocab as V
from model.data.phenotypes import benchmark_phenotypes, phenotype_slug
from model.data.render_cxr import FINDINGS
from model.data.splits import assign_splits
from model.data.synthetic_buffer import STATIC_TIME, US_PER_H, EventBuffer
from model.data.synthetic_config import CohortConfig, Missingness
from model.data.synthetic_diagnoses import phenotype_probabilities
from model.data.synthetic_interventions import add_other_infusions, add_procedures, add_vasopressors, add_ventilation
from model.data.synthetic_latent import draw_patients, draw_stays, drop_after_death, finding_columns
from model.data.synthetic_measures import add_categorical, add_labs, add_urine, add_vitals
from model.data.synthetic_media import add_diagnoses, add_images, add_notes
from model.io_atomic import atomic_dir, write_json

log = logging.getLogger(__name__)
EPOCH_US = int(np.datetime64("2110-01-01T00:00:00", "us").astype(np.int64))
DATASET_NAME = "synthetic-icu-multimodal"
GENERATOR_VERSION = "1.0.0"


def _stay_table(cfg: CohortConfig) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Latent state for exactly cfg.n_stays stays (none after a patient's death), with absolute times."""
    rng = np.random.default_rng([cfg.seed, 0])
    # Plan ~10% more stays than asked: stays after a patient's death never happen; keep exactly n_stays of the rest.
    pat = draw_patients(cfg, rng, int(np.ceil(cfg.n_stays * 1.1)) + 5)
    s = draw_stays(cfg, pat, rng)
    s["icd10"] = rng.random(len(s["sev"])) < 0.55
    keep = drop_after_death(s)
    keep &= np.cumsum(keep) <= cfg.n_stays
    s = {k: v[keep] for k, v in s.items()}
    s["subject_id"] = pat["subject_id"][s["pidx"]]
    s["female"] = pat["female"][s["pidx"]]
    s["stay_id"] = 30_000_000 + np.arange(len(s["pidx"]), dtype=np.int64)
    hour0 = rng.uniform(0, 24, len(s["pidx"]))
    s["icu_us"] = EPOCH_US + ((s["admit_day"] * 24 + hour0) * US_PER_H).astype(np.int64)
    s["icu_us"] -= s["icu_us"] % 60_000_000  # admission times to the minute
    s["hosp_admit_us"] = s["icu_us"] - (s["pre_icu_h"] * US_PER_H).astype(np.int64)
    s["icu_out_us"] = s["icu_us"] + (s["icu_los_h"] * US_PER_H).astype(np.int64)
    s["hosp_end_us"] = s["icu_us"] + (s["hosp_end_h"] * US_PER_H).astype(np.int64)
    return pat, s


def _admin_events(buf: EventBuffer, pat: dict, s: dict, rng: np.random.Generator) -> None:
    """Demographics, admissions, ICU stays, discharges and deaths (MIMIC-IV MEDS codes)."""
    pids = np.unique(s["pidx"])
    sub = pat["subject_id"][pids]
    first_icu = s["icu_us"][np.searchsorted(s["pidx"], pids)]
    birth = first_icu - (pat["age0"][pids] * 365.25 * 24 * US_PER_H).astype(np.int64)
    birth -= birth % (24 * US_PER_H)
    for female in (True, False):
        sel = pat["female"][pids] == female
        buf.add(sub[sel], np.full(sel.sum(), STATIC_TIME), "GENDER//F" if female else "GENDER//M")
    buf.add(sub, birth, "MEDS_BIRTH")
    n = len(s["sev"])
    surg = s["post_surgical"] > 0
    unit = np.where(surg, rng.choice([1, 2, 5], n), rng.choice([0, 3, 4, 6], n, p=(0.55, 0.2, 0.15, 0.1)))
    atype = np.where(surg, rng.choice([1, 2, 4], n), rng.choice([0, 1, 3], n, p=(0.8, 0.12, 0.08)))
    aloc = np.where(atype == 0, 0, rng.choice(len(V.ADMISSION_LOCATIONS), n))
    old = s["age"] >= 65
    ins = np.where(old, np.where(rng.random(n) < 0.8, 0, 2), np.where(rng.random(n) < 0.3, 1, 2))
    dloc = rng.choice(len(V.DISCHARGE_LOCATIONS), n, p=(0.45, 0.2, 0.2, 0.1, 0.05))
    race = pat["race"][s["pidx"]]
    for i_code, arr, fmt in (
        (atype * 100 + aloc, s["hosp_admit_us"], lambda c: "HOSPITAL_ADMISSION//%s//%s" % (
            V.ADMISSION_TYPES[c // 100], V.ADMISSION_LOCATIONS[c % 100])),
        (race, s["hosp_admit_us"], lambda c: f"RACE//{V.RACES[c]}"),
        (ins, s["hosp_admit_us"], lambda c: f"INSURANCE//{V.INSURANCES[c]}"),
        (unit, s["icu_us"], lambda c: f"ICU_ADMISSION//{V.CAREUNITS[c]}"),
        (unit, s["icu_out_us"], lambda c: f"ICU_DISCHARGE//{V.CAREUNITS[c]}"),
        (np.where(s["died"], -1, dloc), s["hosp_end_us"],
         lambda c: "HOSPITAL_DISCHARGE//DIED" if c < 0 else f"HOSPITAL_DISCHARGE//{V.DISCHARGE_LOCATIONS[c]}"),
    ):
        uniq, inv = np.unique(i_code, return_inverse=True)
        ids = np.array([buf.code_id(fmt(int(c))) for c in uniq], dtype=np.int32)[inv]
        buf.add(s["subject_id"], arr, ids, stay=s["stay_id"])
    d = np.flatnonzero(s["died"])
    buf.add(s["subject_id"][d], s["hosp_end_us"][d], "MEDS_DEATH")


def _write_shard(args: tuple) -> tuple[dict[str, int], list[dict], int]:
    """Generate and write one shard; returns its code counts, image rows and number of events."""
    cfg, shard, pat, s, root = args
    rng = np.random.default_rng([cfg.seed, 1, shard])
    buf = EventBuffer()
    _admin_events(buf, pat, s, rng)
    add_vitals(buf, s, cfg, rng)
    add_labs(buf, s, cfg, rng)
    add_categorical(buf, s, cfg, rng)
    add_urine(buf, s, cfg, rng)
    add_vasopressors(buf, s, rng)
    add_ventilation(buf, s, cfg, rng)
    add_other_infusions(buf, s, rng)
    add_procedures(buf, s, rng)
    add_notes(buf, s, cfg, rng)
    images = add_images(buf, s, cfg, Path(root), rng)
    add_diagnoses(buf, s, rng)
    table = buf.to_table()
    pq.write_table(table, Path(root) / "data" / f"{shard}.parquet", compression="zstd", row_group_size=1 << 20)
    counts = table.group_by("code").aggregate([("code", "count")]).to_pydict()
    return dict(zip(counts["code"], counts["code_count"])), images, table.num_rows


def _shards(s: dict, per_shard: int) -> list[np.ndarray]:
    """Stay indices per shard, cutting only between patients so each subject lives in one shard."""
    cut = np.flatnonzero(np.r_[True, s["pidx"][1:] != s["pidx"][:-1]])
    bounds = [0]
    for c in cut[1:]:
        if c - bounds[-1] >= per_shard:
            bounds.append(int(c))
    bounds.append(len(s["pidx"]))
    return [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def generate_cohort(out_dir: str | Path, cfg: CohortConfig = CohortConfig(), *, overwrite: bool = False) -> dict:
    """Write the cohort to `out_dir` atomically and return a summary (counts, shares).

    Args:
        out_dir: The MEDS root to create (see docs/data-conventions.md).
        cfg: What to draw.
        overwrite: Replace an existing `out_dir`.
    """
    pat, s = _stay_table(cfg)
    with atomic_dir(out_dir, overwrite=overwrite) as root:
        (root / "data").mkdir()
        (root / "metadata").mkdir()
        (root / "oracle").mkdir()
        jobs = [(cfg, k, pat, {key: v[idx] for key, v in s.items()}, str(root))
                for k, idx in enumerate(_shards(s, cfg.stays_per_shard))]
        if cfg.workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(cfg.workers) as ex:
                results = list(ex.map(_write_shard, jobs))
        else:
            results = [_write_shard(j) for j in jobs]
        code_counts: dict[str, int] = {}
        images: list[dict] = []
        for counts, imgs, _ in results:
            images += imgs
            for c, k in counts.items():
                code_counts[c] = code_counts.get(c, 0) + k
        n_events = sum(r[2] for r in results)
        _write_metadata(root, cfg, pat, s, code_counts, images)
        summary = {
            "n_patients": int(len(np.unique(s["subject_id"]))), "n_stays": int(len(s["stay_id"])),
            "n_events": int(n_events), "n_shards": len(jobs), "n_images": len(images),
            "share_imaged": float(np.mean(s["imaged"])), "share_died": float(np.mean(s["died"])),
        }
        write_json(root / "metadata" / "generation.json", {"config": cfg.to_dict(), "summary": summary,
                                                           "generator_version": GENERATOR_VERSION})
    return summary


def _write_metadata(root: Path, cfg: CohortConfig, pat: dict, s: dict, code_counts: dict, images: list) -> None:
    codes = sorted(code_counts)
    pq.write_table(pa.table({
        "code": pa.array(codes, pa.string()),
        "description": pa.array([_describe(c) for c in codes], pa.string()),
        "parent_codes": pa.array([[] for _ in codes], pa.list_(pa.string())),
    }), root / "metadata" / "codes.parquet")
    subjects = np.unique(s["subject_id"])
    pq.write_table(pa.table({"subject_id": pa.array(subjects, pa.int64()),
                             "split": pa.array(assign_splits(subjects), pa.string())}),
                   root / "metadata" / "subject_splits.parquet")
    write_json(root / "metadata" / "dataset.json", {
        "dataset_name": DATASET_NAME, "dataset_version": f"{GENERATOR_VERSION}+seed{cfg.seed}-n{cfg.n_stays}",
        "etl_name": "model.data.synthetic", "etl_version": GENERATOR_VERSION, "meds_version": "0.4.1",
        "license": "CC0-1.0 (synthetic data, no real patients)",
        "additional_value_modality_columns": ["image_path"], "raw_source_id_columns": ["stay_id"],
    })
    img_cols = {"image_path": pa.array([r["image_path"] for r in images], pa.string()),
                "subject_id": pa.array([r["subject_id"] for r in images], pa.int64()),
                "stay_id": pa.array([r["stay_id"] for r in images], pa.int64())}
    img_cols.update({f: pa.array([r[f] for r in images], pa.bool_()) for f in FINDINGS})
    pq.write_table(pa.table(img_cols), root / "metadata" / "cxr_findings.parquet")
    oracle = {
        "subject_id": s["subject_id"], "stay_id": s["stay_id"],
        "icu_admission_time": pa.array(s["icu_us"], pa.timestamp("us")),
        "icu_los_h": s["icu_los_h"], "died": s["died"], "imaged": s["imaged"],
        "p_mortality": s["p_mortality"], "p_arf": s["p_arf"], "p_shock": s["p_shock"],
    }
    probs = phenotype_probabilities(s)
    for k, name in enumerate(benchmark_phenotypes()):
        oracle[f"p_pheno_{phenotype_slug(name)}"] = probs[:, k]
    for latent in ("sev", "resp", "hemo", "infect", "goals_of_care_comfort", "shock_early", *finding_columns()):
        oracle[f"latent_{latent}"] = np.asarray(s[latent], dtype=float)
    pq.write_table(pa.table(oracle), root / "oracle" / "stays.parquet")


def _describe(code: str) -> str | None:
    names = {m.code: m.name for m in (*V.VITALS, *V.LABS, *V.ANTHRO, V.URINE, V.PEEP)}
    return names.get(code)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--n-stays", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--noise", type=float, default=1.0)
    p.add_argument("--image-rate", type=float, default=0.25)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--missing-notes", type=float, default=0.05)
    p.add_argument("--missing-images", type=float, default=0.0)
    p.add_argument("--missing-labs", type=float, default=0.0)
    p.add_argument("--stays-per-shard", type=int, default=2500)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    try:
        cfg = CohortConfig(n_stays=a.n_stays, seed=a.seed, noise=a.noise, image_rate=a.image_rate,
                           image_size=a.image_size, stays_per_shard=a.stays_per_shard, workers=a.workers,
                           missingness=Missingness(notes=a.missing_notes, images=a.missing_images, labs=a.missing_labs))
        summary = generate_cohort(a.out_dir, cfg, overwrite=a.overwrite)
    except (ValueError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
