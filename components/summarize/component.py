"""summarize: every task's evaluation in one summary (model vs oracle, genotype, report paths)."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def summarize(evaluations: dsl.Input[list[dsl.Dataset]], summary: dsl.Output[dsl.Dataset]):
    """Collect the per-task evaluations (fanned in from the ParallelFor).

    Args:
        evaluations: The evaluate step's folders, one per task.
        summary: summary.json (metadata: tasks).
    """
    from pipelines.steps import summarize_step

    out = summarize_step([e.path for e in evaluations], summary.path)
    summary.metadata["tasks"] = sorted(out["tasks"])
