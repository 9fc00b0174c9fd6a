"""DVC end to end on a tiny cohort: `dvc repro` of the data and embedding stages, no-op rerun, `dvc push` to
SeaweedFS, and `dvc pull` into an empty cache and workspace giving the same bytes back."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipelines.steps import dir_digest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def dvc(cwd: Path, *args: str, env: dict | None = None) -> str:
    r = subprocess.run([str(REPO / ".venv" / "bin" / "dvc"), *args], cwd=cwd, capture_output=True, text=True,
                       env={**ENV, **(env or {})}, timeout=300)
    assert r.returncode == 0, f"dvc {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_committed_dvc_config_has_telemetry_off_and_no_secrets():
    cfg = (REPO / ".dvc" / "config").read_text()
    assert "analytics = false" in cfg and "check_update = false" in cfg
    assert "url = s3://" in cfg
    for secret in ("access_key_id", "secret_access_key", "session_token"):
        assert secret not in cfg
    assert "/config.local" in (REPO / ".dvc" / ".gitignore").read_text()
    lock = yaml.safe_load((REPO / "dvc.lock").read_text())
    assert {"generate", "ingest", "label"} <= set(lock["stages"])


@pytest.mark.slow
def test_repro_push_pull_against_seaweedfs(seaweed, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(REPO / "dvc.yaml", proj / "dvc.yaml")
    for d in ("pipelines", "model", "monitoring"):  # code deps of the stages (hashes only; imports use the venv)
        shutil.copytree(REPO / d, proj / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["generate"].update(n_stays=150, workers=1)
    params["label"]["tasks"] = ["mortality"]
    params["embed"].update(max_length=16, image_size=32, pretrain_max_images=16)
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    dvc(proj, "init", "--no-scm", "-q")
    dvc(proj, "config", "core.analytics", "false")
    dvc(proj, "remote", "add", "-d", "s3", "s3://autofm/dvc-test")
    dvc(proj, "remote", "modify", "--local", "s3", "endpointurl", seaweed["AUTOFM_S3_ENDPOINT"])
    # "--": a generated secret may start with "-" (the README's commands do the same)
    dvc(proj, "remote", "modify", "--local", "s3", "access_key_id", "--", seaweed["AWS_ACCESS_KEY_ID"])
    dvc(proj, "remote", "modify", "--local", "s3", "secret_access_key", "--", seaweed["AWS_SECRET_ACCESS_KEY"])
    assert "secret_access_key" not in (proj / ".dvc" / "config").read_text()

    out = dvc(proj, "repro", "featurize", "profile", "embed")
    assert "Running stage 'featurize@mortality'" in out and "Running stage 'embed@mortality'" in out
    emb = yaml.safe_load((proj / "data" / "embeddings" / "mortality" / "embeddings.json").read_text())
    assert emb["modalities"] == ["cxr", "notes"]
    feats = proj / "data" / "features" / "mortality"
    assert (feats / "manifest.json").is_file() and (proj / "data" / "profile" / "mortality" / "stats.json").is_file()
    assert "Running stage" not in dvc(proj, "repro", "featurize", "profile", "embed")  # nothing changed: no rerun
    before = {d: dir_digest(proj / "data" / d) for d in ("cohort", "features", "labels", "cxr_encoder", "embeddings")}

    dvc(proj, "push")
    shutil.rmtree(proj / ".dvc" / "cache")
    shutil.rmtree(proj / "data")
    dvc(proj, "pull", "--with-deps", "featurize", "profile", "embed")
    assert {d: dir_digest(proj / "data" / d) for d in before} == before
    assert "up to date" in dvc(proj, "status", "--with-deps", "featurize", "profile", "embed").lower()


@pytest.mark.slow
def test_push_with_wrong_secret_fails(seaweed, tmp_path):
    proj = tmp_path / "p"
    proj.mkdir()
    dvc(proj, "init", "--no-scm", "-q")
    (proj / "f.txt").write_text("x")
    dvc(proj, "add", "f.txt")
    dvc(proj, "remote", "add", "-d", "s3", "s3://autofm/dvc-bad")
    dvc(proj, "remote", "modify", "--local", "s3", "endpointurl", seaweed["AUTOFM_S3_ENDPOINT"])
    dvc(proj, "remote", "modify", "--local", "s3", "access_key_id", seaweed["AWS_ACCESS_KEY_ID"])
    dvc(proj, "remote", "modify", "--local", "s3", "secret_access_key", "wrong")
    r = subprocess.run([str(REPO / ".venv" / "bin" / "dvc"), "push"], cwd=proj, capture_output=True, text=True,
                       env=ENV, timeout=120)
    assert r.returncode != 0 and "wrong" not in r.stdout + r.stderr
