"""Validate a cohort and write a canonical copy of it atomically, with a manifest; plus the command line.

    python -m model.data.ingest validate SRC [--anchor-code C] [--require TASK=REGEX] [--no-image-check]
    python -m model.data.ingest ingest SRC OUT [--format meds|fiddle] [--population P] [--anchor-code C]
                                       [--require TASK=REGEX] [--no-image-check] [--overwrite]

Bad input prints one line "error: ..." on stderr, exits with code 2 and leaves nothing at OUT.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from model.data.ingest_write import copy_images, copy_metadata, copy_other_folders, hash_tree, write_canonical_shard
from model.data.meds_reader import DATA_DIR, local_path, open_meds
from model.data.validate import validate_meds
from model.errors import DataValidationError
from model.io_atomic import atomic_dir, write_json

logger = logging.getLogger(__name__)
FORMATS = ("meds", "fiddle")
MANIFEST_VERSION = 1
COUNT_KEYS = (
    "n_shards",
    "n_events",
    "n_subjects",
    "n_anchor_events",
    "n_subjects_with_anchor",
    "n_images",
    "n_image_files",
    "codes_count",
)


def _check_out_dir(src: Path, out: Path, overwrite: bool) -> None:
    """Refuse an existing output (unless overwrite) and outputs nested in the source, or sources nested in it."""
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out}: already exists (pass overwrite / --overwrite to replace it)")
    s, o = src.resolve(), out.resolve()
    if o == s or o.is_relative_to(s) or s.is_relative_to(o):
        raise DataValidationError(
            "output folder and source overlap", file=str(out), expected="an output folder outside the source"
        )


def _ingest_meds(src: Path, out: Path, overwrite: bool, **checks: Any) -> dict[str, Any]:
    ds = open_meds(src)
    _check_out_dir(ds.root, out, overwrite)
    report = validate_meds(ds.root, **checks)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for shard in ds.shard_paths:
            write_canonical_shard(shard, tmp / DATA_DIR / shard.relative_to(ds.root / DATA_DIR), ds.image_column)
        data_glob = str(tmp / DATA_DIR / "**" / "*.parquet")
        built_codes = copy_metadata(ds.root, tmp, data_glob)
        if ds.image_column:
            paths = pl.scan_parquet(data_glob).select(pl.col(ds.image_column).drop_nulls().unique()).collect()
            copy_images(ds.root, tmp, paths[ds.image_column].to_list())
        folders = copy_other_folders(ds.root, tmp)
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "format": "meds",
            "source": str(ds.root),
            "created_at": datetime.now(timezone.utc).isoformat(),
            "counts": {k: getattr(report, k) for k in COUNT_KEYS},
            "codes_parquet_built": built_codes,
            "copied_folders": folders,
            "validation": report.to_dict(),
            "files": hash_tree(tmp),
        }
        write_json(tmp / "manifest.json", manifest)
    return manifest


def _to_polars(frame: Any) -> pl.DataFrame:
    """Accept what a reader may return: polars (eager or lazy), pandas or pyarrow."""
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    if type(frame).__module__.startswith("pandas"):
        return pl.from_pandas(frame)
    return pl.from_arrow(frame)  # type: ignore[return-value]


def _ingest_fiddle(src: Path, population: str | Path | None, out: Path, overwrite: bool) -> dict[str, Any]:
    if population is None:
        raise DataValidationError(
            "the fiddle format needs a population file",
            field="population",
            expected="--population PATH (a table of IDs)",
        )
    pop_path = local_path(population)
    for p in (src, pop_path):
        if not p.is_file():
            raise DataValidationError("no such file", file=str(p), expected="a FIDDLE csv or parquet table")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out}: already exists (pass overwrite / --overwrite to replace it)")
    # Imported here: the FIDDLE reader lives in the featurizer package and is only needed for this format.
    from model.features.fiddle_input import read_fiddle_table

    data, pop = (_to_polars(f) for f in read_fiddle_table(src, pop_path))
    with atomic_dir(out, overwrite=overwrite) as tmp:
        data.write_parquet(tmp / "data.parquet")
        pop.write_parquet(tmp / "population.parquet")
        counts = {"n_rows": data.height, "n_population": pop.height}
        if "ID" in data.columns:
            counts["n_ids"] = data["ID"].n_unique()
        if "variable_name" in data.columns:
            counts["n_variables"] = data["variable_name"].n_unique()
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "format": "fiddle",
            "source": str(src),
            "population": str(pop_path),
            "created_at": datetime.now(timezone.utc).isoformat(),
            "counts": counts,
            "files": hash_tree(tmp),
        }
        write_json(tmp / "manifest.json", manifest)
    return manifest


def ingest(
    src: str | Path,
    out_dir: str | Path,
    *,
    fmt: str = "meds",
    population: str | Path | None = None,
    anchor_code: str = "ICU_ADMISSION",
    required_codes: Mapping[str, Sequence[str]] | None = None,
    check_images: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Validate a cohort, then write it to out_dir atomically with a manifest.

    fmt="meds": data shards rewritten with the canonical MEDS schema (same relative paths), metadata/ copied
    (codes.parquet built from the data's distinct codes when absent), referenced images and other top-level folders
    (images/, oracle/, ...) hard-linked or copied, manifest.json with counts, the validation report and the SHA-256
    of every written file. fmt="fiddle": src is a FIDDLE long table (ID, t, variable_name, variable_value) and
    population its population file; writes data.parquet, population.parquet and manifest.json.

    Args:
        src: Source cohort root (meds) or long table file (fiddle); local path or file:// URI.
        out_dir: Output folder; it appears whole or not at all.
        fmt: "meds" or "fiddle".
        population: FIDDLE population file (fiddle only).
        anchor_code: Anchor code prefix (see `validate_meds`).
        required_codes: Task name -> code regex patterns that must match some code (see `validate_meds`).
        check_images: Decode every referenced image during validation.
        overwrite: Replace an existing out_dir.

    Returns:
        The manifest (also written as out_dir/manifest.json).

    Raises:
        DataValidationError: Bad input (nothing is written).
        FileExistsError: out_dir exists and overwrite is false.
    """
    out = local_path(out_dir)
    if fmt not in FORMATS:
        raise DataValidationError(f"unknown format '{fmt}'", field="fmt", expected=" or ".join(FORMATS))
    if fmt == "fiddle":
        return _ingest_fiddle(local_path(src), population, out, overwrite)
    return _ingest_meds(
        local_path(src),
        out,
        overwrite,
        anchor_code=anchor_code,
        required_codes=required_codes,
        check_images=check_images,
    )


