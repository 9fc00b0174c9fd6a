"""generate: the embedded synthetic MEDS cohort, for runs without a dataset URI."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def generate(dataset_uri: str, n_stays: int, seed: int, cohort: dsl.Output[dsl.Dataset]):
    """Generate the synthetic multimodal ICU cohort as a MEDS dataset, unless a dataset URI is given.

    (A linear generate -> ingest keeps one DAG for the cluster and the local runner, whose dsl.OneOf merge of
    If/Else branches fails in kfp 2.17.)

    Args:
        dataset_uri: When not empty, nothing is generated: cohort holds only SOURCE.json naming the URI.
        n_stays: ICU stays to draw.
        seed: Everything is a deterministic function of the seed.
        cohort: The MEDS root (metadata: stays, events, images, sha256).
    """
    from pipelines.steps import generate_or_skip

    cohort.metadata.update(generate_or_skip(dataset_uri, cohort.path, n_stays=n_stays, seed=seed))
