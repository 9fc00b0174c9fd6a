"""The compiled IR YAML: committed, in step with the Python definition, and carrying every resource setting
(CPU/memory limits, GPU accelerator, tolerations, node selector, S3 secret, images, UI parameters)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pipelines import compile as compile_mod
from pipelines.autofm_pipeline import GPU_STEPS, RESOURCES, S3_ENV, S3_SECRET

REPO = Path(__file__).resolve().parents[2]
IMAGES = json.loads((REPO / "components" / "images.json").read_text())


@pytest.fixture(scope="module")
def docs() -> tuple[dict, dict]:
    spec, platform = yaml.safe_load_all(compile_mod.PACKAGE.read_text())
    return spec, platform


def _executor_of(spec: dict, step: str) -> dict:
    return spec["deploymentSpec"]["executors"][f"exec-{step.replace('_', '-')}"]["container"]  # KFP's names


def test_committed_yaml_matches_the_python_definition(tmp_path):
    fresh = compile_mod.compile_pipeline(tmp_path / "p.yaml").read_text()
    assert compile_mod.PACKAGE.read_text() == fresh, "autofm_pipeline.yaml drifted: python -m pipelines.compile"
    assert compile_mod.main(["--check"]) == 0
    stale = tmp_path / "stale.yaml"
    stale.write_text(fresh.replace("autofm-cpu", "autofm-old"))
    assert compile_mod.main(["--check", "--out", str(stale)]) == 1


def test_ui_parameters(docs):
    params = docs[0]["root"]["inputDefinitions"]["parameters"]
    for name in ("dataset_uri", "tasks", "T", "search_epochs", "search_order", "diversity_lambda", "seed",
                 "gpu_type", "gpu_count", "image_tag", "embed_notes", "embed_cxr", "note_model_path", "note_pooling",
                 "note_max_length", "image_size", "image_clahe", "image_on_unreadable", "cxr_pretrain_epochs"):
        assert name in params, name
    assert params["tasks"]["defaultValue"] == ["mortality", "arf"]
    assert params["gpu_type"]["defaultValue"] == "nvidia.com/gpu"
    assert params["image_tag"]["defaultValue"] == IMAGES["tag"]


def test_cpu_and_memory_limits_on_every_step(docs):
    spec = docs[0]
    assert set(spec["deploymentSpec"]["executors"]) == {f"exec-{s.replace('_', '-')}" for s in RESOURCES}
    for step, (cpu, mem) in RESOURCES.items():
        res = _executor_of(spec, step)["resources"]
        assert res["resourceCpuLimit"] == cpu and res["resourceMemoryLimit"] == mem, step
        assert res["resourceCpuRequest"] == cpu and res["resourceMemoryRequest"] == mem, step


def test_gpu_steps_request_accelerators_tolerate_and_select_gpu_nodes(docs):
    spec, platform = docs
    execs = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for step in RESOURCES:
        c = _executor_of(spec, step)
        acc = c["resources"].get("accelerator")
        if step in GPU_STEPS:
            assert acc == {"resourceCount": "{{$.inputs.parameters['pipelinechannel--gpu_count']}}",
                           "resourceType": "{{$.inputs.parameters['pipelinechannel--gpu_type']}}"}, step
            assert c["image"].startswith(f"{IMAGES['repository']}-cuda:")
            k8s = execs[f"exec-{step}"]
            assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in k8s["tolerations"]
            sel = k8s["nodeSelector"]["nodeSelectorJson"]
            assert sel["componentInputParameter"] == "pipelinechannel--gpu_node_selector"
        else:
            assert acc is None, step
            assert c["image"].startswith(f"{IMAGES['repository']}-cpu:")
        assert c["image"].endswith(":{{$.inputs.parameters['pipelinechannel--image_tag']}}")


def test_gpu_parameters_reach_the_parallel_for_body(docs):
    loop = docs[0]["components"]["comp-for-loop-1"]["inputDefinitions"]["parameters"]
    want = {"pipelinechannel--gpu_type", "pipelinechannel--gpu_count", "pipelinechannel--gpu_node_selector"}
    assert want <= set(loop)


def test_s3_secret_as_env_on_ingest(docs):
    k8s = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-ingest"]
    (sec,) = k8s["secretAsEnv"]
    assert sec["secretName"] == S3_SECRET
    assert {m["secretKey"]: m["envVar"] for m in sec["keyToEnv"]} == S3_ENV
    text = compile_mod.PACKAGE.read_text()
    assert "AKIA" not in text and "secretKey: wrong" not in text


def test_tasks_fan_out_and_fan_in(docs):
    root = docs[0]["root"]["dag"]["tasks"]
    loop = root["for-loop-1"]
    assert loop["parameterIterator"]["items"]["inputParameter"] == "pipelinechannel--tasks"
    body = docs[0]["components"]["comp-for-loop-1"]["dag"]["tasks"]
    assert {"featurize", "profile", "embed", "search", "prune", "evaluate"} <= set(body)
    assert "pretrain-cxr" in root  # once per run, before the loop
    for step in ("search", "prune", "evaluate"):
        emb = body[step]["inputs"]["artifacts"]["embeddings"]["taskOutputArtifact"]
        assert emb == {"outputArtifactKey": "embeddings", "producerTask": "embed"}, step
    enc = body["embed"]["inputs"]["artifacts"]["encoder"]["componentInputArtifact"]
    assert enc == "pipelinechannel--pretrain-cxr-encoder"
    assert root["summarize"]["inputs"]["artifacts"]["evaluations"]["taskOutputArtifact"]["producerTask"] == "for-loop-1"
