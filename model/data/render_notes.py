"""Synthetic ICU clinical notes (Nursing, Physician, Radiology, Respiratory) that state a chosen set of facts.

Each true fact that a category can carry (`FACTS_BY_CATEGORY`) is stated in one of several paraphrases; filler
sentences carry no signal, and a few absent facts are negated ("no known hx of diabetes") so a bag-of-words model
has to read a little. No note names any of the 14 chest X-ray findings (effusion, edema, consolidation, ...): those
stay image-only signal. Notes hold no names, dates or identifiers. All randomness comes from one batch of uniforms
drawn from the caller's generator, which keeps a note at tens of microseconds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

NOTE_CATEGORIES: tuple[str, ...] = ("Nursing", "Physician", "Radiology", "Respiratory")
_ACUTE = ("goals_of_care_comfort", "suspected_infection", "resp_distress", "confusion")
_HISTORY = ("hx_chf", "hx_copd", "hx_diabetes", "hx_ckd", "hx_cad", "hx_hypertension", "hx_hyperlipidemia",
            "hx_liver_disease", "hx_afib", "hx_alcohol_use", "hx_stroke", "hx_gi_bleed", "hx_cancer", "hx_depression",
            "hx_asthma")
# "on_ventilator" keeps the airway text consistent with the stay's ventilation events.
NOTE_FACTS: tuple[str, ...] = _ACUTE + _HISTORY + ("post_surgical", "on_ventilator")

# Positive wordings. History facts are terms for a PMH list; the rest are sentences.
_HX_TERMS: dict[str, tuple[str, ...]] = {
    "hx_chf": ("CHF", "CHF (EF 30%)", "HFrEF", "diastolic CHF", "congestive heart failure", "chronic systolic HF"),
    "hx_copd": ("COPD", "COPD on 2L home O2", "severe COPD", "emphysema", "COPD (FEV1 40%)"),
    "hx_diabetes": ("DM2", "IDDM", "type 2 diabetes", "diabetes mellitus on insulin", "NIDDM on metformin"),
    "hx_ckd": ("CKD", "CKD stage III", "CKD (baseline Cr 1.9)", "chronic kidney disease", "ESRD on HD"),
    "hx_cad": ("CAD", "CAD s/p PCI", "coronary artery disease", "CAD s/p DES to LAD", "prior NSTEMI"),
    "hx_hypertension": ("HTN", "hypertension", "essential HTN", "poorly controlled HTN"),
    "hx_hyperlipidemia": ("HLD", "hyperlipidemia", "hypercholesterolemia on statin", "dyslipidemia"),
    "hx_liver_disease": ("cirrhosis", "HCV cirrhosis", "NASH cirrhosis", "chronic liver disease", "ESLD w/ ascites"),
    "hx_afib": ("AFib", "atrial fibrillation on apixaban", "paroxysmal AF", "Afib on coumadin", "chronic AF"),
    "hx_alcohol_use": ("EtOH abuse", "heavy EtOH use", "alcohol use disorder", "EtOH dependence w/ prior DTs"),
    "hx_stroke": ("prior CVA", "CVA w/ residual L weakness", "hx stroke", "old L MCA stroke", "prior TIA/CVA"),
    "hx_gi_bleed": ("prior UGIB", "hx GI bleed", "GIB from duodenal ulcer", "recurrent LGIB"),
    "hx_cancer": ("breast CA", "colon CA s/p resection", "metastatic pancreatic CA", "prostate CA",
                  "AML in remission", "lymphoma on chemo"),
    "hx_depression": ("depression", "MDD", "depression on sertraline", "major depressive disorder"),
    "hx_asthma": ("asthma", "asthma on albuterol PRN", "moderate persistent asthma", "reactive airway disease"),
}
_SENTENCES: dict[str, tuple[str, ...]] = {
    "goals_of_care_comfort": (
        "Family meeting held today; decision made to transition to comfort-focused care.",
        "Pt made DNR/DNI after discussion with family.", "Code status changed to DNR/DNI, focus on comfort.",
        "Goals of care discussed with HCP, family wishes to withdraw aggressive care.",
        "Now CMO per family meeting, morphine gtt for comfort.",
        "Palliative care following; pt is DNR/DNI, no escalation of care."),
    "suspected_infection": (
        "Febrile to 38.9, pan-cultured, started on vanc/zosyn.",
        "Blood and urine cultures sent; broad-spectrum abx started for concern for sepsis.",
        "Concern for sepsis, source unclear; started empiric vancomycin and cefepime.",
        "Lactate 3.1, BCx x2 pending, on meropenem for presumed sepsis.",
        "Spiked a temp overnight, cultures sent, abx broadened.",
        "WBC up to 18, cultures drawn, on empiric vanc/zosyn for possible line infection."),
    "resp_distress": (
        "Increased WOB overnight with accessory muscle use, O2 escalated to 6L NC.",
        "Pt tachypneic to 30s, using accessory muscles, placed on high-flow NC.",
        "Desaturated to 86%, increased work of breathing, FiO2 increased to 60%.",
        "Labored breathing with nasal flaring, escalating O2 requirement.",
        "Resp distress this AM, RR 34, possible need for BiPAP discussed.",
        "Worsening hypoxemia, now on 15L NRB, appears dyspneic and anxious."),
    "confusion": (
        "Pt confused, oriented x1 only, pulling at lines.", "Altered mental status, agitated, CAM-ICU positive.",
        "Delirious overnight, required haldol x1.", "Waxing and waning mental status, not following commands.",
        "Pt disoriented to place and time, sundowning.", "Acute delirium, reoriented frequently, 1:1 sitter."),
    "post_surgical": (
        "POD 1 s/p ex-lap.", "POD 2 s/p sigmoid colectomy.", "Post-op day 1 after hip replacement.",
        "s/p Whipple, POD 3.", "s/p AAA repair, POD 1, surgical team following.",
        "POD 2 s/p small bowel resection, JP drain in place."),
    "on_ventilator": (
        "Intubated, ETT secure at 23 cm at the lip.", "Remains on the vent, AC 450 x 16, PEEP 8, FiO2 40%.",
        "Vented on PRVC, sedated on propofol.", "Remains intubated, suctioned for thick secretions."),
}
# Wordings of absence, used now and then for absent facts.
_NEGATED: dict[str, tuple[str, ...]] = {
    "goals_of_care_comfort": ("Full code.", "Code status: full code, confirmed with pt."),
    "suspected_infection": ("Afebrile, no abx.", "No signs of infection, WBC wnl."),
    "resp_distress": ("Breathing comfortably, no increased WOB.", "No resp distress on current O2."),
    "confusion": ("A&Ox3, no delirium.", "CAM-ICU negative."),
}
_HX_NEGATED = dict(zip(_HISTORY, ("heart failure", "lung disease", "diabetes", "kidney disease", "CAD", "HTN", "HLD",
                                   "liver disease", "arrhythmia", "EtOH use", "stroke", "GI bleeding", "malignancy",
                                   "depression", "asthma")))
_RESP_FACTS = ("resp_distress", "goals_of_care_comfort", "suspected_infection", "confusion", "hx_copd", "hx_asthma",
               "hx_chf", "on_ventilator")
_RAD_FACTS = ("suspected_infection", "confusion", "hx_stroke", "hx_cancer", "hx_liver_disease", "hx_ckd",
              "post_surgical")
FACTS_BY_CATEGORY: dict[str, frozenset[str]] = {
    "Nursing": frozenset(NOTE_FACTS), "Physician": frozenset(NOTE_FACTS),
    "Respiratory": frozenset(_RESP_FACTS), "Radiology": frozenset(_RAD_FACTS),
}
_FACT_SET = frozenset(NOTE_FACTS)

_REASONS = ("hypotension", "generalized weakness", "abdominal pain", "syncope", "hyperkalemia", "hyponatremia",
            "poor PO intake", "dizziness", "nausea/vomiting", "acute kidney injury")
_FILLER = {
    "Neuro": ("PERRL, MAE.", "Pain controlled with PRN oxycodone.", "Slept in naps overnight.",
              "Moving all extremities."),
    "GI": ("Abd soft, NT/ND, +BS.", "Tolerating TF at goal.", "Foley draining clear yellow urine, UO adequate.",
           "BM x1 this shift.", "NPO after midnight for procedure.", "Lytes repleted per protocol."),
    "Skin": ("Skin intact, turned q2h.", "Coccyx w/ stage I, mepilex applied.", "Skin warm and dry.",
             "PIV x2 patent, site clean."),
    "Social": ("Wife at bedside, updated on plan of care.", "Daughter called for update.",
               "No family contact this shift.", "Son visited, questions answered.", "Family updated by phone."),
    "Plan": ("Continue to monitor.", "Continue current plan of care.", "Monitor lytes, replete PRN.",
             "Possible call out to floor tomorrow.", "PT/OT consult placed.", "Follow up AM labs."),
    "O2": ("On 2L NC, sats mid 90s.", "On RA, sats 95-98%.", "On 4L NC, SpO2 93-96%.",
           "On 3L NC, no changes overnight."),
    "Breath": ("coarse bilaterally", "clear", "diminished at bases", "scattered wheezes", "clear upper, coarse lower"),
    "Chronic": ("continue home meds", "stable, monitor", "hold home meds for now", "outpatient follow up"),
}
_RADIOLOGY = {  # study: (title, technique, normal findings, impression)
    "head": ("CT HEAD W/O CONTRAST", "Axial images of the head without IV contrast.",
             "No acute intracranial hemorrhage. Ventricles and sulci are normal for age. Gray-white differentiation "
             "is preserved. Paranasal sinuses and mastoid air cells are clear.", "No acute intracranial process."),
    "abdomen": ("CT ABDOMEN/PELVIS W/ CONTRAST", "Axial images from the diaphragm to the symphysis after IV contrast.",
                "The spleen, pancreas and adrenal glands are unremarkable. No free air. Bowel loops are normal in "
                "caliber. No lymphadenopathy.", "No acute abdominal or pelvic process."),
    "ruq": ("LIVER/GALLBLADDER ULTRASOUND", "Grayscale and Doppler images of the right upper quadrant.",
            "No biliary dilatation. Gallbladder is unremarkable. Hepatic vasculature is patent with normal flow.",
            "No acute hepatobiliary process."),
    "renal": ("RENAL ULTRASOUND", "Grayscale images of both kidneys and the bladder.",
              "No hydronephrosis. No stones. The bladder is decompressed around a Foley catheter.",
              "No hydronephrosis."),
    "picc": ("US-GUIDED PICC PLACEMENT", "Ultrasound-guided access of the right basilic vein, fluoroscopic guidance.",
             "A 5 Fr double-lumen PICC was placed; the tip terminates at the cavoatrial junction.",
             "Successful PICC placement, ready to use. No immediate complications."),
    "duplex": ("BILATERAL LOWER EXTREMITY VENOUS DUPLEX", "Grayscale, color and spectral Doppler of the deep veins.",
               "Normal compressibility, flow and augmentation of the femoral and popliteal veins.", "No DVT."),
}
# (fact, study it prompts, history wordings, clinical question, positive finding or "") for radiology reports.
_RAD_LINKS = (
    ("suspected_infection", "abdomen", ("fever and leukocytosis", "sepsis of unclear source", "fevers, rising WBC"),
     "Evaluate for source of infection.", ""),
    ("post_surgical", "abdomen", ("recent abdominal surgery", "postoperative state", "recent laparotomy"),
     "Evaluate for postoperative collection.", "Expected postsurgical changes without drainable collection."),
    ("hx_liver_disease", "ruq", ("cirrhosis", "chronic liver disease", "ESLD"),
     "Evaluate for ascites and portal vein patency.",
     "The liver is shrunken with an irregular contour, consistent with cirrhosis. Moderate ascites."),
    ("hx_cancer", "abdomen", ("history of malignancy", "known cancer", "malignancy on chemotherapy"), "Restaging.",
     "Known primary malignancy, stable from prior."),
    ("confusion", "head", ("altered mental status", "acute confusion", "new delirium"), "Evaluate for bleed.", ""),
    ("hx_stroke", "head", ("prior stroke", "history of CVA", "old infarct"), "Evaluate for new infarct.",
     "Encephalomalacia in the left MCA territory from a prior infarct."),
    ("hx_ckd", "renal", ("chronic kidney disease", "CKD", "chronic renal insufficiency"),
     "Worsening creatinine, evaluate for obstruction.",
     "Both kidneys are small and echogenic, consistent with medical renal disease."),
)

# Every positive wording of each fact, across categories (radiology states history in its indication).
FACT_PHRASES: dict[str, tuple[str, ...]] = {
    f: _HX_TERMS.get(f, ()) + _SENTENCES.get(f, ()) + tuple(w for link in _RAD_LINKS if link[0] == f for w in link[2])
    for f in NOTE_FACTS}


class _Draws:
    """Uniform draws from one pre-fetched batch: a Python float per call instead of a slow scalar rng call."""

    __slots__ = ("_rng", "_buf", "_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng, self._buf, self._i = rng, rng.random(64).tolist(), 0

    def u(self) -> float:
        if self._i == len(self._buf):
            self._buf, self._i = self._rng.random(64).tolist(), 0
        self._i += 1
        return self._buf[self._i - 1]

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.u() * len(options))]


def _true_facts(facts: Mapping[str, bool] | Collection[str]) -> frozenset[str]:
    true = frozenset(k for k, v in facts.items() if v) if isinstance(facts, Mapping) else frozenset(facts)
    unknown = (frozenset(facts) if isinstance(facts, Mapping) else true) - _FACT_SET
    if unknown:
        raise ValueError(f"unknown note facts {sorted(unknown)}; expected names from NOTE_FACTS")
    return true


def _pmh(d: _Draws, true: frozenset[str], negate_rate: float) -> tuple[str, list[str]]:
    """A past-medical-history list (now and then with one absent condition denied) and the terms it used."""
    terms = [d.pick(_HX_TERMS[f]) for f in _HISTORY if f in true]
    absent = [f for f in _HISTORY if f not in true]
    negation = [d.pick(("no known hx of ", "no hx of ", "no ")) + _HX_NEGATED[d.pick(absent)]] \
        if absent and d.u() < negate_rate else []
    return (", ".join(terms + negation) if terms or negation else "no significant PMH"), terms


def _two(d: _Draws, options: Sequence[str]) -> str:
    """Two different filler sentences."""
    first = int(d.u() * len(options))
    second = (first + 1 + int(d.u() * (len(options) - 1))) % len(options)
    return f"{options[first]} {options[second]}"


def _state(d: _Draws, true: frozenset[str], fact: str, filler: Sequence[str], negate_rate: float) -> str:
    """One sentence for a section: the fact if true, else (sometimes) its negation, else filler."""
    if fact in true:
        return d.pick(_SENTENCES[fact])
    return d.pick(_NEGATED[fact]) if fact in _NEGATED and d.u() < negate_rate else d.pick(filler)


def _vitals(d: _Draws) -> str:
    hr, sbp = 60 + int(d.u() * 45), 95 + int(d.u() * 40)
    return f"HR {hr // 10 * 10}s-{hr // 10 * 10 + 10}s {d.pick(('NSR', 'SR', 'ST'))}, SBP {sbp // 10 * 10}s-" \
           f"{sbp // 10 * 10 + 20}s, {d.pick(('+PP', 'pulses palpable', 'extremities warm', 'no ectopy'))}."


def _nursing(d: _Draws, t: frozenset[str], who: str, pro: str) -> list[str]:
    airway = d.pick(_SENTENCES["on_ventilator"]) if "on_ventilator" in t else d.pick(_FILLER["O2"])
    post = " " + d.pick(_SENTENCES["post_surgical"]) if "post_surgical" in t else ""
    return [d.pick(("Nursing Progress Note", "NPN 0700-1900", "Nursing shift note 1900-0700", "MICU nursing note")),
            f"{who} w/ PMH {_pmh(d, t, 0.3)[0]} admitted with {d.pick(_REASONS)}.{post}",
            f"Neuro: {_state(d, t, 'confusion', _FILLER['Neuro'], 0.3)} {d.pick(_FILLER['Neuro'])}",
            f"CV: {_vitals(d)}", f"Resp: {airway} {_state(d, t, 'resp_distress', ('Lung sounds clear.',), 0.3)}",
            f"GI/GU: {_two(d, _FILLER['GI'])}",
            f"ID: {_state(d, t, 'suspected_infection', ('Tmax 37.4.', 'Temp stable.'), 0.3)}",
            f"Skin: {d.pick(_FILLER['Skin'])}",
            f"Social: {_state(d, t, 'goals_of_care_comfort', _FILLER['Social'], 0.2)}",
            f"Plan: {d.pick(_FILLER['Plan'])} {pro} will be reassessed this shift."]


def _physician(d: _Draws, t: frozenset[str], who: str, pro: str) -> list[str]:
    post = " " + d.pick(_SENTENCES["post_surgical"]) if "post_surgical" in t else ""
    pmh, terms = _pmh(d, t, 0.35)
    lines = [d.pick(("MICU Progress Note", "ICU Attending Note", "SICU Resident Progress Note", "Admission Note")),
             f"HPI: {who} with {d.pick(_REASONS)} x{2 + int(d.u() * 4)} days.{post}",
             f"PMH: {pmh}", f"Exam: {_vitals(d)} {d.pick(_FILLER['GI'])}", "Assessment and Plan:"]
    for fact, label in (("resp_distress", "Hypoxemia"), ("suspected_infection", "Fever/possible infection"),
                        ("confusion", "Encephalopathy"), ("on_ventilator", "Airway")):
        if fact in t:
            lines.append(f"# {label}: {d.pick(_SENTENCES[fact])}")
    for term in terms[:3]:
        lines.append(f"# {term}: {d.pick(_FILLER['Chronic'])}.")
    lines.append(f"# FEN: {d.pick(_FILLER['GI'])}")
    lines.append("Code: " + (d.pick(_SENTENCES["goals_of_care_comfort"]) if "goals_of_care_comfort" in t
                             else d.pick(("Full (presumed).", "Full code.", "Full, discussed with HCP."))))
    lines.append(f"Dispo: ICU for now. {d.pick(_FILLER['Social'])}")
    return lines


def _respiratory(d: _Draws, t: frozenset[str], who: str, pro: str) -> list[str]:
    hx = [d.pick(_HX_TERMS[f]) for f in ("hx_copd", "hx_asthma", "hx_chf") if f in t]
    lines = [d.pick(("Respiratory Care Note", "RT Note", "Respiratory Therapy Shift Note")),
             f"Pt is a {who}{' with ' + ', '.join(hx) if hx else ''}.",
             "Airway: " + (d.pick(_SENTENCES["on_ventilator"]) if "on_ventilator" in t else d.pick(_FILLER["O2"]))]
    if "resp_distress" in t:  # RT notes dwell on distress: two different wordings
        first = d.pick(_SENTENCES["resp_distress"])
        second = d.pick([s for s in _SENTENCES["resp_distress"] if s != first])
        lines.append(f"Assessment: {first} {second}")
    else:
        lines.append("Assessment: " + d.pick(_NEGATED["resp_distress"] + ("Stable on current settings.",)))
    lines.append(f"Breath sounds: {d.pick(_FILLER['Breath'])}.")
    for fact in ("suspected_infection", "confusion", "goals_of_care_comfort"):
        if fact in t:
            lines.append(d.pick(_SENTENCES[fact]))
    if "hx_copd" in t or "hx_asthma" in t:
        lines.append(d.pick(("Albuterol/ipratropium nebs q4h.", "Duonebs given with fair effect.")))
    lines.append(f"Plan: {d.pick(('Wean O2 as tolerated.', 'Continue current support.', 'RT to follow.'))}")
    return lines


def _radiology(d: _Draws, t: frozenset[str], age: int, man: str) -> list[str]:
    links = [link for link in _RAD_LINKS if link[0] in t]
    study = links[0][1] if links else d.pick(tuple(_RADIOLOGY))
    title, technique, normal, impression = _RADIOLOGY[study]
    history = ", ".join(d.pick(link[2]) for link in links) or d.pick(_REASONS)
    question = links[0][3] if links else d.pick(("Evaluate for acute process.", "Routine evaluation."))
    extra = [link[4] for link in links if link[1] == study and link[4]]
    comparison = d.pick(("None.", "Prior study from this admission.", "None available.", "Outside study, unavailable."))
    return [d.pick(("FINAL REPORT", "FINAL REPORT (REVISED)", "WET READ / FINAL REPORT")), f"EXAMINATION: {title}",
            f"INDICATION: {age}-year-old {man} with {history}. {question}", f"TECHNIQUE: {technique}",
            f"COMPARISON: {comparison}", f"FINDINGS: {' '.join(extra + [normal])}",
            f"IMPRESSION: {d.pick(('', '1. '))}{' '.join(extra[:1] + [impression])}"]


def compose_note(category: str, facts: Mapping[str, bool] | Collection[str], rng: np.random.Generator, *, age: int,
                 sex: str) -> str:
    """Write one synthetic clinical note that states the true facts its category can carry.

    Args:
        category: One of `NOTE_CATEGORIES`.
        facts: Fact name -> bool, or a collection of the true fact names; names from `NOTE_FACTS`, missing = false.
        rng: Source of all randomness; the same generator state and inputs give the same note.
        age: Age in years (0-120).
        sex: "M" or "F" (anything else is written as "pt").

    Returns:
        str: The note, lines separated by newlines.

    Raises:
        ValueError: On an unknown category or fact name, or an age out of range.
    """
    if category not in FACTS_BY_CATEGORY:
        raise ValueError(f"unknown note category {category!r}; expected one of {NOTE_CATEGORIES}")
    if not 0 <= age <= 120:
        raise ValueError(f"age must be within 0-120, got {age}")
    true = _true_facts(facts)
    d = _Draws(rng)
    letter, pronoun, man = {"M": ("M", "He", "man"), "F": ("F", "She", "woman")}.get(sex, ("pt", "Pt", "patient"))
    who = f"{age} {d.pick(('yo', 'y/o', 'year old'))} {letter}"
    if category == "Radiology":
        return "\n".join(_radiology(d, true, age, man))
    build = {"Nursing": _nursing, "Physician": _physician, "Respiratory": _respiratory}[category]
    return "\n".join(build(d, true, who, pronoun))
