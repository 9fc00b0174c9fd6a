"""label: task labels (ACES), samples and persisted patient-level splits."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def label(dataset: dsl.Input[dsl.Dataset], tasks: list, labels: dsl.Output[dsl.Dataset]):
    """Label the binary tasks and split the subjects.

    Args:
        dataset: Ingested MEDS root.
        tasks: Binary tasks (mortality, arf, shock).
        labels: labels/, samples/, splits.parquet, summary.json (metadata: per-task n and prevalence, sha256).
    """
    from pipelines.steps import label_step

    labels.metadata.update(label_step(dataset.path, labels.path, tasks=tuple(tasks)))
