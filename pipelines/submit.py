"""Upload the compiled pipeline to a Kubeflow Pipelines endpoint and start a run or a recurring run.

GitOps and the UI use the same package: pipelines/autofm_pipeline.yaml (committed, drift-checked). The pipeline
version is named by the package's SHA-256, so submitting an unchanged package reuses its version.

    python -m pipelines.submit run      [--param tasks='["mortality"]' --param search_epochs=20 ...] [--dry-run]
    python -m pipelines.submit schedule --cron "0 0 3 * * 1" [--param ...]

Environment: KFP_HOST (required unless --dry-run), KFP_NAMESPACE (default kubeflow), KFP_EXPERIMENT (default
autofm), KFP_TOKEN (a bearer token) or KFP_SA_TOKEN_PATH (a projected service-account token file); nothing else
is read and nothing is stored.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from pipelines.compile import PACKAGE

TYPES = {"STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": float, "LIST": list, "STRUCT": dict,
         "BOOLEAN": bool}


class SubmitError(ValueError):
    """Bad arguments or environment; the message names the parameter or variable."""


def package_inputs(package: str | Path) -> dict[str, dict]:
    """The pipeline's UI parameters (name -> {parameterType, defaultValue}) from the compiled YAML."""
    spec = next(yaml.safe_load_all(Path(package).read_text()))  # document 2 is the Kubernetes platform spec
    return spec["root"]["inputDefinitions"]["parameters"]


def parse_params(items: list[str], inputs: Mapping[str, dict]) -> dict[str, Any]:
    """'name=value' strings to typed values (JSON for numbers, lists, dicts, booleans), checked against the package.

    Raises:
        SubmitError: Unknown parameter, malformed item or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise SubmitError(f"--param {item!r}: expected NAME=VALUE")
        if name not in inputs:
            raise SubmitError(f"--param {name}: not a pipeline parameter (expected one of {sorted(inputs)})")
        kind = TYPES[inputs[name]["parameterType"]]
        if kind is str:
            value: Any = raw
        else:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as e:
                raise SubmitError(f"--param {name}={raw!r}: not valid JSON for a {kind.__name__}") from e
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise SubmitError(f"--param {name}={raw!r}: expected a {kind.__name__}")
        out[name] = value
    return out


def client_from_env(env: Mapping[str, str] = os.environ) -> Any:
    """kfp.Client for KFP_HOST with the token or service-account credentials from the environment."""
    import kfp

    host = env.get("KFP_HOST")
    if not host:
        raise SubmitError("KFP_HOST is not set (the Kubeflow Pipelines API endpoint, e.g. https://kfp.example/pipeline)")
    kwargs: dict[str, Any] = {"host": host, "namespace": env.get("KFP_NAMESPACE", "kubeflow")}
    if env.get("KFP_TOKEN"):
        kwargs["existing_token"] = env["KFP_TOKEN"]
    elif env.get("KFP_SA_TOKEN_PATH"):
        kwargs["credentials"] = kfp.client.ServiceAccountTokenVolumeCredentials(path=env["KFP_SA_TOKEN_PATH"])
    return kfp.Client(**kwargs)


def plan(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """What will be sent: package, version name, experiment, run name, parameters, schedule."""
    package = Path(args.package)
    if not package.is_file():
        raise SubmitError(f"{package}: no compiled pipeline (run python -m pipelines.compile)")
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    inputs = package_inputs(package)
    return {"package": str(package), "sha256": digest, "pipeline": args.pipeline_name,
            "version": f"{args.pipeline_name}-{digest[:12]}", "experiment": env.get("KFP_EXPERIMENT", "autofm"),
            "namespace": env.get("KFP_NAMESPACE", "kubeflow"), "run_name": args.run_name or f"autofm-{digest[:8]}",
            "params": parse_params(args.param, inputs), "cron": getattr(args, "cron", None)}


def submit(p: dict[str, Any], client: Any) -> dict[str, Any]:
    """Upload (or reuse) the pipeline version, get or create the experiment, start the run or recurring run."""
    pipeline_id = client.get_pipeline_id(p["pipeline"])
    if pipeline_id is None:
        pipeline_id = client.upload_pipeline(p["package"], pipeline_name=p["pipeline"]).pipeline_id
    version_id = _find_version(client, pipeline_id, p["version"])
    if version_id is None:
        version_id = client.upload_pipeline_version(p["package"], pipeline_version_name=p["version"],
                                                    pipeline_id=pipeline_id).pipeline_version_id
    exp = client.create_experiment(p["experiment"], namespace=p["namespace"])
    common = {"experiment_id": exp.experiment_id, "job_name": p["run_name"], "pipeline_id": pipeline_id,
              "version_id": version_id, "params": p["params"]}
    if p["cron"]:
        rr = client.create_recurring_run(cron_expression=p["cron"], max_concurrency=1, no_catchup=True, **common)
        return {"recurring_run_id": rr.recurring_run_id, "pipeline_id": pipeline_id, "version_id": version_id}
    run = client.run_pipeline(**common)
    return {"run_id": run.run_id, "pipeline_id": pipeline_id, "version_id": version_id}


def _find_version(client: Any, pipeline_id: str, name: str) -> str | None:
    """The id of the pipeline's version with that display name (content-addressed: same package, same version)."""
    token = ""
    while True:
        page = client.list_pipeline_versions(pipeline_id, page_token=token, page_size=100)
        for v in page.pipeline_versions or []:
            if v.display_name == name:
                return v.pipeline_version_id
        token = page.next_page_token
        if not token:
            return None


def main(argv: list[str] | None = None, client_factory: Callable[[], Any] = client_from_env) -> int:
    p = argparse.ArgumentParser(prog="python -m pipelines.submit", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "schedule"):
        s = sub.add_parser(name)
        s.add_argument("--package", default=str(PACKAGE))
        s.add_argument("--pipeline-name", default="autofm")
        s.add_argument("--run-name")
        s.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
        s.add_argument("--dry-run", action="store_true", help="print what would be sent; contact nothing")
        if name == "schedule":
            s.add_argument("--cron", required=True, help='6-field cron, e.g. "0 0 3 * * 1" (Mondays 03:00)')
    a = p.parse_args(argv)
    try:
        what = plan(a)
        if a.dry_run:
            print(json.dumps(what, indent=2))
            return 0
        print(json.dumps(submit(what, client_factory())))
    except SubmitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
