"""Baselines vs the robust fusion model through the same trainer, ≥3 seeds, 95% bootstrap CIs, oracle beside.

    python -m experiments.baselines [--task phenotypes|mortality] [--seeds 0 1 2] [--n-stays 3000]

Writes the table into docs/results-fusion.md (section 'baselines-<task>'), the figure into
docs/figures/baselines-<task>.png, and paired differences: each fusion row vs the best single-modality row among
the modalities it fuses, and vs the best single-modality row overall.
"""

from __future__ import annotations

import dataclasses

from experiments.common import (
    SMALL_MODEL,
    Row,
    bar_figure,
    base_parser,
    cohort,
    command,
    cxr_embeddings,
    note_embeddings,
    oracle_of,
    paired,
    row_stats,
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
    ("1-D CNN over hours (time series only)", "ts_cnn", "mask", ()),
    ("Transformer over hours (time series only)", "ts_transformer", "mask", ()),
    ("CNN: frozen ResNet-34 X-ray embedding only", "image_only", "mask", ("cxr",)),
    ("Note embedding only (MLP)", "image_only", "mask", ("notes",)),
    ("Early-fusion MLP (TS + X-ray)", "early_mlp", "mask", ("cxr",)),
    ("MAG-style LSTM + notes", "mag", "mask", ("notes",)),
    ("Robust fusion, paper's zeroed token (TS + X-ray)", "fusion", "zero", ("cxr",)),
    ("Robust fusion, key-padding mask (TS + X-ray)", "fusion", "mask", ("cxr",)),
    ("Robust fusion, key-padding mask (TS + X-ray + notes)", "fusion", "mask", ("cxr", "notes")),
)


SINGLE = ("lstm", "ts_cnn", "ts_transformer", "image_only")  # one modality each


def comparisons(single: list[tuple[Row, frozenset]], fused: list[tuple[Row, frozenset]], n_boot: int) -> str:
    """Paired bootstrap differences: each fusion row vs the best single-modality row among its own modalities and
    vs the best overall, and the oracle gap. Rows come with their modality sets."""
    if not single or not fused:
        return ""

    def best(rows: list[Row]) -> Row:
        return max(rows, key=lambda r: row_stats(r, n_boot).auroc.mean)

    lines = [f"Paired bootstrap differences of the seed-mean AUROC ({n_boot} resamples of the same held-out "
             f"samples; the best single-modality row is chosen after the fact, which favours it):"]
    overall = best([r for r, _ in single])
    for f, mods in fused:
        own = best([r for r, m in single if m <= mods] or [overall])
        lines.append(f"- {paired(f, own, n_boot)} (best single modality among those fused)")
        if own is not overall:
            lines.append(f"- {paired(f, overall, n_boot)} (best single modality overall)")
    orc = oracle_of([f for f, _ in fused], n_boot)
    if orc is not None:
        lines += [f"- oracle gap of {f.name}: {orc - row_stats(f, n_boot).auroc.mean:.3f}" for f, _ in fused]
    return "\n".join(lines)


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
    rows, single, fused = [], [], []
    for name, kind, missing, mods in (CONFIGS[i] for i in args.configs):
        run = dataclasses.replace(cfg, model=dataclasses.replace(SMALL_MODEL, kind=kind, missing=missing))
        rows.append(run_seeds(name, with_modalities(data, mods), run, args.seeds, args.n_boot))
        pair = (rows[-1], frozenset(mods if kind == "image_only" else ("ts", *mods)))
        (fused if kind == "fusion" else single if kind in SINGLE else []).append(pair)
    section = f"baselines-{args.task}"
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
            f"probability on the same samples.\n\n" + table(rows, args.n_boot) + "\n\n"
            + comparisons(single, fused, args.n_boot) + "\n\n"
            + bar_figure(section, rows, args.n_boot, f"{args.task}: baselines vs fusion, {len(args.seeds)} seeds"))
    print(body)
    if not args.no_write:
        write_section(section, body)


if __name__ == "__main__":
    main()
