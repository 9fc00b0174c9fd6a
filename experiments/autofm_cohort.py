"""The synthetic cohort of the AutoFM quality runs: generated, labelled, featurized and embedded once per settings.

Used by ``benchmarks/bench_search_quality.py`` and the ablations (``experiments/autofm_ablations.py``). Notes and
X-rays enter as stand-in embeddings: TF-IDF (fitted on train) + TruncatedSVD(64) note vectors and 16x16
downsampled X-ray pixels, written in the embedding-folder format of ``model.search.cohort_data``
(index.parquet + vectors.npy). Not the product's encoders: a cheaper substitute that runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from model.search.cohort_data import TABLE_MODALITY, CohortData

TASK_HOURS = {"mortality": 48, "arf": 12, "shock": 12}
SIGNAL_KEYS = ["subject_id", "anchor_time"]


def cohort_dirs(root: Path, n_stays: int, seed: int, image_size: int) -> tuple[Path, Path]:
    """(meds, labels) under ``root``, generated and labelled (all tasks) unless already there."""
    from model.data.labeling import label_dataset
    from model.data.synthetic import generate_cohort
    from model.data.synthetic_config import CohortConfig

    meds, labels = root / "meds", root / "labels"
    if not (meds / "metadata" / "generation.json").exists():
        generate_cohort(meds, CohortConfig(n_stays=n_stays, image_size=image_size, seed=seed), overwrite=True)
    if not (labels / "summary.json").exists():
        label_dataset(meds, labels, tasks=tuple(TASK_HOURS), overwrite=True)
    return meds, labels


@dataclass(frozen=True)
class TaskInputs:
    """One task's feature store, samples file and stand-in embedding folders."""

    task: str
    features: Path
    samples_path: Path
    embeddings: dict[str, str]

    def cohort(self, drop: str | None = None) -> CohortData:
        """The cohort with every modality, or without ``drop`` (a modality name) for Table 5."""
        tables = tuple(t for t, m in TABLE_MODALITY.items() if m != drop)
        return CohortData(self.features, self.samples_path,
                          {k: v for k, v in self.embeddings.items() if k != drop}, tables=tables)


def task_inputs(meds: Path, labels: Path, task: str, work: Path) -> TaskInputs:
    """Featurize ``task`` and write its stand-in embeddings under ``work/<task>`` unless already there."""
    from model.features.task_features import featurize_task

    tdir = work / task
    samples_path = labels / "samples" / f"{task}.parquet"
    samples = pl.read_parquet(samples_path)
    if not (tdir / "features" / "manifest.json").exists():
        featurize_task(meds, samples, tdir / "features", TASK_HOURS[task], overwrite=True)
    edir = tdir / "emb_standin"
    if not (edir / "cxr" / "vectors.npy").exists():
        standin_embeddings(meds, samples, edir)
    return TaskInputs(task, tdir / "features", samples_path, {"notes": str(edir / "notes"), "cxr": str(edir / "cxr")})


def write_embedding_folder(out_dir: Path, samples: pl.DataFrame, present: np.ndarray, vectors: np.ndarray) -> None:
    """Write ``index.parquet`` (subject_id, prediction_time, present) and ``vectors.npy`` (absent rows zero)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    vectors = np.asarray(vectors, dtype=np.float32).copy()
    vectors[~present] = 0.0
    samples.select("subject_id", "prediction_time").with_columns(present=pl.Series(present.astype(bool))) \
        .write_parquet(out_dir / "index.parquet")
    np.save(out_dir / "vectors.npy", vectors, allow_pickle=False)


def _sorted_order(samples: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """Samples sorted by (subject_id, anchor_time), as signal_check expects, and their original positions."""
    s = samples.with_row_index("_pos").sort(SIGNAL_KEYS)
    return s.drop("_pos"), s["_pos"].to_numpy()


def standin_embeddings(meds: Path, samples: pl.DataFrame, out: Path, svd_dim: int = 64, side: int = 16,
                       xray: str = "pixels") -> dict[str, str]:
    """TF-IDF + TruncatedSVD note vectors (fitted on the train split) and X-ray vectors.

    Args:
        xray: ``"pixels"``: the latest in-window image downsampled to side x side. ``"findings"``: that image's
            14 true finding labels (metadata/cxr_findings.parquet), i.e. a perfect X-ray reader: an upper bound of
            what the image channel can carry, for analysis only (real data has no such labels at inference).

    Returns:
        Modality name -> embedding folder.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from model.data.signal_check import image_features, note_texts

    if xray not in ("pixels", "findings"):
        raise ValueError(f"xray={xray!r}: expected 'pixels' or 'findings'")
    shards = sorted((meds / "data").rglob("*.parquet"))
    srt, pos = _sorted_order(samples)
    # X-ray vectors first: a bad findings table stops the run before any folder is written.
    if xray == "pixels":
        img_sorted = image_features(meds, shards, srt, side=side)
    else:
        img_sorted = _finding_vectors(meds, shards, srt)
    texts_sorted = note_texts(shards, srt)
    texts: list[str] = [""] * samples.height
    for p, t in zip(pos, texts_sorted):
        texts[p] = t
    train = (samples["split"] == "train").to_numpy()
    tfidf = TfidfVectorizer(min_df=3, ngram_range=(1, 2), max_features=20000, sublinear_tf=True)
    tfidf.fit([t for t, k in zip(texts, train) if k])
    x = tfidf.transform(texts)
    svd = TruncatedSVD(svd_dim, random_state=0).fit(x[train])
    vec = svd.transform(x)
    vec = (vec - vec[train].mean(0)) / (vec[train].std(0) + 1e-6)
    present = np.array([t.strip() != "" for t in texts])
    write_embedding_folder(out / "notes", samples, present, vec)
    img = np.zeros_like(img_sorted)
    img[pos] = img_sorted
    present_img = img[:, -1] > 0
    pix = img[:, :-1]
    mu, sd = pix[train & present_img].mean(0), pix[train & present_img].std(0)
    sd = np.where(sd > 1e-3, sd, 1.0)  # a finding (or pixel) constant on train must not blow up elsewhere
    write_embedding_folder(out / "cxr", samples, present_img, (pix - mu) / sd)
    return {"notes": str(out / "notes"), "cxr": str(out / "cxr")}


