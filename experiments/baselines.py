"""Baselines vs the robust fusion model through the same trainer, ≥3 seeds, 95% bootstrap CIs, oracle beside.

    python -m experiments.baselines [--task phenotypes|mortality] [--seeds 0 1 2] [--n-stays 3000]

Writes the table into docs/results-fusion.md (section 'baselines-<task>').
"""

from __future__ import annotations

import dataclasses

from experiments.common import (
    SMALL_MODEL,
    base_parser,
    cohort,
    command,
    cxr_embeddings,
    note_embeddings,
    run_seeds,
    setup_logging,
    table,
    train_config,
    write_section,
)
from model.fusion.config import RunConfig
from model.fusion.data import load_task, with_modalities

# (row name, model kind, missing policy, dense modalities)
CONFIGS = (
    ("LSTM (time series only)", "lstm", "mask", ()),
    ("Transformer over hours (time series only)", "ts_transformer", "mask", ()),
    ("CNN: frozen ResNet-34 X-ray embedding only", "image_only", "mask", ("cxr",)),
    ("Early-fusion MLP (TS + X-ray)", "early_mlp", "mask", ("cxr",)),
    ("MAG-style LSTM + notes", "mag", "mask", ("notes",)),
    ("Robust fusion, paper's zeroed token (TS + X-ray)", "fusion", "zero", ("cxr",)),
    ("Robust fusion, key-padding mask (TS + X-ray)", "fusion", "mask", ("cxr",)),
    ("Robust fusion, key-padding mask (TS + X-ray + notes)", "fusion", "mask", ("cxr", "notes")),
)


def main() -> None:
    """Run every configuration over the seeds and write the table."""
    setup_logging()
    ap = base_parser(__doc__)
    ap.add_argument("--configs", type=int, nargs="+", default=list(range(len(CONFIGS))),
                    help="indices into CONFIGS (default: all)")
    args = ap.parse_args()
    meds, labels = cohort(args)
    cxr, notes = cxr_embeddings(args, meds, labels), note_embeddings(args, meds, labels)
    cfg = RunConfig(meds_dir=str(meds), labels_dir=str(labels), task=args.task,
                    embeddings=(("cxr", str(cxr)), ("notes", str(notes))), model=SMALL_MODEL, train=train_config(args))
    data, _ = load_task(cfg)
    rows = []
    for name, kind, missing, mods in (CONFIGS[i] for i in args.configs):
        run = dataclasses.replace(cfg, model=dataclasses.replace(SMALL_MODEL, kind=kind, missing=missing))
        rows.append(run_seeds(name, with_modalities(data, mods), run, args.seeds, args.n_boot))
    pres = data.presence.mean(0)
    body = (f"## Baselines vs robust fusion: {args.task}\n\n"
            f"Command: `{command('baselines', args, ' --configs ' + ' '.join(map(str, args.configs)))}`. "
            f"Synthetic cohort of {args.n_stays} stays (seed {args.cohort_seed}), "
            f"{int((data.split == 'train').sum())} train / {int((data.split == 'tuning').sum())} tuning / "
            f"{int((data.split == 'held_out').sum())} held-out samples; X-ray present for {pres[1]:.0%}, notes for "
            f"{pres[2]:.0%} of samples. Model widths: hidden {SMALL_MODEL.hidden}, d_model {SMALL_MODEL.d_model}, "
            f"{SMALL_MODEL.n_heads} heads, FF {SMALL_MODEL.ff}; loss: {train_config(args).loss}; X-ray encoder "
            f"pretrained on train-split images at {args.image_size} px with CLAHE. CI: 95% percentile bootstrap "
            f"({args.n_boot} "
            f"resamples of held-out samples) of the seed-mean macro AUROC; the oracle is the generator's true "
            f"probability on the same samples.\n\n" + table(rows, args.n_boot))
    print(body)
    if not args.no_write:
        write_section(f"baselines-{args.task}", body)


if __name__ == "__main__":
    main()
