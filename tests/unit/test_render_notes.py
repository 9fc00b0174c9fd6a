"""Tests for the synthetic clinical-note composer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from model.data.render_notes import FACT_PHRASES, FACTS_BY_CATEGORY, NOTE_CATEGORIES, NOTE_FACTS, compose_note

REQUIRED_FACTS = ("goals_of_care_comfort", "suspected_infection", "resp_distress", "confusion", "hx_chf", "hx_copd",
                  "hx_diabetes", "hx_ckd", "hx_cad", "hx_hypertension", "hx_hyperlipidemia", "hx_liver_disease",
                  "hx_afib", "hx_alcohol_use", "hx_stroke", "hx_gi_bleed", "hx_cancer", "hx_depression", "hx_asthma",
                  "post_surgical")
# Words for the 14 chest X-ray findings: these must stay image-only signal.
CXR_VOCABULARY = re.compile(r"effusion|cardiomegal|edema|consolidat|pneumonia|\bPNA\b|atelecta|pneumothora|fractur|"
                            r"opacit|nodul|lesion|infiltrat|cardiomediastin|pleura|\bCXR\b|x-ray", re.IGNORECASE)


def _random_facts(rng: np.random.Generator, rate: float = 0.3) -> frozenset[str]:
    return frozenset(f for f in NOTE_FACTS if rng.random() < rate)


def test_fact_names_and_categories() -> None:
    assert NOTE_CATEGORIES == ("Nursing", "Physician", "Radiology", "Respiratory")
    assert set(REQUIRED_FACTS) <= set(NOTE_FACTS)
    assert set(FACTS_BY_CATEGORY) == set(NOTE_CATEGORIES)
    assert FACTS_BY_CATEGORY["Nursing"] == FACTS_BY_CATEGORY["Physician"] == frozenset(NOTE_FACTS)
    assert "resp_distress" in FACTS_BY_CATEGORY["Respiratory"]


@pytest.mark.parametrize("category", NOTE_CATEGORIES)
def test_notes_are_deterministic_and_vary(category: str) -> None:
    facts = {f: f in ("hx_chf", "suspected_infection", "confusion") for f in NOTE_FACTS}
    first = compose_note(category, facts, np.random.default_rng(5), age=71, sex="F")
    assert first == compose_note(category, facts, np.random.default_rng(5), age=71, sex="F")
    as_set = compose_note(category, frozenset(k for k, v in facts.items() if v), np.random.default_rng(5), age=71,
                          sex="F")
    assert as_set == first  # a dict and the set of its true names give the same note
    others = {compose_note(category, facts, np.random.default_rng(s), age=71, sex="F") for s in range(10)}
    assert len(others) >= 5


@pytest.mark.parametrize("category", NOTE_CATEGORIES)
def test_each_carried_fact_is_stated_when_true(category: str) -> None:
    rng = np.random.default_rng(11)
    for fact in sorted(FACTS_BY_CATEGORY[category]):
        for _ in range(5):
            note = compose_note(category, {fact: True}, rng, age=60, sex="M")
            assert any(p in note for p in FACT_PHRASES[fact]), f"{category} note does not state {fact}:\n{note}"


def test_uncarried_facts_stay_out_of_radiology() -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        note = compose_note("Radiology", {"goals_of_care_comfort": True, "resp_distress": True}, rng, age=80, sex="F")
        phrases = FACT_PHRASES["goals_of_care_comfort"] + FACT_PHRASES["resp_distress"]
        assert not any(p in note for p in phrases)
        assert "DNR" not in note and "WOB" not in note


def test_no_chest_xray_findings_identifiers_or_dates_in_any_note() -> None:
    rng = np.random.default_rng(3)
    for k in range(400):
        note = compose_note(NOTE_CATEGORIES[k % 4], _random_facts(rng, 0.5), rng, age=int(rng.integers(18, 95)),
                            sex="MF"[k % 2])
        assert not CXR_VOCABULARY.search(note), note
        assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\[\*\*|MRN|Mr\.|Mrs\.|Dr\.", note), note


def test_categories_have_their_own_shape() -> None:
    rng = np.random.default_rng(4)
    markers = {"Nursing": ("Neuro:", "CV:", "Resp:", "Social:"), "Physician": ("HPI:", "PMH:", "Assessment and Plan:"),
               "Radiology": ("FINDINGS:", "IMPRESSION:", "INDICATION:"), "Respiratory": ("Airway:", "Breath sounds:")}
    for category, own in markers.items():
        note = compose_note(category, _random_facts(rng), rng, age=55, sex="M")
        assert all(m in note for m in own), note
        foreign = [m for c, ms in markers.items() if c != category for m in ms]
        assert not any(m in note for m in foreign), note
    # Respiratory notes dwell on distress: two different wordings.
    note = compose_note("Respiratory", {"resp_distress": True}, rng, age=55, sex="M")
    assert sum(p in note for p in FACT_PHRASES["resp_distress"]) == 2


def test_absent_facts_are_negated_at_a_modest_rate() -> None:
    rng = np.random.default_rng(6)
    negation = re.compile(r"no known hx of|no hx of|Full code|no increased WOB|no delirium|no abx|CAM-ICU negative|"
                          r"No signs of infection|No resp distress", re.IGNORECASE)
    notes = [compose_note(("Nursing", "Physician")[k % 2], frozenset(), rng, age=50, sex="F") for k in range(300)]
    share = np.mean([bool(negation.search(n)) for n in notes])
    assert 0.2 < share < 0.9


def test_unknown_inputs_are_rejected() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="category"):
        compose_note("Discharge", {}, rng, age=50, sex="M")
    with pytest.raises(ValueError, match="unknown note facts"):
        compose_note("Nursing", {"hx_flu": True}, rng, age=50, sex="M")
    with pytest.raises(ValueError, match="age"):
        compose_note("Nursing", {}, rng, age=150, sex="M")


def test_key_facts_are_learnable_with_tfidf_logistic_regression() -> None:
    # Radiology reports do not carry these facts by design, so the classifier reads the three categories that do.
    rng = np.random.default_rng(2024)
    categories = ("Nursing", "Physician", "Respiratory")
    facts = [_random_facts(rng) for _ in range(600)]
    notes = [compose_note(categories[k % 3], f, rng, age=int(rng.integers(18, 95)), sex="MF"[k % 2])
             for k, f in enumerate(facts)]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    train = vectorizer.fit_transform(notes[:400])
    test = vectorizer.transform(notes[400:])
    for fact in ("goals_of_care_comfort", "suspected_infection", "resp_distress", "hx_chf"):
        y = np.array([fact in f for f in facts])
        model = LogisticRegression(C=10.0, max_iter=2000).fit(train, y[:400])
        auroc = roc_auc_score(y[400:], model.predict_proba(test)[:, 1])
        assert auroc >= 0.9, f"{fact}: held-out AUROC {auroc:.3f}"
