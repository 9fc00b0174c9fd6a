"""The perfect-reader X-ray vectors of the quality benchmark: the latest in-window image's true findings."""

from __future__ import annotations

import shutil

import numpy as np
import polars as pl
import pytest

from experiments.autofm_cohort import _finding_vectors, _sorted_order, standin_embeddings
from model.data.signal_check import image_features, latest_image_paths
from model.embed.pretrain import FINDINGS_PARQUET


def test_finding_vectors_match_the_latest_images_labels(small_cohort, small_labels, tmp_path) -> None:
    samples = pl.read_parquet(small_labels / "samples" / "mortality.parquet")
    shards = sorted((small_cohort / "data").rglob("*.parquet"))
    srt, _ = _sorted_order(samples)
    vec = _finding_vectors(small_cohort, shards, srt)
    pix = image_features(small_cohort, shards, srt, side=4)
    assert vec.shape == (srt.height, 15)
    np.testing.assert_array_equal(vec[:, -1], pix[:, -1])  # same image chosen as the pixel stand-in
    assert 0 < vec[:, -1].sum() < srt.height
    table = pl.read_parquet(small_cohort / FINDINGS_PARQUET)
    names = [c for c, t in table.schema.items() if t == pl.Boolean]
    by_path = {r["image_path"]: [float(r[n]) for n in names] for r in table.iter_rows(named=True)}
    for row, path in zip(vec, latest_image_paths(shards, srt)):
        expected = np.zeros(len(names)) if path is None else np.array(by_path[path])
        np.testing.assert_array_equal(row[:-1], expected)
    assert vec[:, :-1].sum() > 0  # some present image has a finding

    emb = standin_embeddings(small_cohort, samples, tmp_path / "emb", xray="findings")
    written = np.load(tmp_path / "emb" / "cxr" / "vectors.npy")
    index = pl.read_parquet(tmp_path / "emb" / "cxr" / "index.parquet")
    assert written.shape == (samples.height, len(names)) and np.isfinite(written).all()
    assert not written[~index["present"].to_numpy()].any()
    assert set(emb) == {"notes", "cxr"}


def test_findings_table_without_an_images_labels_stops_before_writing(small_cohort, small_labels, tmp_path) -> None:
    meds = tmp_path / "meds"
    shutil.copytree(small_cohort, meds)
    samples = pl.read_parquet(small_labels / "samples" / "mortality.parquet")
    shards = sorted((meds / "data").rglob("*.parquet"))
    used = {p for p in latest_image_paths(shards, _sorted_order(samples)[0]) if p is not None}
    table = pl.read_parquet(meds / FINDINGS_PARQUET)
    table.filter(pl.col("image_path") != sorted(used)[0]).write_parquet(meds / FINDINGS_PARQUET)
    with pytest.raises(ValueError, match="cxr_findings.parquet: an in-window image has no finding labels"):
        standin_embeddings(meds, samples, tmp_path / "emb", xray="findings")
    assert not (tmp_path / "emb").exists()
    with pytest.raises(ValueError, match="expected 'pixels' or 'findings'"):
        standin_embeddings(meds, samples, tmp_path / "emb", xray="labels")
    assert not (tmp_path / "emb").exists()
