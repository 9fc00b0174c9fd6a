"""The pretrain_cxr and embed components on the small cohort (python_func on fake artifacts, the real library
underneath): the embeddings contract per modality, its use by the search step, and the bad-input paths."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from components.embed.component import embed
from components.pretrain_cxr.component import pretrain_cxr
from pipelines import cli, steps, steps_embed

HAS_RUNNER = importlib.util.find_spec("model.search.task_runner") is not None
TINY = {"image_size": 32, "clahe": True}
QUICK_SEARCH = {"epochs": 1, "order": "first", "diversity_lambda": 0.1, "seed": 0,
                "overrides": {"d_e": 16, "n_layers": 1, "n_nodes": 2, "baselines": False}}


def art(path: Path) -> SimpleNamespace:
    return SimpleNamespace(path=str(path), metadata={})


def embed_args(**over) -> dict:
    args = {"task": "mortality", "notes": True, "cxr": True, "note_model_path": "", "pooling": "mean",
            "max_length": 32, "on_unreadable": "error", "cache_dir": "", **TINY}
    return args | over


@pytest.fixture(scope="module")
def encoder(small_cohort, tmp_path_factory) -> SimpleNamespace:
    enc = art(tmp_path_factory.mktemp("pretrain") / "encoder")
    pretrain_cxr.python_func(dataset=art(small_cohort), enabled=True, epochs=1, max_images=16, seed=0,
                             encoder=enc, **TINY)
    return enc


@pytest.fixture(scope="module")
def vector_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vector-cache")


@pytest.fixture(scope="module")
def embedded(small_cohort, small_labels, encoder, vector_cache, tmp_path_factory) -> SimpleNamespace:
    out = art(tmp_path_factory.mktemp("embed") / "embeddings")
    embed.python_func(dataset=art(small_cohort), labels=art(small_labels), encoder=encoder, embeddings=out,
                      **embed_args(cache_dir=str(vector_cache)))
    return out


def test_pretrain_once_then_embed_notes_and_xrays(small_labels, encoder, embedded):
    assert encoder.metadata["n_train_images"] == 16 and len(encoder.metadata["sha256"]) == 64
    root = Path(embedded.path)
    assert json.loads((root / "embeddings.json").read_text())["modalities"] == ["cxr", "notes"]
    samples = pl.read_parquet(small_labels / "samples" / "mortality.parquet")
    for name, dim in (("notes", 384), ("cxr", 512)):
        index = pl.read_parquet(root / name / "index.parquet")
        vectors = np.load(root / name / "vectors.npy")
        assert index["subject_id"].to_list() == samples["subject_id"].to_list() and vectors.shape == (len(samples), dim)
        assert 0 < index["present"].sum() and np.all(vectors[~index["present"].to_numpy()] == 0)
    md = embedded.metadata
    assert md["modalities"] == ["cxr", "notes"] and md["cxr_n_unreadable"] == 0 and md["notes_dim"] == 384
    assert steps_embed.embedding_dirs(root) == {"cxr": str(root / "cxr"), "notes": str(root / "notes")}


def test_rerun_takes_note_vectors_from_the_cache(small_cohort, small_labels, encoder, embedded, vector_cache,
                                                 tmp_path):
    again = art(tmp_path / "again")
    embed.python_func(dataset=art(small_cohort), labels=art(small_labels), encoder=encoder, embeddings=again,
                      **embed_args(cxr=False, cache_dir=str(vector_cache)))
    assert embedded.metadata["notes_cache_hits"] == 0
    assert again.metadata["notes_cache_hits"] == again.metadata["notes_n_present"] > 0
    assert (Path(again.path) / "notes" / "vectors.npy").read_bytes() == \
        (Path(embedded.path) / "notes" / "vectors.npy").read_bytes()


def test_no_note_text_or_ids_in_the_metadata(small_cohort, embedded):
    text = json.dumps(embedded.metadata) + (Path(embedded.path) / "notes" / "meta.json").read_text()
    note = pl.read_parquet(small_cohort / "data").filter(pl.col("code").str.starts_with("NOTE//"))["text_value"][0]
    assert note[:40] not in text and "subject_id\":" not in text


@pytest.mark.skipif(not HAS_RUNNER, reason="model.search.task_runner is not in this checkout")
def test_search_consumes_the_embeddings(small_cohort, small_labels, embedded, tmp_path):
    feats = tmp_path / "features"
    steps.featurize_step(small_cohort, small_labels, "mortality", feats)
    from pipelines.steps_model import search_step

    md = search_step(feats, small_labels, "mortality", tmp_path / "search", embeddings=embedded.path, **QUICK_SEARCH)
    log = json.loads((tmp_path / "search" / "search_log.json").read_text())
    assert log["embeddings"] == ["cxr", "notes"] and md["embeddings"] == ["cxr", "notes"]
    space = json.loads((tmp_path / "search" / "space.json").read_text())
    assert {"notes", "cxr"} <= {m["name"] for m in space["modalities"]}


def test_unreadable_xray_fails_naming_the_file_unless_missing_is_chosen(small_cohort, small_labels, encoder,
                                                                        embedded, tmp_path):
    cohort = tmp_path / "cohort"
    shutil.copytree(small_cohort, cohort)
    index = pl.read_parquet(Path(embedded.path) / "cxr" / "index.parquet")
    samples = pl.read_parquet(small_labels / "samples" / "mortality.parquet")
    first = samples.row(int(np.flatnonzero(index["present"].to_numpy())[0]), named=True)
    ev = pl.read_parquet(cohort / "data").filter(pl.col("code").str.starts_with("CXR//"))
    hit = ev.filter((pl.col("subject_id") == first["subject_id"]) & (pl.col("time") <= first["prediction_time"])
                    & (pl.col("time") >= first["anchor_time"])).sort("time")["image_path"][-1]
    (cohort / hit).write_bytes(b"not an image")
    out = art(tmp_path / "embeddings")
    with pytest.raises(ValueError, match=Path(hit).name):
        embed.python_func(dataset=art(cohort), labels=art(small_labels), encoder=encoder, embeddings=out,
                          **embed_args(notes=False))
    assert not (tmp_path / "embeddings").exists()  # no partial artifact
    embed.python_func(dataset=art(cohort), labels=art(small_labels), encoder=encoder, embeddings=out,
                      **embed_args(notes=False, on_unreadable="missing"))
    assert out.metadata["cxr_n_unreadable"] >= 1 and out.metadata["modalities"] == ["cxr"]
    meta = json.loads((tmp_path / "embeddings" / "cxr" / "meta.json").read_text())
    assert hit in meta["unreadable_files"]


def test_both_off_gives_no_modalities_and_bad_settings_are_named(small_cohort, small_labels, encoder, tmp_path):
    skipped = art(tmp_path / "skipped")
    pretrain_cxr.python_func(dataset=art(small_cohort), enabled=False, epochs=1, max_images=0, seed=0,
                             encoder=skipped, **TINY)
    assert skipped.metadata == {"skipped": True}
    with pytest.raises(ValueError, match="embed_cxr"):
        embed.python_func(dataset=art(small_cohort), labels=art(small_labels), encoder=skipped,
                          embeddings=art(tmp_path / "e1"), **embed_args())
    none = art(tmp_path / "e2")
    embed.python_func(dataset=art(small_cohort), labels=art(small_labels), encoder=skipped, embeddings=none,
                      **embed_args(notes=False, cxr=False))
    assert steps_embed.embedding_dirs(none.path) == {} and steps_embed.embedding_dirs(None) == {}
    with pytest.raises(ValueError, match="pooling"):
        embed.python_func(dataset=art(small_cohort), labels=art(small_labels), encoder=encoder,
                          embeddings=art(tmp_path / "e3"), **embed_args(pooling="max"))
    with pytest.raises(ValueError, match="preprocess"):  # pixels other than the encoder was trained on
        embed.python_func(dataset=art(small_cohort), labels=art(small_labels), encoder=encoder,
                          embeddings=art(tmp_path / "e4"), **embed_args(notes=False, image_size=64))
    assert not any((tmp_path / e).exists() for e in ("e1", "e3", "e4"))


def test_cli_embed_needs_its_inputs(tmp_path, capsys):
    assert cli.main(["embed", "--out", str(tmp_path / "e"), "--dataset", "d", "--labels", "l", "--task",
                     "mortality"]) == 2
    assert "needs --encoder" in capsys.readouterr().err and not (tmp_path / "e").exists()
