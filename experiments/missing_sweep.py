"""Missing-image sweep: mask a further share of X-rays (train and test) under each missing-modality policy.

    python -m experiments.missing_sweep [--task phenotypes] [--seeds 0 1 2] [--rates 0 0.25 0.5 0.75 1]

Writes section 'missing-<task>' of docs/results-fusion.md and docs/figures/missing-<task>.png (AUROC against the
drop rate, one line per policy, the LSTM without X-rays as the reference).
"""

from __future__ import annotations

import dataclasses

from experiments.common import (
    SMALL_MODEL,
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
from experiments.plots import FIGURES, line_chart
from model.fusion.config import RunConfig
from model.fusion.data import load_task

POLICIES = ("zero", "mask", "token")


def main() -> None:
    """Every (drop rate, policy) pair over the seeds."""
    setup_logging()
    ap = base_parser(__doc__)
    ap.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    args = ap.parse_args()
    meds, labels = cohort(args)
    cxr = cxr_embeddings(args, meds, labels)
    cfg = RunConfig(meds_dir=str(meds), labels_dir=str(labels), task=args.task, embeddings=(("cxr", str(cxr)),),
                    model=SMALL_MODEL, train=train_config(args))
    data, _ = load_task(cfg)
    base_rate = data.presence[:, 1].mean()
    lstm = run_seeds("LSTM (time series only, no X-ray)", data,
                     dataclasses.replace(cfg, model=dataclasses.replace(SMALL_MODEL, kind="lstm")), args.seeds,
                     args.n_boot)
    rows, by_policy = [lstm], {p: [] for p in POLICIES}
    for rate in args.rates:
        for policy in POLICIES:
            run = dataclasses.replace(cfg, drop_rate=rate, model=dataclasses.replace(SMALL_MODEL, missing=policy))
            rows.append(run_seeds(f"drop {rate:.0%} (X-ray present ≈ {base_rate * (1 - rate):.0%}), {policy}", data,
                                  run, args.seeds, args.n_boot))
            by_policy[policy].append(rows[-1])
    section = f"missing-{args.task}"
    series = {f"fusion, {p}": [row_stats(r, args.n_boot).auroc for r in rs] for p, rs in by_policy.items()}
    series["LSTM (no X-ray)"] = [row_stats(lstm, args.n_boot).auroc] * len(args.rates)
    fig = line_chart(args.rates, series, oracle_of(rows, args.n_boot), f"{args.task}: AUROC vs extra X-ray drop rate",
                     "share of X-rays additionally masked (all splits)", FIGURES / f"{section}.png")
    at_zero = {p: rs[0] for p, rs in by_policy.items()}
    diffs = [f"- {paired(r, lstm, args.n_boot)}" for rs in by_policy.values() for r in rs]
    if len(at_zero) > 1:
        diffs += [f"- {paired(at_zero['mask'], at_zero[p], args.n_boot)}" for p in POLICIES if p != "mask"]
    body = (f"## Missing-image sweep ({args.task})\n\n"
            f"Command: `{command('missing_sweep', args, ' --rates ' + ' '.join(map(str, args.rates)))}`. "
            f"A further share of "
            f"samples has its X-ray masked in every split (same draw for every policy and seed). Policies: 'zero' "
            f"= the paper's zeroed token (still attended), 'mask' = key-padding mask, 'token' = learned missing "
            f"embedding. The LSTM row is the time series without any X-ray (the floor a fusion model should not "
            f"fall below).\n\n" + table(rows, args.n_boot)
            + "\n\nPaired bootstrap differences of the seed-mean AUROC (same held-out samples):\n\n"
            + "\n".join(diffs) + "\n\n" + figure_link(fig))
    print(body)
    if not args.no_write:
        write_section(section, body)


if __name__ == "__main__":
    main()
