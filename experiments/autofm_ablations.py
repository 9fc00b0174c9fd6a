"""AutoFM ablations, the paper's Tables 5-7, on the synthetic cohort: one command per table.

    python -m experiments.autofm_ablations --table 5   # drop each modality (paper Table 5)
    python -m experiments.autofm_ablations --table 6   # diversity penalty (Eq. 3.9) on / off (paper Table 6)
    python -m experiments.autofm_ablations --table 7   # pruning vs DARTS argmax vs DARTS-PT (paper Table 7)

Each writes section 'autofm-table<N>' of docs/results-autofm.md and docs/figures/autofm-table<N>.png. Table 7
reuses one search per (task, seed) with three selections, each given the same final fine-tune (all of train,
early stopping on tuning). Runs are cached (``experiments.autofm_common``), so the tables share the full runs.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from experiments.autofm_common import (
    RESULTS_DOC,
    Cell,
    Run,
    base_parser,
    cell,
    command,
    figure,
    oracle_cell,
    run_variant,
    search_config,
    space_text,
    table,
)
from experiments.common import setup_logging, write_section

MODALITIES = {"events_cont": "continuous events", "events_disc": "discrete events", "demographics": "demographics",
              "notes": "clinical notes", "cxr": "chest X-ray"}
TITLES = {5: "Table 5: drop each modality", 6: "Table 6: diversity penalty on / off",
          7: "Table 7: discretisation (pruning vs DARTS vs DARTS-PT)"}


def _full(args: argparse.Namespace, task: str, seed: int) -> Run:
    """The reference run: all modalities, penalty on, with the DARTS / DARTS-PT genotypes (shared by all tables)."""
    return run_variant(args, task, "full", replace(search_config(args, seed), baselines=True))


REFERENCE = {5: "the AutoFM row (all modalities)", 6: "the same row with the penalty (Supernet, AutoFM)",
             7: "the AutoFM (pruning) row"}


def rows_of(args: argparse.Namespace, which: int) -> dict[str, dict[str, Cell]]:
    """Table rows: configuration -> task -> cell."""
    rows: dict[str, dict[str, Cell]] = {"oracle": {}}
    for task in args.tasks:
        full = [_full(args, task, s) for s in args.seeds]
        rows["oracle"][task] = oracle_cell(full, args.n_boot)
        ref = (full, "derived")
        if which == 5:
            rows.setdefault("AutoFM (all modalities)", {})[task] = cell(full, "derived", args.n_boot)
            for m, label in MODALITIES.items():
                runs = [run_variant(args, task, f"drop-{m}", search_config(args, s), drop=m) for s in args.seeds]
                rows.setdefault(f"− {label}", {})[task] = cell(runs, "derived", args.n_boot, ref)
        elif which == 6:
            off = [run_variant(args, task, "nopenalty", replace(search_config(args, s), penalty_weight=0.0))
                   for s in args.seeds]
            rows.setdefault("Supernet", {})[task] = cell(full, "supernet", args.n_boot)
            rows.setdefault("Supernet ⊖ (no penalty)", {})[task] = cell(off, "supernet", args.n_boot,
                                                                       (full, "supernet"))
            rows.setdefault("AutoFM", {})[task] = cell(full, "derived", args.n_boot)
            rows.setdefault("AutoFM ⊖ (no penalty)", {})[task] = cell(off, "derived", args.n_boot, ref)
        else:
            rows.setdefault("DARTS (argmax)", {})[task] = cell(full, "darts_argmax", args.n_boot, ref)
            rows.setdefault("DARTS-PT", {})[task] = cell(full, "darts_pt", args.n_boot, ref)
            rows.setdefault("AutoFM (pruning, Algorithm 1)", {})[task] = cell(full, "derived", args.n_boot)
    return rows


def main() -> None:
    """Run (or reuse) the table's searches, print the table, write its section and figure."""
    setup_logging()
    ap = base_parser(__doc__)
    ap.add_argument("--table", type=int, choices=(5, 6, 7), required=True)
    args = ap.parse_args()
    rows = rows_of(args, args.table)
    body = table(rows, args.tasks)
    print(body)
    if args.no_write:
        return
    name = f"autofm-table{args.table}"
    link = figure(rows, args.tasks, TITLES[args.table], name)
    held = ", ".join(f"{t} {len(r.y)} ({int(r.y.sum())} positive)"
                     for t, r in ((t, _full(args, t, args.seeds[0])) for t in args.tasks))
    text = (f"### {TITLES[args.table]}\n\nCommand: `{command('autofm_ablations', args, f' --table {args.table}')}`"
            f"\n\nSynthetic cohort: {args.n_stays} stays (cohort seed {args.cohort_seed}), stand-in note / X-ray "
            f"vectors, d_e {args.d_e}, {space_text(args)}, {args.epochs} search epochs, pruning 2 recovery / 2 weight "
            f"steps and final_init 'supernet', "
            f"final fine-tune on all of train (early stopping on tuning). Held-out samples: {held}. "
            f"AUROC: mean over seeds "
            f"{args.seeds} with a 95% bootstrap CI (resampling the held-out samples, {args.n_boot} resamples); "
            f"AUPR: seed mean; Δ: paired bootstrap of the seed-mean AUROC difference to {REFERENCE[args.table]}; "
            f"s/run: wall seconds of one search + pruning (the full runs include DARTS-PT and the two genotype "
            f"fine-tunes), one torch thread on a shared 2-core machine.\n\n{body}\n\n{link}\n")
    write_section(name, text, RESULTS_DOC)


if __name__ == "__main__":
    main()
