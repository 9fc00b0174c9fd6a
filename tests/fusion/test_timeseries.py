"""Hourly inputs from hand-written events: binning, forward fill, normals, masks, categoricals, window edges."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from model.fusion.timeseries import N_CONT, Standardizer, _ffill, build_timeseries, feature_names

T0 = datetime(2150, 1, 1, 8, 0)


@pytest.fixture
def tiny_meds(tmp_path):
    rows = [  # subject 1: HR at hour 0 and 3, a GCS eye response, an HR after the window; subject 2: nothing
        (1, T0 + timedelta(minutes=10), "LAB//220045//bpm", 100.0, None),
        (1, T0 + timedelta(hours=3, minutes=5), "LAB//220045//bpm", 120.0, None),
        (1, T0 + timedelta(hours=2), "LAB//220739//UNK", None, "To Speech"),
        (1, T0 + timedelta(hours=49), "LAB//220045//bpm", 200.0, None),
        (1, T0 + timedelta(hours=1), "NOTE//Nursing", None, "ignored"),
        (2, T0, "GENDER//F", None, None),
    ]
    df = pl.DataFrame(rows, schema={"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.String,
                                    "numeric_value": pl.Float32, "text_value": pl.String}, orient="row")
    (tmp_path / "data").mkdir()
    df.write_parquet(tmp_path / "data" / "0.parquet")
    samples = pl.DataFrame({"subject_id": [1, 2], "anchor_time": [T0, T0],
                            "prediction_time": [T0 + timedelta(hours=48)] * 2})
    return tmp_path, samples


def test_binning_fill_normals_masks(tiny_meds):
    root, samples = tiny_meds
    x = build_timeseries(root, samples, hours=48)
    names = feature_names()
    assert x.shape == (2, 48, len(names)) == (2, 48, 48)
    hr, mask_hr = names.index("heart_rate"), names.index("mask:heart_rate")
    np.testing.assert_array_equal(x[0, :3, hr], [100, 100, 100])  # forward filled
    assert x[0, 3, hr] == 120 and x[0, -1, hr] == 120  # the 200 after the window is ignored
    assert x[0, :, mask_hr].nonzero()[0].tolist() == [0, 3]
    assert np.all(x[1, :, hr] == 86.0) and np.all(x[0, :, names.index("sbp")] == 118.0)  # normal values
    eye_speech, eye_spont = names.index("gcs_eye=To Speech"), names.index("gcs_eye=Spontaneously")
    assert x[0, 1, eye_spont] == 1 and x[0, 2, eye_speech] == 1 and x[0, 47, eye_speech] == 1
    gcs = names.index("gcs_total")
    assert x[0, 1, gcs] == 15 and x[0, 2, gcs] == 14  # eye 3 + verbal 5 + motor 6
    assert x[0, 2, names.index("mask:gcs_total")] == 1 and x[0, 1, names.index("mask:gcs_total")] == 0


def test_ffill_keeps_leading_gaps():
    a = np.array([[[np.nan], [1.0], [np.nan], [3.0], [np.nan]]])
    out = _ffill(a, ~np.isnan(a))
    assert np.isnan(out[0, 0, 0]) and out[0, :, 0].tolist()[1:] == [1.0, 1.0, 3.0, 3.0]


def test_standardizer_uses_given_rows_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5, 2, size=(20, 4, 48)).astype(np.float32)
    other = rng.normal(50, 9, size=(5, 4, 48)).astype(np.float32)
    st = Standardizer.fit(train)
    z = st.apply(train)
    np.testing.assert_allclose(z[..., :N_CONT].reshape(-1, N_CONT).mean(0), 0, atol=1e-4)
    np.testing.assert_array_equal(st.apply(other)[..., N_CONT:], other[..., N_CONT:])  # one-hots/masks untouched


def test_real_cohort_shapes(small_cohort, small_labels):
    s = pl.read_parquet(small_labels / "samples" / "mortality.parquet").head(30)
    x = build_timeseries(small_cohort, s)
    assert x.shape == (30, 48, 48) and np.isfinite(x).all()
    assert x[..., -17:].mean() > 0.05  # masks: the cohort charts vitals about hourly
