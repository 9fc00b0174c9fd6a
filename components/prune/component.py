"""prune: discretise the searched supernet to a genotype and fine-tune the derived model; GPU in the cluster."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cuda"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def prune(supernet: dsl.Input[dsl.Model], features: dsl.Input[dsl.Dataset], labels: dsl.Input[dsl.Dataset],
          embeddings: dsl.Input[dsl.Dataset], task: str, epochs: int, order: str, diversity_lambda: float, seed: int,
          overrides: dict, model: dsl.Output[dsl.Model]):
    """Prune to the chosen genotype.

    Args:
        supernet: The search step's output.
        features: The task's feature store.
        labels: The labeling step's output.
        embeddings: The embed step's output (the same as the search's).
        task: Binary task.
        epochs, order, diversity_lambda, seed, overrides: The search settings (shared config).
        model: genotype.json, weights.safetensors, trajectory.json (metadata: genotype, sha256).
    """
    from pipelines.steps_model import prune_step

    model.metadata.update(prune_step(supernet.path, features.path, labels.path, task, model.path,
                                     embeddings=embeddings.path, epochs=epochs, order=order,
                                     diversity_lambda=diversity_lambda, seed=seed, overrides=overrides))
