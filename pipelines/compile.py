"""Compile the pipeline to its committed IR YAML: python -m pipelines.compile [--out PATH] [--check]."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "autofm_pipeline.yaml"


def compile_pipeline(out: str | Path = PACKAGE) -> Path:
    """Write the IR YAML of pipelines.autofm_pipeline to `out` and return its path."""
    from kfp import compiler

    from pipelines.autofm_pipeline import autofm_pipeline

    out = Path(out)
    compiler.Compiler().compile(autofm_pipeline, package_path=str(out))
    return out


def drift(committed: str | Path = PACKAGE) -> bool:
    """True when compiling now gives different bytes than the committed YAML."""
    with tempfile.TemporaryDirectory() as d:
        fresh = compile_pipeline(Path(d) / "p.yaml").read_text()
    return not Path(committed).is_file() or Path(committed).read_text() != fresh


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default=str(PACKAGE))
    p.add_argument("--check", action="store_true", help="exit 1 when the committed YAML is out of date")
    a = p.parse_args(argv)
    if a.check:
        if drift(a.out):
            print(f"{a.out} is out of date: run python -m pipelines.compile", file=sys.stderr)
            return 1
        print(f"{a.out} is up to date")
        return 0
    print(compile_pipeline(a.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
