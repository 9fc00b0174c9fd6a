"""evaluate: held-out metrics with CIs, curves and the HTML/Markdown report of one task."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate(model: dsl.Input[dsl.Model], features: dsl.Input[dsl.Dataset], labels: dsl.Input[dsl.Dataset],
             embeddings: dsl.Input[dsl.Dataset], task: str, n_boot: int, evaluation: dsl.Output[dsl.Dataset],
             metrics: dsl.Output[dsl.Metrics], report: dsl.Output[dsl.HTML]):
    """Evaluate the derived model on the held-out split.

    Args:
        model: The prune step's output.
        features: The task's feature store.
        labels: The labeling step's output.
        embeddings: The embed step's output (the same as the search's).
        task: Binary task.
        n_boot: Bootstrap resamples of the CIs.
        evaluation: metrics.json, curves.json, report.html/.md, record.json.
        metrics: AUROC, AUPR (with CIs), ECE and the oracle's AUROC for the Kubeflow UI.
        report: The self-contained HTML report.
    """
    import shutil
    from pathlib import Path

    from pipelines.steps_model import evaluate_step

    rec = evaluate_step(model.path, features.path, labels.path, task, evaluation.path, n_boot=n_boot,
                        embeddings=embeddings.path)
    evaluation.metadata.update(rec)
    for key in ("auroc", "aupr", "ece"):
        if isinstance(rec.get(key), float):
            metrics.log_metric(f"{task}_{key}", rec[key])
    if isinstance(rec["oracle"].get("oracle_auroc"), float):
        metrics.log_metric(f"{task}_oracle_auroc", rec["oracle"]["oracle_auroc"])
    shutil.copyfile(Path(evaluation.path) / "report.html", report.path)
