"""profile: the reference data profile that monitoring compares live data against."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def profile(dataset: dsl.Input[dsl.Dataset], labels: dsl.Input[dsl.Dataset], task: str,
            reference: dsl.Output[dsl.Dataset]):
    """Per-sample modality counts and presence, with JSON statistics over the train split.

    Args:
        dataset: Ingested MEDS root.
        labels: The labeling step's output.
        task: Binary task.
        reference: profile.parquet and stats.json (metadata: samples, presence rates, sha256).
    """
    from pipelines.steps import profile_step

    reference.metadata.update(profile_step(dataset.path, labels.path, task, reference.path))
