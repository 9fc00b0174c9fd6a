"""Uncertainty-weighted multi-task loss vs plain BCE for the robust fusion model (TS + X-ray).

    python -m experiments.loss_ablation [--task phenotypes] [--seeds 0 1 2]

Writes section 'loss-<task>' of docs/results-fusion.md and docs/figures/loss-<task>.png.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from experiments.common import (
    SMALL_MODEL,
    bar_figure,
    base_parser,
    cohort,
    command,
    cxr_embeddings,
    paired,
    run_seeds,
    setup_logging,
    table,
    train_config,
    write_section,
)
from model.fusion.config import RunConfig
from model.fusion.data import load_task


def main() -> None:
    """Train both losses over the seeds and write the table with the learned task weights' spread."""
    setup_logging()
    args = base_parser(__doc__).parse_args()
    meds, labels = cohort(args)
    cxr = cxr_embeddings(args, meds, labels)
    cfg = RunConfig(meds_dir=str(meds), labels_dir=str(labels), task=args.task, embeddings=(("cxr", str(cxr)),),
                    model=SMALL_MODEL, train=train_config(args))
    data, _ = load_task(cfg)
    rows = [run_seeds(f"Robust fusion, {loss} loss", data,
                      dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, loss=loss)),
                      args.seeds, args.n_boot) for loss in ("uncertainty", "bce")]
    s = np.array([r.metrics["training"]["log_var"] for r in rows[0].results])
    body = (f"## Loss ablation: uncertainty-weighted vs BCE ({args.task})\n\n"
            f"Command: `{command('loss_ablation', args)}`. Same data, model (key-padding mask, TS + X-ray) and "
            f"seeds; only the "
            f"loss differs. Learned log σ² at the best epoch (uncertainty runs): mean {s.mean():.3f}, range "
            f"[{s.min():.3f}, {s.max():.3f}] over {s.shape[1]} tasks and {s.shape[0]} seeds.\n\n"
            + table(rows, args.n_boot) + "\n\nPaired bootstrap difference (same held-out samples): "
            + paired(rows[0], rows[1], args.n_boot) + "\n\n"
            + bar_figure(f"loss-{args.task}", rows, args.n_boot, f"{args.task}: uncertainty loss vs BCE"))
    print(body)
    if not args.no_write:
        write_section(f"loss-{args.task}", body)


if __name__ == "__main__":
    main()
