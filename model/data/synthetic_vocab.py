"""The synthetic cohort's vocabulary as data: MIMIC-IV itemids, units, ranges and how each reads the latent state.

A measurement's value is `mean + sd * (sum_k loading_k * latent_k) + sd * noise`, clipped to [lo, hi]. Latent
names are the per-stay columns drawn in `synthetic_latent` (z-scores or 0/1 flags).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    """A charted vital or lab: MEDS code `LAB//{itemid}//{unit}` (or another prefix)."""

    itemid: int
    unit: str
    name: str
    mean: float
    sd: float
    lo: float
    hi: float
    every_h: float  # mean hours between measurements
    loadings: dict[str, float] = field(default_factory=dict)
    decimals: int = 1
    prefix: str = "LAB"

    @property
    def code(self) -> str:
        return f"{self.prefix}//{self.itemid}//{self.unit}"


# Vitals (chartevents, about hourly). MedFuse variables included.
VITALS: tuple[Measure, ...] = (
    Measure(220045, "bpm", "heart_rate", 86, 14, 30, 200, 1.0,
            {"hemo": 0.9, "sev": 0.3, "infect": 0.5, "hx_afib": 0.6}, 0),
    Measure(220179, "mmHg", "sbp", 122, 18, 60, 230, 1.0, {"hemo": -0.9, "hx_hypertension": 0.8}, 0),
    Measure(220180, "mmHg", "dbp", 64, 11, 25, 140, 1.0, {"hemo": -0.8, "hx_hypertension": 0.6}, 0),
    Measure(220181, "mmHg", "map", 80, 11, 35, 160, 1.0, {"hemo": -1.0, "hx_hypertension": 0.7}, 0),
    Measure(220210, "insp/min", "resp_rate", 19, 4, 6, 50, 1.0, {"resp": 1.0, "sev": 0.2}, 0),
    Measure(220277, "%", "spo2", 96.5, 2.0, 70, 100, 1.0, {"resp": -1.0}, 0),
    Measure(223761, "°F", "temperature", 98.6, 1.0, 93, 106, 4.0, {"infect": 1.4, "sev": 0.2}, 1),
    Measure(223835, "%", "fio2", 35, 10, 21, 100, 4.0, {"resp": 1.0}, 0),
    Measure(220621, "mg/dL", "glucose_chart", 128, 30, 40, 600, 6.0, {"hx_diabetes": 1.5, "sev": 0.3}, 0),
    Measure(223834, "L/min", "o2_flow", 3, 1.5, 0, 15, 1.0, {"resp": 1.0}, 1),
)

# Invasive (arterial line) pressures, charted hourly for the sicker half of stays.
ARTERIAL: tuple[Measure, ...] = (
    Measure(220050, "mmHg", "abp_sys", 120, 19, 55, 230, 1.0, {"hemo": -0.9, "hx_hypertension": 0.7}, 0),
    Measure(220051, "mmHg", "abp_dia", 60, 11, 25, 130, 1.0, {"hemo": -0.8, "hx_hypertension": 0.5}, 0),
    Measure(220052, "mmHg", "abp_mean", 78, 12, 35, 150, 1.0, {"hemo": -1.0, "hx_hypertension": 0.6}, 0),
)
HEART_RHYTHM = (220048, ("SR (Sinus Rhythm)", "ST (Sinus Tachycardia)", "AF (Atrial Fibrillation)",
                         "SB (Sinus Bradycardia)"))

# Labs (labevents, sparse). Some carry phenotype signal, some are noise.
LABS: tuple[Measure, ...] = (
    Measure(50912, "mg/dL", "creatinine", 1.0, 0.35, 0.2, 15, 12.0, {"hx_ckd": 2.5, "aki": 2.0, "hemo": 0.3}, 2),
    Measure(50813, "mmol/L", "lactate", 1.6, 0.7, 0.3, 20, 8.0, {"hemo": 1.2, "sev": 0.6, "infect": 0.4}, 1),
    Measure(51301, "K/uL", "wbc", 9.5, 3.0, 0.5, 60, 12.0, {"infect": 1.6, "sev": 0.3}, 1),
    Measure(51222, "g/dL", "hemoglobin", 11.0, 1.6, 4.0, 19, 12.0, {"hx_gi_bleed": -1.6, "hx_ckd": -0.5}, 1),
    Measure(51265, "K/uL", "platelets", 220, 70, 5, 900, 12.0, {"infect": -0.6, "hx_liver_disease": -0.9}, 0),
    Measure(50983, "mEq/L", "sodium", 139, 3.5, 115, 165, 12.0, {"fluid_lyte": -1.4}, 0),
    Measure(50971, "mEq/L", "potassium", 4.1, 0.45, 2.0, 8.0, 12.0, {"fluid_lyte": 1.0, "hx_ckd": 0.6}, 1),
    Measure(50885, "mg/dL", "bilirubin", 0.8, 0.5, 0.1, 30, 24.0, {"hx_liver_disease": 2.5}, 1),
    Measure(51006, "mg/dL", "bun", 18, 7, 2, 150, 12.0, {"hx_ckd": 1.8, "aki": 1.5}, 0),
    Measure(50882, "mEq/L", "bicarbonate", 24, 3, 8, 45, 12.0, {"hemo": -0.8, "resp": 0.3, "hx_copd": 0.8}, 0),
    Measure(50820, "units", "ph", 7.40, 0.045, 6.8, 7.7, 8.0, {"resp": -0.6, "hemo": -0.5}, 2),
    Measure(50821, "mm Hg", "pao2", 95, 20, 30, 500, 8.0, {"resp": -1.0}, 0),
    Measure(50818, "mm Hg", "paco2", 40, 6, 15, 120, 8.0, {"resp": 0.6, "hx_copd": 1.0}, 0),
    Measure(51003, "ng/mL", "troponin_t", 0.02, 0.02, 0.0, 25, 24.0, {"ami": 3.0}, 2),
    Measure(50963, "pg/mL", "ntprobnp", 400, 300, 5, 70000, 24.0, {"hx_chf": 3.0}, 0),
    Measure(50931, "mg/dL", "glucose", 125, 30, 30, 700, 12.0, {"hx_diabetes": 1.6}, 0),
    Measure(50960, "mg/dL", "magnesium", 2.0, 0.25, 0.6, 5.0, 24.0, {}, 1),
    Measure(50970, "mg/dL", "phosphate", 3.5, 0.8, 0.5, 12, 24.0, {}, 1),
    Measure(50893, "mg/dL", "calcium", 8.6, 0.6, 4.0, 14, 24.0, {}, 1),
    Measure(50862, "g/dL", "albumin", 3.3, 0.5, 1.0, 5.5, 48.0, {"sev": -0.3}, 1),
    Measure(51237, "ratio", "inr", 1.2, 0.25, 0.8, 10, 24.0, {"hx_liver_disease": 1.2}, 1),
    Measure(50902, "mEq/L", "chloride", 103, 4, 80, 130, 12.0, {}, 0),
    Measure(50861, "IU/L", "alt", 30, 15, 3, 3000, 48.0, {"hx_liver_disease": 1.5}, 0),
)

ANTHRO: tuple[Measure, ...] = (
    Measure(226512, "kg", "weight", 80, 18, 35, 220, 1e9, {}, 1),
    Measure(226730, "cm", "height", 170, 10, 140, 205, 1e9, {}, 0),
)

URINE = Measure(226559, "ml", "urine_foley", 90, 45, 0, 900, 1.5, {"hemo": -0.6, "aki": -0.8}, 0,
                prefix="SUBJECT_FLUID_OUTPUT")

# GCS components and capillary refill are charted as categorical text (as in MedFuse), ordered best first.
GCS_EYE = (220739, ("Spontaneously", "To Speech", "To Pain", "No Response"))
GCS_VERBAL = (223900, ("Oriented", "Confused", "Inappropriate Words", "Incomprehensible sounds", "No Response"))
GCS_MOTOR = (223901, ("Obeys Commands", "Localizes Pain", "Flex-withdraws", "Abnormal Flexion",
                      "Abnormal extension", "No response"))
GCS_INTUBATED_VERBAL = "No Response-ETT"
CAP_REFILL = (223951, ("Normal <3 Seconds", "Abnormal >3 Seconds"))
CATEGORICAL_EVERY_H = 2.0

PEEP = Measure(220339, "cmH2O", "peep_set", 8, 2.5, 5, 24, 1.0, {"resp": 0.5}, 0)

# Vasopressors that define shock (INFUSION_START//itemid, rate in mcg/kg/min or units/min).
VASOPRESSORS: tuple[tuple[int, str, float], ...] = (
    (221906, "norepinephrine", 0.12), (221289, "epinephrine", 0.06), (221662, "dopamine", 6.0),
    (222315, "vasopressin", 0.04), (221749, "phenylephrine", 1.2),
)
VENT_INVASIVE, VENT_NONINVASIVE = 225792, 225794

# Other infusions: (itemid, name, typical rate, which latent flag makes it likely, base probability).
OTHER_INFUSIONS: tuple[tuple[int, str, float, str | None, float], ...] = (
    (225158, "nacl_0_9", 100.0, None, 0.55),
    (222168, "propofol", 30.0, "vent", 0.0),
    (221744, "fentanyl", 50.0, "vent", 0.0),
    (225152, "heparin", 1000.0, "hx_afib", 0.15),
    (223258, "insulin_regular", 3.0, "hx_diabetes", 0.05),
    (225798, "vancomycin", 250.0, "infect", 0.05),
    (225893, "piperacillin_tazobactam", 100.0, "infect", 0.04),
    (221794, "furosemide", 10.0, "hx_chf", 0.05),
)

# Procedures (PROCEDURE//START|END//itemid): (itemid, name, latent flag, base probability).
OTHER_PROCEDURES: tuple[tuple[int, str, str | None, float], ...] = (
    (225752, "arterial_line", "sev_high", 0.25),
    (224263, "multi_lumen", "sev_high", 0.2),
    (229351, "foley_catheter", None, 0.6),
    (225402, "ekg", None, 0.5),
    (225802, "dialysis_crrt", "aki", 0.0),
    (225459, "chest_xray", "imaged", 0.0),
)

CAREUNITS = ("Medical Intensive Care Unit (MICU)", "Surgical Intensive Care Unit (SICU)",
             "Cardiac Vascular Intensive Care Unit (CVICU)", "Medical/Surgical Intensive Care Unit (MICU/SICU)",
             "Coronary Care Unit (CCU)", "Trauma SICU (TSICU)", "Neuro Intensive Care Unit (Neuro ICU)")
ADMISSION_TYPES = ("EW EMER.", "URGENT", "ELECTIVE", "OBSERVATION ADMIT", "SURGICAL SAME DAY ADMISSION")
ADMISSION_LOCATIONS = ("EMERGENCY ROOM", "TRANSFER FROM HOSPITAL", "PHYSICIAN REFERRAL", "CLINIC REFERRAL",
                       "PACU", "WALK-IN/SELF REFERRAL")
DISCHARGE_LOCATIONS = ("HOME", "HOME HEALTH CARE", "SKILLED NURSING FACILITY", "REHAB", "CHRONIC/LONG TERM ACUTE CARE")
RACES = ("WHITE", "BLACK/AFRICAN AMERICAN", "HISPANIC/LATINO", "ASIAN", "OTHER", "UNKNOWN")
RACE_P = (0.62, 0.15, 0.07, 0.05, 0.06, 0.05)
INSURANCES = ("Medicare", "Medicaid", "Other")
