"""pretrain_cxr: the X-ray encoder (ResNet-34 on the 14 findings), trained once per run on the train split."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def pretrain_cxr(dataset: dsl.Input[dsl.Dataset], enabled: bool, image_size: int, clahe: bool, epochs: int,
                 max_images: int, seed: int, encoder: dsl.Output[dsl.Model]):
    """Pretrain the grayscale X-ray encoder; frozen afterwards and shared by every task's embed step.

    Args:
        dataset: Ingested MEDS root (images, cxr_findings, subject splits).
        enabled: False (X-ray embeddings off): nothing is trained, encoder holds only SKIPPED.json.
        image_size: Side of the preprocessed images in pixels (saved with the weights).
        clahe: Apply CLAHE before resizing.
        epochs: Training epochs.
        max_images: Cap on training images (a seeded subset; 0 = all).
        seed: Initialisation and shuffling seed.
        encoder: encoder.safetensors + encoder.json (metadata: image counts, tuning macro AUROC, sha256).
    """
    from pipelines.steps_embed import pretrain_cxr_step

    encoder.metadata.update(pretrain_cxr_step(dataset.path, encoder.path, enabled=enabled, size=image_size,
                                              clahe=clahe, epochs=epochs, max_images=max_images, seed=seed))
