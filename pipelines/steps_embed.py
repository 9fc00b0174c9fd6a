"""Embedding steps: wrappers over model.embed (X-ray encoder pretraining once per run, note and X-ray embeddings
per task). What the `pretrain_cxr` / `embed` components and the DVC stages call.

An embeddings artifact holds one folder per modality (`notes/`, `cxr/`: index.parquet, vectors.npy, meta.json,
docs/results-fusion.md) and `embeddings.json` naming them; search, prune and evaluate read it via embedding_dirs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from model.errors import DataValidationError
from model.io_atomic import atomic_dir, write_json
from pipelines.steps import dir_digest, read_json, samples_path

MANIFEST = "embeddings.json"
SKIPPED = "SKIPPED.json"


def _preprocess(size: int, clahe: bool) -> Any:
    from model.embed.config import ImagePreprocessConfig

    try:
        return ImagePreprocessConfig(size=size, clahe=clahe)
    except ValueError as e:
        raise DataValidationError(str(e), field="image_size") from e


def pretrain_cxr_step(meds_dir: str | Path, out: str | Path, *, enabled: bool = True, size: int = 128,
                      clahe: bool = True, epochs: int = 3, max_images: int = 0, seed: int = 0) -> dict[str, Any]:
    """Pretrain the X-ray encoder on the train split (once per run); disabled: out holds only SKIPPED.json.

    max_images caps the training images (a seeded subset; 0 = all): the local run trains on a few only.
    """
    if not enabled:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_json(Path(out) / SKIPPED, {"skipped": True})
        return {"skipped": True}
    from model.embed.config import PretrainConfig
    from model.embed.pretrain import pretrain_cxr_encoder

    if epochs < 1 or max_images < 0:
        raise DataValidationError(f"epochs={epochs}, max_images={max_images}", field="cxr_pretrain_epochs",
                                  expected="epochs >= 1 and max_images >= 0")
    cfg = PretrainConfig(preprocess=_preprocess(size, clahe), epochs=epochs, seed=seed,
                         max_train_images=max_images or None)
    summary = pretrain_cxr_encoder(meds_dir, out, cfg)
    return {**{k: v for k, v in summary.items() if isinstance(v, int | float | None)}, "sha256": dir_digest(out)}


def embed_step(meds_dir: str | Path, labels_dir: str | Path, task: str, encoder_dir: str | Path, out: str | Path,
               *, notes: bool = True, cxr: bool = True, note_model_path: str = "", pooling: str = "cls",
               max_length: int = 256, size: int = 128, clahe: bool = True, on_unreadable: str = "error",
               cache_dir: str = "") -> dict[str, Any]:
    """Note and X-ray embeddings of one task's samples, written whole to out (or not at all).

    Raises:
        DataValidationError: Bad settings, no encoder while cxr is on, or an unreadable image under
            on_unreadable='error' (the message names the file).
    """
    from model.embed.config import ImageEncoderConfig, NoteEncoderConfig

    samples = pl.read_parquet(samples_path(labels_dir, task))
    if cxr and (Path(encoder_dir) / SKIPPED).exists():
        raise DataValidationError("the X-ray encoder was not pretrained (pretraining disabled)", file=str(encoder_dir),
                                  field="embed_cxr", expected="embed_cxr false, or pretraining on")
    try:  # settings first: a typo fails before any model is loaded
        note_cfg = NoteEncoderConfig(model_path=note_model_path or None, pooling=pooling, max_length=max_length,
                                     cache_dir=cache_dir or None, progress=False)
        img_cfg = ImageEncoderConfig(weights_dir=str(encoder_dir), preprocess=_preprocess(size, clahe),
                                     on_unreadable=on_unreadable, progress=False)
    except ValueError as e:
        raise DataValidationError(str(e), field="embed settings") from e
    metas: dict[str, dict] = {}
    with atomic_dir(out, overwrite=True) as tmp:
        if notes:
            from model.embed.notes import embed_notes

            metas["notes"] = embed_notes(meds_dir, samples, tmp / "notes", note_cfg)
        if cxr:
            from model.embed.images import embed_images

            metas["cxr"] = embed_images(meds_dir, samples, tmp / "cxr", img_cfg)
        write_json(tmp / MANIFEST, {"task": task, "modalities": sorted(metas)})
    counts = {f"{m}_{k}": v.get(k) for m, v in metas.items() for k in ("dim", "n_present", "n_unreadable", "cache_hits")
              if k in v}
    return {"task": task, "n_samples": samples.height, "modalities": sorted(metas), **counts,
            "sha256": dir_digest(out)}


def embedding_dirs(embeddings_dir: str | Path | None) -> dict[str, str]:
    """Modality name -> folder of an embed step's output ({} for None or an output with no modality)."""
    if not embeddings_dir:
        return {}
    root = Path(embeddings_dir)
    names = read_json(root / MANIFEST).get("modalities")
    if not isinstance(names, list):
        raise DataValidationError("no modality list", file=str(root / MANIFEST), field="modalities")
    return {m: str(root / m) for m in names}
