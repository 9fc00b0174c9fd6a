"""The AutoFM pipeline: one definition for the Kubeflow UI, GitOps submission and the local main job.

    generate (synthetic cohort; skipped when a dataset URI is given) -> ingest -> label
    ingest -> pretrain_cxr (X-ray encoder, train split, once per run)
    ParallelFor(task):
        featurize + embed (notes, X-rays) -> search (GPU) -> prune (GPU) -> evaluate
        profile (monitoring reference)
        [package: bento from prune + evaluate + profile, own issue]
    -> summarize (fan-in of the evaluations)

Compile: python -m pipelines.compile (writes pipelines/autofm_pipeline.yaml, committed; a test fails on drift).
"""

import json
from pathlib import Path

from kfp import dsl
from kfp import kubernetes as k8s
from kfp.dsl import pipeline_channel

from components.embed.component import embed
from components.evaluate.component import evaluate
from components.featurize.component import featurize
from components.generate.component import generate
from components.ingest.component import ingest
from components.label.component import label
from components.pretrain_cxr.component import pretrain_cxr
from components.profile.component import profile
from components.prune.component import prune
from components.search.component import search
from components.summarize.component import summarize

IMAGES = json.loads((Path(__file__).resolve().parents[1] / "components" / "images.json").read_text())
PIPELINE_NAME = "autofm"
S3_SECRET = "autofm-s3"  # Kubernetes Secret with keys access_key, secret_key, endpoint
S3_ENV = {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY", "endpoint": "AUTOFM_S3_ENDPOINT"}
# CPU / memory limits per step (requests = limits for CPU steps: predictable scheduling on shared nodes).
RESOURCES = {
    "generate": ("2", "4Gi"), "ingest": ("2", "8Gi"), "label": ("2", "8Gi"), "featurize": ("4", "16Gi"),
    "profile": ("1", "4Gi"), "search": ("8", "32Gi"), "prune": ("8", "32Gi"), "evaluate": ("2", "8Gi"),
    "summarize": ("1", "1Gi"), "pretrain_cxr": ("8", "32Gi"), "embed": ("4", "16Gi"),
}
GPU_STEPS = ("search", "prune")


def _place(task: dsl.PipelineTask, step: str, image_tag: str, *, gpu_type: str = "", gpu_count: int = 0,
           gpu_node_selector: dict | None = None) -> dsl.PipelineTask:
    """Resources, image and scheduling of one step (GPU steps: accelerator, toleration and node selector)."""
    cpu, mem = RESOURCES[step]
    task.set_cpu_limit(cpu).set_memory_limit(mem).set_cpu_request(cpu).set_memory_request(mem)
    task.set_display_name(step)
    flavour = "cuda" if step in GPU_STEPS else "cpu"
    task.set_container_image(f"{IMAGES['repository']}-{flavour}:{image_tag}")
    if step in GPU_STEPS:
        task.set_accelerator_type(gpu_type).set_accelerator_limit(gpu_count)
        # kfp 2.17 does not register these channels itself, so a ParallelFor body would not receive them.
        channels = [c for c in (gpu_type, gpu_count) if isinstance(c, pipeline_channel.PipelineChannel)]
        task.register_pipeline_channels(channels)
        k8s.add_toleration(task, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
        k8s.add_node_selector_json(task, gpu_node_selector)
    return task


@dsl.pipeline(name=PIPELINE_NAME, description="AutoFM NAS on a MEDS cohort: ingest, label, featurize, note and "
              "X-ray embeddings, search, prune, evaluate, monitoring reference profile (arXiv 2401.11252).")
def autofm_pipeline(
    dataset_uri: str = "",
    dataset_format: str = "meds",
    population_uri: str = "",
    n_stays: int = 2000,
    cohort_seed: int = 0,
    tasks: list = ["mortality", "arf"],  # noqa: B006  (KFP reads the default from the signature)
    T: int = 0,
    embed_notes: bool = True,
    embed_cxr: bool = True,
    note_model_path: str = "",
    note_pooling: str = "cls",
    note_max_length: int = 512,
    image_size: int = 224,
    image_clahe: bool = True,
    image_on_unreadable: str = "error",
    cxr_pretrain_epochs: int = 3,
    cxr_pretrain_max_images: int = 0,
    embed_cache_dir: str = "",
    search_epochs: int = 10,
    search_order: str = "first",
    diversity_lambda: float = 0.1,
    seed: int = 0,
    search_overrides: dict = {},  # noqa: B006
    eval_n_boot: int = 1000,
    gpu_type: str = "nvidia.com/gpu",
    gpu_count: int = 1,
    gpu_node_selector: dict = {"nvidia.com/gpu.present": "true"},  # noqa: B006
    image_tag: str = IMAGES["tag"],
) -> dsl.Dataset:
    """Parameters are what a user sets in the Kubeflow UI.

    Args:
        dataset_uri: MEDS root or FIDDLE table (path, file:// or s3://); '' = generate the synthetic cohort.
        dataset_format: 'meds' or 'fiddle'.
        population_uri: FIDDLE population file.
        n_stays: Stays of the synthetic cohort (only when dataset_uri is '').
        cohort_seed: Seed of the synthetic cohort.
        tasks: Binary tasks, run in parallel.
        T: Feature window in hours (0 = each task's own).
        embed_notes: Add note embeddings as a modality.
        embed_cxr: Add chest X-ray embeddings as a modality (pretrains the X-ray encoder first).
        note_model_path: Local Hugging Face folder of the note encoder ('' = the bundled all-MiniLM-L6-v2).
        note_pooling: 'cls' or 'mean' (over real tokens).
        note_max_length: Note tokens kept per sample.
        image_size: Side of the preprocessed X-rays in pixels.
        image_clahe: CLAHE before resizing (off only for the ablation).
        image_on_unreadable: 'error' (fail naming the file) or 'missing' (mark that X-ray absent, counted).
        cxr_pretrain_epochs: Epochs of X-ray encoder pretraining.
        cxr_pretrain_max_images: Cap on pretraining images (0 = every train-split image).
        embed_cache_dir: Folder of cached note vectors shared between runs ('' = none; e.g. a PVC path).
        search_epochs: Supernet search epochs.
        search_order: 'first' or 'second' order DARTS.
        diversity_lambda: λ of the diversity penalty.
        seed: Search and X-ray pretraining seed.
        search_overrides: Other search settings (CohortSearchConfig fields, e.g. {"d_e": 128}); {} = defaults.
        eval_n_boot: Bootstrap resamples of the evaluation CIs.
        gpu_type: Accelerator resource of the search and prune steps.
        gpu_count: Accelerators per search / prune step (0, 1, 2, 4, 8 or 16).
        gpu_node_selector: Node labels the GPU steps must run on (e.g. {"nvidia.com/gpu.product": "..."}).
        image_tag: Tag of the CPU and CUDA images (infra/).
    """
    gen = _place(generate(dataset_uri=dataset_uri, n_stays=n_stays, seed=cohort_seed), "generate", image_tag)
    ing = _place(ingest(cohort=gen.outputs["cohort"], dataset_uri=dataset_uri, dataset_format=dataset_format,
                        population_uri=population_uri, tasks=tasks), "ingest", image_tag)
    k8s.use_secret_as_env(ing, secret_name=S3_SECRET, secret_key_to_env=S3_ENV, optional=True)
    dataset = ing.outputs["dataset"]
    lab = _place(label(dataset=dataset, tasks=tasks), "label", image_tag)
    img = {"image_size": image_size, "clahe": image_clahe}
    enc = _place(pretrain_cxr(dataset=dataset, enabled=embed_cxr, epochs=cxr_pretrain_epochs,
                              max_images=cxr_pretrain_max_images, seed=seed, **img), "pretrain_cxr", image_tag)

    with dsl.ParallelFor(tasks, name="tasks") as task:
        feat = _place(featurize(dataset=dataset, labels=lab.outputs["labels"], task=task, T=T), "featurize",
                      image_tag)
        _place(profile(dataset=dataset, labels=lab.outputs["labels"], task=task), "profile", image_tag)
        emb = _place(embed(dataset=dataset, labels=lab.outputs["labels"], encoder=enc.outputs["encoder"], task=task,
                           notes=embed_notes, cxr=embed_cxr, note_model_path=note_model_path, pooling=note_pooling,
                           max_length=note_max_length, on_unreadable=image_on_unreadable, cache_dir=embed_cache_dir,
                           **img), "embed", image_tag)
        inputs = {"features": feat.outputs["features"], "labels": lab.outputs["labels"],
                  "embeddings": emb.outputs["embeddings"]}
        gpu = {"gpu_type": gpu_type, "gpu_count": gpu_count, "gpu_node_selector": gpu_node_selector}
        cfg = {"task": task, "epochs": search_epochs, "order": search_order, "diversity_lambda": diversity_lambda,
               "seed": seed, "overrides": search_overrides}
        srch = _place(search(**inputs, **cfg), "search", image_tag, **gpu)
        prn = _place(prune(supernet=srch.outputs["supernet"], **inputs, **cfg), "prune", image_tag, **gpu)
        ev = _place(evaluate(model=prn.outputs["model"], **inputs, task=task, n_boot=eval_n_boot), "evaluate",
                    image_tag)
        # package (bento: model + model card + reference profile) goes here, after evaluate.
    summ = _place(summarize(evaluations=dsl.Collected(ev.outputs["evaluation"])), "summarize", image_tag)
    return summ.outputs["summary"]
