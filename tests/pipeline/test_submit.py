"""`submit`: argument handling and the exact package and parameters it would send. No cluster is reachable here,
so the client is a recording double: these tests check what we send, never that a cluster answered."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest

from pipelines import submit
from pipelines.compile import PACKAGE


class RecordingClient:
    """Stands in for kfp.Client; records every call and returns ids it made up itself."""

    def __init__(self, existing_versions: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.versions = existing_versions

    def _rec(self, call, **kw):
        self.calls.append((call, kw))

    def get_pipeline_id(self, name):
        self._rec("get_pipeline_id", name=name)
        return None

    def upload_pipeline(self, path, pipeline_name=None):
        self._rec("upload_pipeline", path=path, pipeline_name=pipeline_name, sha=hashlib.sha256(
            open(path, "rb").read()).hexdigest())
        return SimpleNamespace(pipeline_id="p-1")

    def list_pipeline_versions(self, pipeline_id, page_token="", page_size=100):
        vs = [SimpleNamespace(display_name=v, pipeline_version_id=f"v-{v}") for v in self.versions]
        return SimpleNamespace(pipeline_versions=vs, next_page_token="")

    def upload_pipeline_version(self, path, pipeline_version_name, pipeline_id):
        self._rec("upload_pipeline_version", path=path, name=pipeline_version_name, pipeline_id=pipeline_id)
        return SimpleNamespace(pipeline_version_id="v-new")

    def create_experiment(self, name, namespace=None):
        self._rec("create_experiment", name=name, namespace=namespace)
        return SimpleNamespace(experiment_id="e-1")

    def run_pipeline(self, **kw):
        self._rec("run_pipeline", **kw)
        return SimpleNamespace(run_id="r-1")

    def create_recurring_run(self, **kw):
        self._rec("create_recurring_run", **kw)
        return SimpleNamespace(recurring_run_id="rr-1")


def test_parameters_are_typed_and_checked_against_the_package():
    inputs = submit.package_inputs(PACKAGE)
    got = submit.parse_params(["tasks=[\"mortality\"]", "search_epochs=20", "diversity_lambda=1", "image_tag=1.2",
                               "gpu_node_selector={\"nvidia.com/gpu.product\": \"H100\"}"], inputs)
    assert got == {"tasks": ["mortality"], "search_epochs": 20, "diversity_lambda": 1.0, "image_tag": "1.2",
                   "gpu_node_selector": {"nvidia.com/gpu.product": "H100"}}
    for bad, msg in (("nope=1", "not a pipeline parameter"), ("search_epochs=two", "not valid JSON"),
                     ("search_epochs=1.5", "expected a int"), ("tasks", "NAME=VALUE")):
        with pytest.raises(submit.SubmitError, match=msg):
            submit.parse_params([bad], inputs)


def test_missing_host_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.delenv("KFP_HOST", raising=False)
    assert submit.main(["run"]) == 2
    assert "KFP_HOST is not set" in capsys.readouterr().err


def test_dry_run_prints_the_plan_and_contacts_nothing(capsys, monkeypatch):
    monkeypatch.setenv("KFP_EXPERIMENT", "icu")

    def no_client():
        raise AssertionError("dry run must not build a client")

    assert submit.main(["run", "--dry-run", "--param", "search_epochs=3"], client_factory=no_client) == 0
    plan = json.loads(capsys.readouterr().out)
    digest = hashlib.sha256(PACKAGE.read_bytes()).hexdigest()
    assert plan["sha256"] == digest and plan["version"] == f"autofm-{digest[:12]}"
    assert plan["experiment"] == "icu" and plan["params"] == {"search_epochs": 3}


def test_run_uploads_the_committed_package_and_starts_a_run(capsys):
    client = RecordingClient()
    assert submit.main(["run", "--param", "seed=7"], client_factory=lambda: client) == 0
    names = [c[0] for c in client.calls]
    assert names == ["get_pipeline_id", "upload_pipeline", "upload_pipeline_version", "create_experiment",
                     "run_pipeline"]
    calls = dict(client.calls)
    assert calls["upload_pipeline"]["sha"] == hashlib.sha256(PACKAGE.read_bytes()).hexdigest()
    run = calls["run_pipeline"]
    assert run["params"] == {"seed": 7} and run["pipeline_id"] == "p-1" and run["version_id"] == "v-new"
    assert json.loads(capsys.readouterr().out)["run_id"] == "r-1"


def test_schedule_reuses_an_existing_version_and_sets_a_cron(capsys):
    digest = hashlib.sha256(PACKAGE.read_bytes()).hexdigest()
    client = RecordingClient(existing_versions=(f"autofm-{digest[:12]}",))
    assert submit.main(["schedule", "--cron", "0 0 3 * * 1"], client_factory=lambda: client) == 0
    calls = dict(client.calls)
    assert "upload_pipeline_version" not in calls
    rr = calls["create_recurring_run"]
    assert rr["cron_expression"] == "0 0 3 * * 1" and rr["version_id"] == f"v-autofm-{digest[:12]}"
    assert rr["max_concurrency"] == 1 and rr["no_catchup"] is True
