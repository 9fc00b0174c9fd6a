"""Wall time and peak RSS of a command run in a fresh process (so imports and the interpreter are counted)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    """One run of a command."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(argv: list[str], env: dict[str, str] | None = None) -> Measurement:
    """Run `argv` and report its wall time and the peak resident set size of that child process.

    The child is reaped with wait4, whose rusage covers that one process (Linux: ru_maxrss in KiB), so other
    processes on the machine do not count.

    Args:
        argv: The command.
        env: Environment (default: this process's).

    Returns:
        The measurement.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env or dict(os.environ), text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measurement(wall, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read())


def python_cmd(module: str, *args: str) -> list[str]:
    """argv running `python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]
