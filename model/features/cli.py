"""A drop-in for FIDDLE's command: same arguments, same output files, same features.

    python -m model.features.cli --data_fname=data.csv --population_fname=pop.csv --config_fname=config.yaml \\
        --output_dir=out/ --T=4 --dt=1.0 --theta_1=0.001 --theta_2=0.001 --theta_freq=1 \\
        --stats_functions min max mean [--N n] [--no_prefilter] [--no_postfilter]

Writes into output_dir (created if needed; files replaced one by one only after everything succeeded):
IDs.csv, value_types.csv, S_all.npz / X_all.npz with .feature_names.json and .discretization.json, and, with the
post-filter, S.npz / X.npz with .feature_names.json and .feature_aliases.json (FIDDLE's COO format), plus
featurizer.json (the fitted featurizer, reusable at serving time). Not written: FIDDLE's joblib pickles and
pre-filtered.csv. Bad input: one line on stderr, exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

from model.errors import DataValidationError
from model.features.config import FeaturizerConfig
from model.features.encode import discretization_bins
from model.features.featurize import fit_transform
from model.features.fiddle_input import read_fiddle_table, to_batch
from model.features.prepare import check_numeric_duplicates, window_filter
from model.features.sparse_io import save_fiddle_coo


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="FIDDLE-compatible featurizer (drop-in for `python -m FIDDLE.run`).")
    p.add_argument("--data_fname", required=True)
    p.add_argument("--population_fname", required=True)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--config_fname")
    p.add_argument("--T", type=float, required=True)
    p.add_argument("--dt", type=float, required=True)
    p.add_argument("--theta_1", type=float, default=0.001)
    p.add_argument("--theta_2", type=float, default=0.001)
    p.add_argument("--theta_freq", type=float, default=1.0)
    p.add_argument("--stats_functions", nargs="+", default=["min", "max", "mean"])
    p.add_argument("--N", type=int)
    p.add_argument("--no_prefilter", dest="prefilter", action="store_false")
    p.add_argument("--no_postfilter", dest="postfilter", action="store_false")
    return p


def _load_yaml(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        d = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataValidationError(f"cannot read config: {exc}".splitlines()[0], file=path,
                                  expected="a FIDDLE YAML config") from None
    if not isinstance(d, dict):
        raise DataValidationError("config is not a mapping", file=path, expected="a FIDDLE YAML config")
    if d.get("use_ordinal_encoding"):
        raise DataValidationError("use_ordinal_encoding: yes is not supported", file=path,
                                  field="use_ordinal_encoding", expected="no")
    return d


def _given_edges(conf: dict[str, Any]) -> dict[str, Any] | None:
    edges: dict[str, Any] = {}
    for key in ("S_discretization_bins", "X_discretization_bins"):
        if conf.get(key):
            try:
                edges.update(json.loads(Path(conf[key]).read_text()))
            except (OSError, json.JSONDecodeError) as exc:
                raise DataValidationError(f"cannot read bins: {exc}".splitlines()[0], file=str(conf[key]),
                                          field=key, expected="a discretization JSON written by FIDDLE") from None
    return edges or None


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Featurize as FIDDLE's `run.py` does and write its output files; returns a summary (counts only)."""
    conf = _load_yaml(args.config_fname)
    cfg = FeaturizerConfig(T=args.T, dt=args.dt, theta_1=args.theta_1, theta_2=args.theta_2,
                           theta_freq=args.theta_freq, stats_functions=tuple(args.stats_functions),
                           discretize=bool(conf.get("discretize", True)), value_types=conf.get("value_types") or {},
                           prefilter=args.prefilter, postfilter=args.postfilter)
    data, pop = read_fiddle_table(args.data_fname, args.population_fname)
    if args.N:
        pop = pop.sort("ID").head(args.N)
    batch, ids, n_missing = to_batch(data, pop)
    if cfg.prefilter:
        check_numeric_duplicates(window_filter(batch.events, cfg), cfg, args.data_fname)
    fitted, tables = fit_transform(batch, cfg, _given_edges(conf))
    out = Path(args.output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write(tmp, fitted, tables, ids)
        out.mkdir(exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"N": len(ids), "L": cfg.L, "rows_missing_value": n_missing,
            **{k: list(v.shape) for k, v in tables.items()}}


def _write(tmp: Path, fitted: Any, tables: dict, ids: pl.Series) -> None:
    pl.DataFrame({"ID": ids}).write_csv(tmp / "IDs.csv")
    types = pl.DataFrame({"variable_name": list(fitted.types), "value_type": list(fitted.types.values())})
    types.write_csv(tmp / "value_types.csv", quote_style="always")
    disc = fitted.config.discretize
    dtype = np.int64 if disc else np.float64
    for name, t in fitted.tables.items():
        temporal = t.temporal
        st = fitted.structure
        if not (st.nonfrequent + st.frequent if temporal else st.invariant):
            continue  # FIDDLE writes nothing for a table without variables
        L = fitted.config.L if temporal else None
        save_fiddle_coo(tmp / f"{name}_all.npz", tables[f"{name}_all"], L, dtype)
        (tmp / f"{name}_all.feature_names.json").write_text(json.dumps(t.all_names))
        (tmp / f"{name}_all.discretization.json").write_text(
            json.dumps(discretization_bins(t.encoders) if disc else None))
        if fitted.config.postfilter:
            save_fiddle_coo(tmp / f"{name}.npz", tables[name], L, dtype)
            (tmp / f"{name}.feature_names.json").write_text(json.dumps(t.names))
            (tmp / f"{name}.feature_aliases.json").write_text(json.dumps(t.aliases, sort_keys=True))
    fitted.save(tmp / "featurizer.json")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit code 2 with one line on stderr for bad input."""
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        summary = run(args)
    except (DataValidationError, FileExistsError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({**summary, "seconds": round(time.perf_counter() - start, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
