"""Discharge diagnoses for the synthetic cohort: the 25 phenotypes from the latent state, plus a long tail.

Each positive phenotype emits one ICD code listed only under that phenotype, so a stay's phenotype labels are
exactly the phenotype draws and the written phenotype probabilities are the true label probabilities.
"""

from __future__ import annotations

import functools

import numpy as np

from model.data.phenotypes import (
    benchmark_phenotypes,
    code_to_phenotypes,
    icd10_tail_codes,
    icd_version,
    phenotype_definitions,
)
from model.data.synthetic_latent import sigmoid

TAIL_CODES_PER_STAY = 5.0


def _phenotype_logit(name: str, s: dict[str, np.ndarray]) -> np.ndarray:
    """Hand-set risk of each phenotype from the latent state (realised ARF/shock included)."""
    g = s.get
    f = {
        "Acute and unspecified renal failure": -2.6 + 3.2 * g("aki"),
        "Acute cerebrovascular disease": -4.2 + 5.0 * g("stroke_acute"),
        "Acute myocardial infarction": -4.2 + 5.0 * g("ami"),
        "Cardiac dysrhythmias": -2.4 + 3.4 * g("hx_afib") + 0.3 * g("sev"),
        "Chronic kidney disease": -3.6 + 5.0 * g("hx_ckd"),
        "Chronic obstructive pulmonary disease and bronchiectasis": -3.6 + 5.0 * g("hx_copd"),
        "Complications of surgical procedures or medical care": -2.8 + 3.0 * g("post_surgical"),
        "Conduction disorders": -3.6 + 1.2 * g("hx_cad") + 1.2 * g("hx_afib"),
        "Congestive heart failure; nonhypertensive": -3.2 + 4.6 * g("hx_chf"),
        "Coronary atherosclerosis and other heart disease": -3.0 + 4.2 * g("hx_cad"),
        "Diabetes mellitus with complications": -4.2 + 2.8 * g("hx_diabetes") + 2.0 * g("hx_ckd") * g("hx_diabetes"),
        "Diabetes mellitus without complication": -4.2 + 4.6 * g("hx_diabetes") - 2.0 * g("hx_ckd") * g("hx_diabetes"),
        "Disorders of lipid metabolism": -2.8 + 4.0 * g("hx_hyperlipidemia"),
        "Essential hypertension": -2.6 + 4.0 * g("hx_hypertension") - 2.5 * g("hx_ckd") * g("hx_hypertension"),
        "Fluid and electrolyte disorders": -1.8 + 3.0 * g("fluid_lyte"),
        "Gastrointestinal hemorrhage": -4.2 + 5.0 * g("hx_gi_bleed"),
        "Hypertension with complications and secondary hypertension":
            -4.2 + 1.8 * g("hx_hypertension") + 3.0 * g("hx_ckd") * g("hx_hypertension"),
        "Other liver diseases": -4.0 + 4.4 * g("hx_liver_disease") + 0.6 * g("hx_alcohol_use"),
        "Other lower respiratory disease": -2.6 + 0.7 * g("resp") + 1.0 * g("hx_asthma"),
        "Other upper respiratory disease": -3.6 + 0.0 * g("sev"),
        "Pleurisy; pneumothorax; pulmonary collapse":
            -3.6 + 2.4 * np.maximum.reduce([g("cxr_pneumothorax"), g("cxr_atelectasis"), g("cxr_pleural_effusion")]),
        "Pneumonia (except that caused by tuberculosis or sexually transmitted disease)":
            -3.2 + 2.0 * g("infect") + 2.2 * g("cxr_pneumonia") + 0.5 * g("resp"),
        "Respiratory failure; insufficiency; arrest (adult)": -3.4 + 4.4 * g("arf_ever"),
        "Septicemia (except in labor)": -3.6 + 2.6 * g("infect") + 0.8 * g("sev"),
        "Shock": -4.0 + 5.0 * g("shock_ever"),
    }
    return np.asarray(f[name], dtype=float)


def phenotype_probabilities(s: dict[str, np.ndarray]) -> np.ndarray:
    """[n_stays, 25] true phenotype probabilities, columns in `benchmark_phenotypes()` order."""
    return np.stack([sigmoid(_phenotype_logit(name, s)) for name in benchmark_phenotypes()], axis=1)


@functools.lru_cache(maxsize=1)
def code_pools() -> tuple[list[dict[int, list[str]]], dict[int, list[str]]]:
    """Per phenotype, its exclusive codes by ICD version; and the long-tail codes (no benchmark phenotype)."""
    owners = code_to_phenotypes()
    pools = []
    for name in benchmark_phenotypes():
        by_v: dict[int, list[str]] = {9: [], 10: []}
        for code in map(str, phenotype_definitions()[name]["codes"]):
            v = icd_version(code)
            if v and owners.get(code) == frozenset({name}):
                by_v[v].append(code)
        pools.append(by_v)
    tail: dict[int, set[str]] = {9: set(), 10: set()}
    for name, d in phenotype_definitions().items():
        if d.get("use_in_benchmark"):
            continue
        for code in map(str, d["codes"]):
            v = icd_version(code)
            if v and code not in owners:
                tail[v].add(code)
    tail[10].update(icd10_tail_codes())
    return pools, {v: sorted(c) for v, c in tail.items()}


def _zipf_weights(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** 1.1
    return w / w.sum()


def draw_diagnoses(
    s: dict[str, np.ndarray], icd10: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Diagnosis codes per stay.

    Returns:
        (stay_index, version, code) arrays: one row per emitted DIAGNOSIS//ICD//{version}//{code}.
    """
    probs = phenotype_probabilities(s)
    pos = rng.random(probs.shape) < probs
    pools, tail = code_pools()
    rows_i: list[np.ndarray] = []
    rows_v: list[np.ndarray] = []
    codes: list[str] = []
    for k, by_v in enumerate(pools):
        for v in (9, 10):
            pool = by_v[v] or by_v[19 - v]
            idx = np.flatnonzero(pos[:, k] & ((icd10 if v == 10 else ~icd10)))
            if len(idx) == 0:
                continue
            pick = rng.integers(0, len(pool), len(idx))
            rows_i.append(idx)
            rows_v.append(np.full(len(idx), v if by_v[v] else 19 - v))
            codes.extend(pool[j] for j in pick)
    n_tail = rng.poisson(TAIL_CODES_PER_STAY, len(icd10))
    for v in (9, 10):
        idx = np.repeat(np.arange(len(icd10)), np.where((icd10 if v == 10 else ~icd10), n_tail, 0))
        order = np.random.default_rng(v).permutation(len(tail[v]))  # a fixed popularity order, independent of seed
        pick = order[rng.choice(len(tail[v]), size=len(idx), p=_zipf_weights(len(tail[v])))]
        rows_i.append(idx)
        rows_v.append(np.full(len(idx), v))
        codes.extend(tail[v][j] for j in pick)
    return np.concatenate(rows_i), np.concatenate(rows_v), codes