def _parse_require(items: list[str] | None) -> dict[str, list[str]] | None:
    if not items:
        return None
    out: dict[str, list[str]] = {}
    for item in items:
        task, sep, pattern = item.partition("=")
        if not sep or not task or not pattern:
            raise DataValidationError(f"bad --require value '{item}'", field="--require", expected="TASK=REGEX")
        out.setdefault(task, []).append(pattern)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model.data.ingest", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("validate", "ingest"):
        p = sub.add_parser(name, help=f"{name} a cohort")
        p.add_argument("src", help="cohort root (meds) or long table (fiddle)")
        if name == "ingest":
            p.add_argument("out", help="output folder (written atomically)")
            p.add_argument("--format", choices=FORMATS, default="meds", dest="fmt")
            p.add_argument("--population", help="FIDDLE population file (--format fiddle)")
            p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
        p.add_argument("--anchor-code", default="ICU_ADMISSION", help="anchor code prefix (default ICU_ADMISSION)")
        p.add_argument("--require", action="append", metavar="TASK=REGEX", help="a code pattern a task needs")
        p.add_argument("--no-image-check", action="store_true", help="check image paths but do not decode images")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (default sys.argv[1:]).

    Returns:
        0 on success, 2 on bad input (one-line message on stderr).
    """
    args = _parser().parse_args(argv)
    try:
        checks = dict(
            anchor_code=args.anchor_code,
            required_codes=_parse_require(args.require),
            check_images=not args.no_image_check,
        )
        if args.command == "validate":
            print(json.dumps(validate_meds(args.src, **checks).to_dict(), indent=2, sort_keys=True))
        else:
            manifest = ingest(
                args.src, args.out, fmt=args.fmt, population=args.population, overwrite=args.overwrite, **checks
            )
            print(json.dumps({"out_dir": str(args.out), "counts": manifest["counts"]}, indent=2, sort_keys=True))
    except (DataValidationError, FileExistsError) as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
