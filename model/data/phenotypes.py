"""The 25 benchmark phenotypes (ICD-9/10 definitions shipped in resources/) and ICD code helpers."""

from __future__ import annotations

import functools
import re
from importlib import resources

import yaml

# ICD-9: 3-5 digits, or E9xx(x) external causes. ICD-10: a letter, a digit, up to 5 more; E0-E7 are ICD-10 only.
# E8xx and V codes exist in both versions with the same shape, so their version cannot be told from the string.
_ICD9 = re.compile(r"^(\d{3,5}|E9\d{2,3})$")
_ICD10 = re.compile(r"^([A-DF-UW-Z]\d[0-9A-Z]{0,5}|E[0-7]\d[0-9A-Z]{0,4})$")


@functools.lru_cache(maxsize=1)
def phenotype_definitions() -> dict[str, dict]:
    """All phenotype definitions: name -> {codes, type, use_in_benchmark}."""
    text = resources.files("model.data").joinpath("resources/phenotype_definitions.yaml").read_text()
    return yaml.safe_load(text)


@functools.lru_cache(maxsize=1)
def benchmark_phenotypes() -> tuple[str, ...]:
    """The 25 phenotype names used in the benchmark, in file order."""
    return tuple(k for k, v in phenotype_definitions().items() if v.get("use_in_benchmark"))


def phenotype_slug(name: str) -> str:
    """A column-safe name: 'Congestive heart failure; nonhypertensive' -> 'congestive_heart_failure_nonhypertensive'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:48].rstrip("_")


def icd_version(code: str) -> int | None:
    """9 or 10 for unambiguous codes, None for E8xx/V codes whose version cannot be told from the string."""
    if _ICD9.match(code):
        return 9
    if _ICD10.match(code):
        return 10
    return None


@functools.lru_cache(maxsize=1)
def code_to_phenotypes() -> dict[str, frozenset[str]]:
    """ICD code (no dots) -> the benchmark phenotypes whose definition lists it."""
    out: dict[str, set[str]] = {}
    for name in benchmark_phenotypes():
        for code in phenotype_definitions()[name]["codes"]:
            out.setdefault(str(code), set()).add(name)
    return {k: frozenset(v) for k, v in out.items()}


def icd_group(version: int, code: str) -> str:
    """The 3-character category used by the diagnosis task, e.g. (9, '42833') -> '9:428', (10, 'I5023') -> '10:I50'."""
    return f"{version}:{code[:4] if code.startswith('E') and version == 9 else code[:3]}"


@functools.lru_cache(maxsize=1)
def icd10_tail_codes() -> tuple[str, ...]:
    """Common ICD-10 codes outside every benchmark phenotype (the definitions file has no ICD-10 tail)."""
    text = resources.files("model.data").joinpath("resources/icd10_tail_codes.txt").read_text()
    codes = [c for line in text.splitlines() if not line.startswith("#") for c in line.split()]
    owned = code_to_phenotypes()
    return tuple(dict.fromkeys(c for c in codes if c not in owned))
