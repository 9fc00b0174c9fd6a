"""Images and the S3 helper script: Dockerfiles lint clean with hadolint and install from the lock; the SeaweedFS
script binds to 127.0.0.1, keeps credentials out of committed files and stops by PID."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = [REPO / "infra" / "Dockerfile.cpu", REPO / "infra" / "Dockerfile.cuda"]


def test_dockerfiles_pass_hadolint():
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    r = subprocess.run([hadolint, "--config", str(REPO / "infra" / ".hadolint.yaml"), *map(str, DOCKERFILES)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfiles_install_the_project_from_its_lock():
    images = json.loads((REPO / "components" / "images.json").read_text())
    for f, flavour in zip(DOCKERFILES, ("cpu", "cuda"), strict=True):
        text = f.read_text()
        assert "-c requirements/constraints.txt ." in text and "torch==2.13.0" in text
        assert "USER 10001" in text
        assert images[flavour] in text  # the tag the components name is the one the file documents building


def test_seaweedfs_script_binds_localhost_and_stops_by_pid(seaweed):
    script = (REPO / "scripts" / "seaweedfs.sh").read_text()
    assert "-ip.bind=127.0.0.1" in script and 'kill "$PID"' in script and "pkill" not in script
    state = Path(seaweed["STATE_DIR"])
    assert (state / "env").stat().st_mode & 0o077 == 0  # credentials file readable by the owner only
    assert seaweed["AUTOFM_S3_ENDPOINT"].startswith("http://127.0.0.1:")
    pid = int((state / "weed.pid").read_text())
    assert Path(f"/proc/{pid}").exists()
