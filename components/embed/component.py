"""embed: note and X-ray embeddings of one task's samples (the AutoFM search's extra modalities)."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def embed(dataset: dsl.Input[dsl.Dataset], labels: dsl.Input[dsl.Dataset], encoder: dsl.Input[dsl.Model],
          task: str, notes: bool, cxr: bool, note_model_path: str, pooling: str, max_length: int, image_size: int,
          clahe: bool, on_unreadable: str, cache_dir: str, embeddings: dsl.Output[dsl.Dataset]):
    """Embed each sample's latest notes and chest X-ray in its feature window.

    Args:
        dataset: Ingested MEDS root.
        labels: The labeling step's output.
        encoder: The pretrain_cxr step's output.
        task: Binary task.
        notes: Embed notes.
        cxr: Embed X-rays.
        note_model_path: Local Hugging Face folder of the note encoder ('' = the bundled all-MiniLM-L6-v2).
        pooling: 'cls' or 'mean'.
        max_length: Note tokens kept per sample.
        image_size: Must match the encoder's (pretrain_cxr image_size).
        clahe: Must match the encoder's.
        on_unreadable: 'error' fails on an unreadable image (naming it); 'missing' marks that X-ray absent.
        cache_dir: Folder of cached note vectors keyed by content hash ('' = none).
        embeddings: notes/, cxr/ (index.parquet, vectors.npy, meta.json), embeddings.json (metadata: counts, sha256).
    """
    from pipelines.steps_embed import embed_step

    embeddings.metadata.update(embed_step(dataset.path, labels.path, task, encoder.path, embeddings.path,
                                          notes=notes, cxr=cxr, note_model_path=note_model_path, pooling=pooling,
                                          max_length=max_length, size=image_size, clahe=clahe,
                                          on_unreadable=on_unreadable, cache_dir=cache_dir))