def _finding_vectors(meds: Path, shards: list[Path], srt: pl.DataFrame) -> np.ndarray:
    """The 14 finding labels of each sample's latest in-window X-ray, plus a presence flag (zeros when absent)."""
    from model.data.signal_check import latest_image_paths
    from model.embed.pretrain import FINDINGS_PARQUET

    table = pl.read_parquet(meds / FINDINGS_PARQUET)
    names = [c for c, dt in table.schema.items() if dt == pl.Boolean]
    paths = pl.DataFrame({"image_path": latest_image_paths(shards, srt)}, schema={"image_path": pl.String})
    joined = paths.join(table.select("image_path", *names), on="image_path", how="left", maintain_order="left")
    present = paths["image_path"].is_not_null().to_numpy()
    if joined.filter(pl.col("image_path").is_not_null())[names[0]].null_count():
        raise ValueError(f"{meds / FINDINGS_PARQUET}: an in-window image has no finding labels")
    vec = joined.select(names).fill_null(False).to_numpy().astype(float)
    return np.column_stack([vec * present[:, None], present.astype(float)])


def logreg_baselines(meds: Path, samples: pl.DataFrame) -> dict[str, np.ndarray]:
    """Held-out scores of signal_check's logistic regressions (fit on train+tuning): each modality and the fusion.

    Rows: ``structured`` (all structured tables together: three of AutoFM's modalities), each of those modalities
    alone (``events_disc``, ``events_cont``, ``demographics``), ``notes``, ``cxr`` and ``fusion``.

    Returns:
        Row name -> scores of the held-out samples, in the order of ``samples``.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import StandardScaler

    from model.data.signal_check import (
        STRUCTURED_MODALITIES,
        fit_modality_scores,
        fit_score,
        image_features,
        note_texts,
        structured_feature_groups,
    )

    shards = sorted((meds / "data").rglob("*.parquet"))
    srt, pos = _sorted_order(samples)
    tr = (srt["split"] != "held_out").to_numpy()
    y = srt["boolean_value"].to_numpy().astype(int)
    xs_raw, groups = structured_feature_groups(shards, srt)
    xs = StandardScaler().fit(xs_raw[tr]).transform(xs_raw)
    texts = note_texts(shards, srt)
    tfidf = TfidfVectorizer(min_df=3, ngram_range=(1, 2), max_features=20000, sublinear_tf=True)
    tfidf.fit([t for t, k in zip(texts, tr) if k])
    parts = {"structured": (sparse.csr_matrix(xs), 0.05), "notes": (tfidf.transform(texts), 1.0),
             "cxr": (sparse.csr_matrix(image_features(meds, shards, srt)), 0.1)}
    scores = fit_modality_scores(parts, xs, y, tr)
    for name in STRUCTURED_MODALITIES:  # same features and regularisation as "structured", one modality's columns
        cols = groups == name
        if cols.any():
            scores[name] = fit_score(xs[tr][:, cols], y[tr], xs[~tr][:, cols], 0.05)
    # Back to the order of ``samples`` restricted to held_out.
    held_pos = pos[~tr]
    order = np.argsort(held_pos)
    return {k: v[order] for k, v in scores.items()}
