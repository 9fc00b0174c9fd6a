"""Note embeddings: window/latest-per-category selection, contract, cache, pooling under padding, no text in logs."""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from model.embed.config import NoteEncoderConfig
from model.embed.notes import NoteEncoder, embed_notes, join_notes
from model.embed.store import read_embeddings
from model.errors import DataValidationError


@pytest.fixture(scope="module")
def encoder() -> NoteEncoder:
    return NoteEncoder(NoteEncoderConfig(max_length=32, batch_size=8, progress=False))


def test_join_notes_keeps_latest_per_category_in_category_order():
    ev = pl.DataFrame({"_row": [0, 0, 0, 2], "code": ["NOTE//Nursing", "NOTE//Physician", "NOTE//Nursing",
                                                       "NOTE//Radiology"],
                       "time": [datetime(2100, 1, 1, h) for h in (1, 2, 3, 4)],
                       "text_value": ["old nursing", "physician", "new nursing", "radiology"]})
    texts = join_notes(ev, 3, None)
    assert texts[0] == "Nursing: new nursing\n\nPhysician: physician"
    assert texts[1] is None and texts[2] == "Radiology: radiology"
    assert join_notes(ev, 3, ("Physician",))[0] == "Physician: physician"


def test_embed_notes_contract_and_cache(small_cohort, mortality_samples, encoder, tmp_path, caplog):
    samples = mortality_samples.head(24)
    cfg = NoteEncoderConfig(max_length=32, batch_size=8, cache_dir=str(tmp_path / "cache"), progress=False)
    with caplog.at_level(logging.DEBUG):
        meta = embed_notes(small_cohort, samples, tmp_path / "notes", cfg, encoder=encoder)
    index, vectors, meta_read = read_embeddings(tmp_path / "notes")
    assert meta_read == meta and meta["dim"] == 384 and meta["pooling"] == "cls"
    assert index["subject_id"].to_list() == samples["subject_id"].to_list()
    assert index["prediction_time"].to_list() == samples["prediction_time"].to_list()
    present = index["present"].to_numpy()
    assert 0 < present.sum() < len(samples)  # the cohort drops 5% of stays' notes: both kinds appear
    assert np.all(vectors[~present] == 0) and np.all(np.abs(vectors[present]).sum(1) > 0)
    assert vectors.dtype == np.float32
    # no note text may reach the logs
    texts = pl.read_parquet(small_cohort / "data").filter(pl.col("code").str.starts_with("NOTE//"))["text_value"]
    logged = caplog.text
    assert not any(t[:40] in logged for t in texts.head(200).to_list())
    again = embed_notes(small_cohort, samples, tmp_path / "notes2", cfg, encoder=encoder)
    assert again["cache_hits"] == meta["n_present"]
    np.testing.assert_array_equal(read_embeddings(tmp_path / "notes2")[1], vectors)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_pooling_ignores_padding(pooling):
    enc = NoteEncoder(NoteEncoderConfig(max_length=64, pooling=pooling, progress=False))
    short = "Patient resting comfortably."
    alone = enc.encode([short])[0]
    padded = enc.encode([short, "A much longer note " * 10])[0]  # forces padding on the short text
    np.testing.assert_allclose(alone, padded, atol=1e-4)


def test_window_excludes_notes_outside(small_cohort, mortality_samples, encoder, tmp_path):
    # windows that end before the stay starts: every sample must be absent
    early = mortality_samples.head(5).with_columns(pl.col("anchor_time").dt.offset_by("-400d"),
                                                   pl.col("prediction_time").dt.offset_by("-399d"))
    meta = embed_notes(small_cohort, early, tmp_path / "n", NoteEncoderConfig(progress=False), encoder=encoder)
    assert meta["n_present"] == 0


def test_bad_samples_name_the_problem(small_cohort, mortality_samples, encoder, tmp_path):
    with pytest.raises(DataValidationError, match="prediction_time"):
        embed_notes(small_cohort, mortality_samples.drop("prediction_time"), tmp_path / "x",
                    NoteEncoderConfig(progress=False), encoder=encoder)
    assert not (tmp_path / "x").exists()
    as_text = mortality_samples.head(2).with_columns(pl.col("anchor_time").cast(pl.String))
    with pytest.raises(DataValidationError, match="anchor_time.*expected datetime"):
        embed_notes(small_cohort, as_text, tmp_path / "y", NoteEncoderConfig(progress=False), encoder=encoder)
