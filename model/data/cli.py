"""`autofm-data`: one entry point for the data layer's commands.

    autofm-data generate OUT [--n-stays N --seed S ...]      synthetic cohort (model.data.synthetic)
    autofm-data validate SRC [...] / ingest SRC OUT [...]     validation and ingestion (model.data.ingest)
    autofm-data label SRC OUT [--tasks ...] [--anchor-code C] labels and splits (model.data.labeling)
"""

from __future__ import annotations

import argparse
import json
import sys

from model.errors import DataValidationError


def _label(argv: list[str]) -> int:
    from model.data.labeling import ALL_TASKS, label_dataset
    from model.data.tasks import TaskCodes

    p = argparse.ArgumentParser(prog="autofm-data label")
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--tasks", nargs="+", default=list(ALL_TASKS))
    p.add_argument("--anchor-code", default=TaskCodes.anchor)
    p.add_argument("--anchor-end-code", default=TaskCodes.anchor_end)
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    try:
        summary = label_dataset(a.src, a.out, tasks=tuple(a.tasks), overwrite=a.overwrite,
                                codes=TaskCodes(anchor=a.anchor_code, anchor_end=a.anchor_end_code))
    except (DataValidationError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("generate", "validate", "ingest", "label"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "generate":
        from model.data.synthetic import main as generate

        return generate(rest)
    if cmd == "label":
        return _label(rest)
    from model.data.ingest import main as ingest_main

    return ingest_main([cmd, *rest])


if __name__ == "__main__":
    raise SystemExit(main())
