"""Which MEDS codes become which features: the interval / point / static split, as data keyed by code prefix.

Rules are tried in order; the first whose prefix starts the code wins; codes no rule matches are not featurized
(and counted). Kinds:
- static: a static fact or admission attribute (table p): variable = `name` (default: the prefix without its
  trailing '//'), value = the rest of the code as a category (`RACE//WHITE` -> RACE = WHITE). The last one
  recorded before the prediction time counts.
- age: years from this event (MEDS_BIRTH) to the sample's anchor, a number in table p.
- point: a point event (table E): variable = the code, value = numeric_value, else text_value, else 1.
- interval_start / interval_end: the two ends of an interval event (table M): variable = `name` + the rest of
  the code (`INFUSION_START//221906` -> `INFUSION//221906`), value = the start's numeric_value (a rate) or 1,
  summed over intervals overlapping one time bin, present in every bin the interval overlaps.
- drop: never featurized (notes and images are other modalities; diagnoses are dated at discharge and are labels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from model.errors import DataValidationError

KINDS = ("static", "age", "point", "interval_start", "interval_end", "drop")
STATIC_TABLE, POINT_TABLE, INTERVAL_TABLE = "p", "E", "M"


@dataclass(frozen=True)
class CodeRule:
    """One rule (see the module docstring)."""

    prefix: str
    kind: str
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataValidationError(f"unknown rule kind {self.kind!r} for prefix {self.prefix!r}", field="kind",
                                      expected=f"one of {KINDS}")
        if not self.prefix:
            raise DataValidationError("empty code prefix in a rule", field="prefix", expected="a code prefix")
        if self.kind.startswith("interval") and not self.name:
            raise DataValidationError(f"interval rule {self.prefix!r} needs a variable name prefix", field="name",
                                      expected="e.g. 'INFUSION//'")

    @property
    def variable(self) -> str:
        """Variable name of a static rule."""
        return self.name or self.prefix.rstrip("/")


DEFAULT_RULES: tuple[CodeRule, ...] = (
    CodeRule("NOTE//", "drop"),
    CodeRule("CXR//", "drop"),
    CodeRule("DIAGNOSIS//", "drop"),
    CodeRule("MEDS_DEATH", "drop"),
    CodeRule("HOSPITAL_DISCHARGE", "drop"),
    CodeRule("ICU_DISCHARGE", "drop"),
    CodeRule("GENDER//", "static"),
    CodeRule("RACE//", "static"),
    CodeRule("INSURANCE//", "static"),
    CodeRule("MARITAL_STATUS//", "static"),
    CodeRule("LANGUAGE//", "static"),
    CodeRule("HOSPITAL_ADMISSION//", "static"),
    CodeRule("ICU_ADMISSION//", "static"),
    CodeRule("MEDS_BIRTH", "age", "AGE"),
    CodeRule("INFUSION_START//", "interval_start", "INFUSION//"),
    CodeRule("INFUSION_END//", "interval_end", "INFUSION//"),
    CodeRule("PROCEDURE//START//", "interval_start", "PROCEDURE//"),
    CodeRule("PROCEDURE//END//", "interval_end", "PROCEDURE//"),
    CodeRule("LAB//", "point"),
    CodeRule("SUBJECT_FLUID_OUTPUT//", "point"),
    CodeRule("MEDICATION//", "point"),
)


def rules_from_dicts(items: list[dict[str, Any]]) -> tuple[CodeRule, ...]:
    """Rules from configuration (a list of {prefix, kind, name?})."""
    return tuple(CodeRule(**d) for d in items)


def rules_to_dicts(rules: tuple[CodeRule, ...]) -> list[dict[str, Any]]:
    """JSON-ready form of rules."""
    return [asdict(r) for r in rules]


def table_of(var: str, rules: tuple[CodeRule, ...] = DEFAULT_RULES) -> str:
    """Output table of a time-dependent variable: M for interval variables, E for point events."""
    interval_names = {r.name for r in rules if r.kind.startswith("interval")}
    return INTERVAL_TABLE if any(var.startswith(n) for n in interval_names if n) else POINT_TABLE
