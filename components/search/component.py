"""search: the AutoFM supernet search (bi-level DARTS) of one task; GPU in the cluster."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cuda"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def search(features: dsl.Input[dsl.Dataset], labels: dsl.Input[dsl.Dataset], embeddings: dsl.Input[dsl.Dataset],
           task: str, epochs: int, order: str, diversity_lambda: float, seed: int, overrides: dict,
           supernet: dsl.Output[dsl.Model]):
    """Search the architecture weights of the supernet.

    Args:
        features: The task's feature store.
        labels: The labeling step's output (samples and splits).
        embeddings: The embed step's output (note / X-ray modalities; none when both are off).
        task: Binary task.
        epochs: Search epochs.
        order: 'first' or 'second' order DARTS.
        diversity_lambda: Weight of the diversity penalty.
        seed: Search seed.
        overrides: Other CohortSearchConfig fields (e.g. {"d_e": 64} for a quick run); {} = the paper's defaults.
        supernet: The searched supernet state (metadata: result summary, sha256).
    """
    from pipelines.steps_model import search_step

    supernet.metadata.update(search_step(features.path, labels.path, task, supernet.path, embeddings=embeddings.path,
                                         epochs=epochs, order=order, diversity_lambda=diversity_lambda, seed=seed,
                                         overrides=overrides))
