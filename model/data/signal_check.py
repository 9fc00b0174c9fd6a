"""Where a task's signal lives: simple per-modality models vs their fusion, against the oracle.

A quick, model-free check of the synthetic cohort's design (not the product's models): logistic regression on
window summaries of structured events, TF-IDF of notes, and downsampled X-ray pixels, each alone and concatenated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pydicom
from PIL import Image
from pydicom.pixels import apply_voi_lut
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.preprocessing import StandardScaler

from model.metrics import binary_metrics

KEYS = ["subject_id", "anchor_time"]


def _window_events(shards: list[Path], samples: pl.DataFrame) -> pl.LazyFrame:
    ev = pl.scan_parquet(shards).filter(pl.col("time").is_not_null())
    return ev.join(samples.lazy().select(*KEYS, "prediction_time"), on="subject_id").filter(
        (pl.col("time") >= pl.col("anchor_time")) & (pl.col("time") <= pl.col("prediction_time")))


# AutoFM's modalities of the structured columns: point events are "discrete events" (E), interval events
# "continuous events" (M), static facts "demographics" (p); the same split as the feature store's tables.
STRUCTURED_MODALITIES = ("events_disc", "events_cont", "demographics")


def structured_features(shards: list[Path], samples: pl.DataFrame) -> np.ndarray:
    """Per sample: mean/min/max of each numeric code and counts of each interval-start code in the window."""
    return structured_feature_groups(shards, samples)[0]


def structured_feature_groups(shards: list[Path], samples: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``structured_features`` and, per column, the AutoFM modality it belongs to (``STRUCTURED_MODALITIES``).

    Returns:
        [n, d] features (values, then missing indicators) and [d] modality names.
    """
    w = _window_events(shards, samples).filter(~pl.col("code").str.starts_with("NOTE//")
                                               & ~pl.col("code").str.starts_with("CXR//"))
    num = (w.filter(pl.col("numeric_value").is_not_null() & pl.col("code").str.starts_with("LAB//"))
           .group_by(*KEYS, "code").agg(pl.col("numeric_value").mean().alias("mean"),
                                        pl.col("numeric_value").min().alias("min"),
                                        pl.col("numeric_value").max().alias("max")).collect())
    txt = (w.filter(pl.col("text_value").is_not_null()).with_columns(
        (pl.col("code") + "=" + pl.col("text_value")).alias("code")).group_by(*KEYS, "code").len().collect())
    cnt = (w.filter(pl.col("code").str.contains("_START")).group_by(*KEYS, "code").len().collect())
    base = samples.select(KEYS)
    ev = pl.scan_parquet(shards)
    birth = ev.filter(pl.col("code") == "MEDS_BIRTH").group_by("subject_id").agg(pl.col("time").min().alias("birth"))
    female = ev.filter(pl.col("code") == "GENDER//F").select("subject_id", pl.lit(1.0).alias("female")).unique()
    demo = (base.lazy().join(birth, on="subject_id", how="left").join(female, on="subject_id", how="left")
            .select(*KEYS, ((pl.col("anchor_time") - pl.col("birth")).dt.total_days() / 365.25).alias("age"),
                    pl.col("female").fill_null(0.0)).collect())
    mats, groups = [base.join(demo, on=KEYS, how="left").drop(KEYS)], ["demographics"] * 2
    for df, vals, group in ((num, ["mean", "min", "max"], "events_disc"), (txt, ["len"], "events_disc"),
                            (cnt, ["len"], "events_cont")):
        if df.height:
            wide = df.pivot(on="code", index=KEYS, values=vals)
            wide = wide.select(KEYS + sorted(set(wide.columns) - set(KEYS)))  # group_by order varies run to run
            mats.append(base.join(wide, on=KEYS, how="left").drop(KEYS))
            groups += [group] * mats[-1].width
    arr = pl.concat(mats, how="horizontal").to_numpy().astype(float)
    missing = np.isnan(arr)
    col_mean = np.where(missing.all(0), 0.0, np.nanmean(np.where(missing, np.nan, arr), axis=0))
    return np.hstack([np.where(missing, col_mean, arr), missing.astype(float)]), np.array(groups * 2)


def note_texts(shards: list[Path], samples: pl.DataFrame) -> list[str]:
    w = _window_events(shards, samples).filter(pl.col("code").str.starts_with("NOTE//"))
    agg = w.group_by(KEYS).agg(pl.col("text_value").sort_by("time").str.join(" ")).collect()
    return samples.select(KEYS).join(agg, on=KEYS, how="left")["text_value"].fill_null("").to_list()


