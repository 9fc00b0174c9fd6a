"""ingest: validate a MEDS root (or FIDDLE table) from a path or s3:// URI and write a canonical copy."""

import json
from pathlib import Path

from kfp import dsl

IMAGE = json.loads((Path(__file__).resolve().parents[1] / "images.json").read_text())["cpu"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def ingest(cohort: dsl.Input[dsl.Dataset], dataset_uri: str, dataset_format: str, population_uri: str, tasks: list,
           dataset: dsl.Output[dsl.Dataset]):
    """Ingest the dataset named by URI (path, file:// or s3://; S3 credentials from the environment), else the
    generated cohort.

    Args:
        cohort: The generate step's output (used when dataset_uri is empty).
        dataset_uri: MEDS root or FIDDLE long table.
        dataset_format: 'meds' or 'fiddle'.
        population_uri: FIDDLE population file ('' for MEDS).
        tasks: Tasks whose codes must occur in the data.
        dataset: The validated canonical MEDS copy with manifest.json (metadata: counts, sha256).
    """
    from pipelines.steps import ingest_step

    dataset.metadata.update(ingest_step(dataset_uri or cohort.path, dataset.path, fmt=dataset_format,
                                        population=population_uri, tasks=tuple(tasks)))
