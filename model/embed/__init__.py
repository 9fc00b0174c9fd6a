"""Frozen per-sample embeddings of notes and chest X-rays in one on-disk contract (see `model.embed.store`).

Entry points: `embed_notes`, `embed_images` (index.parquet + vectors.npy + meta.json per modality) and
`pretrain_cxr_encoder` (the grayscale ResNet-34 trained on the cohort's 14 finding labels).
"""

from __future__ import annotations

__all__ = ["embed_images", "embed_notes", "pretrain_cxr_encoder"]


def __getattr__(name: str):  # lazy: importing the package must not pull torch/transformers in (KFP import guard)
    if name == "embed_notes":
        from model.embed.notes import embed_notes
        return embed_notes
    if name == "embed_images":
        from model.embed.images import embed_images
        return embed_images
    if name == "pretrain_cxr_encoder":
        from model.embed.pretrain import pretrain_cxr_encoder
        return pretrain_cxr_encoder
    raise AttributeError(name)