def latest_image_paths(shards: list[Path], samples: pl.DataFrame) -> list[str | None]:
    """Per sample (in order): the relative path of its latest in-window X-ray, or None."""
    w = _window_events(shards, samples).filter(pl.col("image_path").is_not_null())
    last = w.sort("time").group_by(KEYS).agg(pl.col("image_path").last()).collect()
    return samples.select(KEYS).join(last, on=KEYS, how="left")["image_path"].to_list()


def image_features(root: Path, shards: list[Path], samples: pl.DataFrame, side: int = 16) -> np.ndarray:
    """Latest in-window X-ray, downsampled to side x side, plus a presence flag (zeros when absent)."""
    paths = latest_image_paths(shards, samples)
    out = np.zeros((len(paths), side * side + 1))
    for i, rel in enumerate(paths):
        if rel is None:
            continue
        if rel.endswith(".dcm"):
            img = Image.fromarray(_dicom_uint8(root / rel))
        else:
            img = Image.open(root / rel).convert("L")
        out[i, :-1] = np.asarray(img.resize((side, side)), dtype=float).ravel() / 255.0
        out[i, -1] = 1.0
    return out


def _dicom_uint8(path: Path) -> np.ndarray:
    """Display pixels: VOI LUT / windowing applied, MONOCHROME1 inverted, scaled to 0-255."""
    ds = pydicom.dcmread(path)
    px = apply_voi_lut(ds.pixel_array, ds).astype(float)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        px = px.max() - px
    px -= px.min()
    return (255 * px / max(px.max(), 1e-9)).astype(np.uint8)


def fit_score(x_tr, y_tr, x_te, c: float) -> np.ndarray:
    """Held-out probabilities of one L2 logistic regression."""
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x_tr, y_tr)
    return model.predict_proba(x_te)[:, 1]


def fit_modality_scores(parts: dict, xs: np.ndarray, y: np.ndarray, tr: np.ndarray) -> dict[str, np.ndarray]:
    """Held-out scores of one logistic regression per modality and of their fusion.

    Args:
        parts: name -> (feature matrix over all samples, inverse regularisation C); must hold "structured".
        xs: The standardised structured features (dense), the fusion's base.
        y: 0/1 labels; tr: mask of training rows (the rest is scored).
    """
    scores: dict[str, np.ndarray] = {}
    extra_tr, extra_te = [], []
    for name, (x, c) in parts.items():
        scores[name] = fit_score(x[tr], y[tr], x[~tr], c)
        if name != "structured":
            # Notes and images enter the fusion as one out-of-fold logit each (train) / full-train logit (held-out).
            oof = cross_val_predict(LogisticRegression(C=c, max_iter=2000), x[tr], y[tr], cv=5,
                                    method="decision_function")
            extra_tr.append(oof)
            extra_te.append(np.log(scores[name] + 1e-12) - np.log(1 - scores[name] + 1e-12))
    z_tr = np.hstack([xs[tr], np.column_stack(extra_tr)])
    z_te = np.hstack([xs[~tr], np.column_stack(extra_te)])
    scores["fusion"] = fit_score(z_tr, y[tr], z_te, 0.05)
    return scores


def modality_comparison(root: Path, samples: pl.DataFrame, label: str = "boolean_value") -> dict[str, float]:
    """Held-out AUROC of each modality alone, of all together, and of the oracle (when samples carry oracle_p)."""
    shards = sorted((root / "data").rglob("*.parquet"))
    samples = samples.sort(KEYS)
    tr = (samples["split"] != "held_out").to_numpy()
    y = samples[label].to_numpy().astype(int)
    s = StandardScaler().fit(structured_features(shards, samples)[tr])
    xs = s.transform(structured_features(shards, samples))
    tfidf = TfidfVectorizer(min_df=3, ngram_range=(1, 2), max_features=20000, sublinear_tf=True)
    texts = note_texts(shards, samples)
    tfidf.fit([t for t, k in zip(texts, tr) if k])
    xn = tfidf.transform(texts)
    xi = image_features(root, shards, samples)
    parts = {"structured": (sparse.csr_matrix(xs), 0.05), "notes": (xn, 1.0), "image": (sparse.csr_matrix(xi), 0.1)}
    scores = fit_modality_scores(parts, xs, y, tr)
    out = {name: binary_metrics(y[~tr], sc)["auroc"] for name, sc in scores.items()}
    if "oracle_p" in samples.columns:
        out["oracle"] = binary_metrics(y[~tr], samples["oracle_p"].to_numpy()[~tr])["auroc"]
    return out
