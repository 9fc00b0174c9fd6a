"""featurize: FIDDLE-equivalent sparse features of one task, fitted on its train split."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def featurize(dataset: dsl.Input[dsl.Dataset], labels: dsl.Input[dsl.Dataset], task: str, T: int,
              features: dsl.Output[dsl.Dataset]):
    """Featurize one task's samples.

    Args:
        dataset: Ingested MEDS root.
        labels: The labeling step's output.
        task: Binary task.
        T: Feature window in hours (0 = the task's own).
        features: The feature store (metadata: samples, features per table, featurizer hash).
    """
    from pipelines.steps import featurize_step

    features.metadata.update(featurize_step(dataset.path, labels.path, task, features.path, T=T))
