"""One progress line per pipeline step on the terminal, the full kfp.local output in a log file.

kfp.local prints each task's executor input, streamed output and outputs to stdout; ProgressTee takes stdout and
stderr for the duration of a run, writes everything to the log and echoes one line when a step starts, finishes,
fails or is served from the cache.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

ANSI = re.compile(r"\x1b\[[0-9;]*m")
START = re.compile(r"Executing task '([^']+)'")
END = re.compile(r"Task '([^']+)' finished with status (\w+)")
HIT = re.compile(r"Task (\S+) cache hit")
ERROR = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception): ")


class ProgressTee:
    """A file-like stdout/stderr replacement (thread-safe: ParallelFor iterations run concurrently)."""

    def __init__(self, log_path: str | Path, echo: IO[str]) -> None:
        self.log_path, self.echo = Path(log_path), echo
        self.lock = threading.Lock()
        self.started: dict[str, float] = {}
        self.last_failure: str | None = None
        self.steps: list[dict[str, Any]] = []
        self._buf = ""

    def __enter__(self) -> ProgressTee:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115  (closed in __exit__)
        self._saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self  # type: ignore[assignment]
        # kfp.local logs cache hits outside its own logging context: catch them at INFO here.
        root = logging.getLogger()
        self._saved_log = root.level, root.handlers[:]
        root.handlers = [logging.StreamHandler(self)]
        root.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self._saved
        root = logging.getLogger()
        root.setLevel(self._saved_log[0])
        root.handlers = self._saved_log[1]
        self._fh.close()

    def write(self, text: str) -> int:
        with self.lock:
            self._fh.write(text)
            self._buf += text
            *lines, self._buf = self._buf.split("\n")
            for line in lines:
                self._line(ANSI.sub("", line))
        return len(text)

    def flush(self) -> None:
        with self.lock:
            self._fh.flush()

    def isatty(self) -> bool:
        return False

    def _say(self, text: str) -> None:
        self.echo.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self.echo.flush()

    def _line(self, line: str) -> None:
        if m := START.search(line):
            self.started[m.group(1)] = time.perf_counter()
            self._say(f"[{m.group(1)}] running ...")
        elif m := END.search(line):
            name, status = m.group(1), m.group(2)
            secs = time.perf_counter() - self.started.get(name, time.perf_counter())
            self.steps.append({"step": name, "status": status, "seconds": round(secs, 1)})
            if status != "SUCCESS":
                self.last_failure = f"step '{name}'"
            self._say(f"[{name}] {'done' if status == 'SUCCESS' else status} in {secs:.1f} s")
        elif m := HIT.search(line):
            name = m.group(1).strip("'")
            self.steps.append({"step": name, "status": "CACHED", "seconds": 0.0})
            self._say(f"[{name}] reused (cached)")
        elif ERROR.match(line):  # a step's own exception line, from its streamed output
            self._say(f"  {line.strip()[:300]}")
