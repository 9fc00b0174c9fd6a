"""Noise robustness (2405.15442): Gaussian noise, std 1, on the time series and on X-ray pixels; clean vs noisy.

    python -m experiments.noise_robustness [--task phenotypes] [--seeds 0 1 2]

Conditions: (A) every hour of 50% of the training stays, tuning and test clean; (B) 60% of the rows (hours) of
every stay in train, tuning and test; (C) 60% of the pixels of every X-ray in every split, re-embedded by the same
frozen encoder; (B+C) both. Time-series noise goes on the standardised continuous columns (std 1 = one train SD of
each variable); pixel noise has std 1 in the encoder's normalised input units (0.25 on the [0, 1] scale).
Writes section 'noise-<task>' of docs/results-fusion.md and docs/figures/noise-<task>.png.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from experiments.common import (
    SMALL_MODEL,
    Row,
    base_parser,
    cohort,
    command,
    cxr_embeddings,
    figure_link,
    oracle_of,
    paired,
    row_stats,
    run_seeds,
    setup_logging,
    table,
    train_config,
    write_section,
)
from experiments.plots import FIGURES, Point, grouped_bars
from model.fusion.config import RunConfig
from model.fusion.data import FusionData, load_task
from model.fusion.noise import PixelNoise, TSNoise, with_ts_noise
from model.fusion.timeseries import N_CONT

ALL_SPLITS = ("train", "tuning", "held_out")
PIXELS = PixelNoise(share=0.6, std=0.25, seed=3000)
# (row label, model kind, loss)
MODELS = (("LSTM (TS only)", "lstm", "uncertainty"), ("X-ray embedding only", "image_only", "uncertainty"),
          ("Robust fusion, uncertainty loss", "fusion", "uncertainty"), ("Robust fusion, BCE", "fusion", "bce"))


@dataclass(frozen=True)
class Condition:
    """One noise setting; `models` are the MODELS labels that see a noisy input in it."""

    name: str
    ts: TSNoise | None
    pixels: bool
    models: tuple[str, ...]


CONDITIONS = (
    Condition("clean", None, False, tuple(m[0] for m in MODELS)),
    Condition("A: TS noise on 50% of train stays", TSNoise("stays", 0.5), False,
              ("LSTM (TS only)", "Robust fusion, uncertainty loss", "Robust fusion, BCE")),
    Condition("B: TS noise on 60% of hours, all splits", TSNoise("hours", 0.6, splits=ALL_SPLITS), False,
              ("LSTM (TS only)", "Robust fusion, uncertainty loss", "Robust fusion, BCE")),
    Condition("C: noise on 60% of pixels, all splits", None, True,
              ("X-ray embedding only", "Robust fusion, uncertainty loss", "Robust fusion, BCE")),
    Condition("B+C: hours and pixels", TSNoise("hours", 0.6, splits=ALL_SPLITS), True, tuple(m[0] for m in MODELS)),
)


def condition_data(cond: Condition, clean: FusionData, noisy_px: FusionData) -> FusionData:
    """The task data of one condition (the X-ray vectors from the noisy-pixel embedding where it applies)."""
    data = noisy_px if cond.pixels else clean
    return with_ts_noise(data, cond.ts, N_CONT) if cond.ts is not None else data


def main() -> None:
    """Every (condition, model) pair over the seeds; paired differences noisy − clean per model."""
    setup_logging()
    args = base_parser(__doc__).parse_args()
    meds, labels = cohort(args)
    cfgs = {}
    for px in (False, True):
        emb = cxr_embeddings(args, meds, labels, pixel_hook=PIXELS if px else None)
        cfgs[px] = RunConfig(meds_dir=str(meds), labels_dir=str(labels), task=args.task,
                             embeddings=(("cxr", str(emb)),), model=SMALL_MODEL, train=train_config(args))
    clean, noisy_px = load_task(cfgs[False])[0], load_task(cfgs[True])[0]
    rows: dict[tuple[str, str], Row] = {}
    for cond in CONDITIONS:
        data = condition_data(cond, clean, noisy_px)
        for label, kind, loss in MODELS:
            if label not in cond.models:
                continue
            run = dataclasses.replace(cfgs[cond.pixels], model=dataclasses.replace(SMALL_MODEL, kind=kind),
                                      train=dataclasses.replace(cfgs[cond.pixels].train, loss=loss))
            rows[cond.name, label] = run_seeds(f"{cond.name} · {label}", data, run, args.seeds, args.n_boot)
    deltas = [f"- {paired(r, rows['clean', m], args.n_boot)}" for (c, m), r in rows.items() if c != "clean"]
    section = f"noise-{args.task}"
    series = {c.name: [row_stats(rows[c.name, m[0]], args.n_boot).auroc if (c.name, m[0]) in rows
                       else Point(float("nan"), float("nan"), float("nan")) for m in MODELS] for c in CONDITIONS}
    fig = grouped_bars([m[0] for m in MODELS], series, oracle_of(list(rows.values()), args.n_boot),
                       f"{args.task}: clean vs noisy inputs, {len(args.seeds)} seeds", FIGURES / f"{section}.png")
    body = (f"## Noise robustness ({args.task})\n\n"
            f"Command: `{command('noise_robustness', args)}`. Gaussian noise, std 1. (A) every hour of 50% of the "
            f"training stays (tuning and held-out clean); (B) 60% of the rows (hours) of every stay in every split; "
            f"(C) 60% of the pixels of every X-ray in every split, re-embedded by the same frozen encoder "
            f"(pretrained on clean images); (B+C) both. Time-series noise is added to the standardised continuous "
            f"columns (std 1 = one train-split SD of each variable; raw units differ too much, e.g. pH vs glucose, "
            f"for a common raw std of 1 to mean anything); masks and one-hots are left alone. Pixel noise: std 1 in "
            f"the encoder's normalised input units (0.25 on the [0, 1] scale), no clipping. Noise draws are fixed "
            f"across training seeds. Rows: condition · model; the held-out samples are the same in every row.\n\n"
            + table(list(rows.values()), args.n_boot)
            + "\n\nNoisy − clean, paired bootstrap of the seed-mean AUROC on the same held-out samples:\n\n"
            + "\n".join(deltas) + "\n\n" + figure_link(fig))
    print(body)
    if not args.no_write:
        write_section(section, body)


if __name__ == "__main__":
    main()
