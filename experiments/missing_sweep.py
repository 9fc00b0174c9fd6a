"""Missing-image sweep: mask a further share of X-rays (train and test) under each missing-modality policy.

    python -m experiments.missing_sweep [--task phenotypes] [--seeds 0 1 2] [--rates 0 0.5 0.9]

Writes section 'missing-<task>' of docs/results-fusion.md.
"""

from __future__ import annotations

import dataclasses

from experiments.common import (
    SMALL_MODEL,
    base_parser,
    cohort,
    command,
    cxr_embeddings,
    run_seeds,
    setup_logging,
    table,
    train_config,
    write_section,
)
from model.fusion.config import RunConfig
from model.fusion.data import load_task

POLICIES = ("zero", "mask", "token")


def main() -> None:
    """Every (drop rate, policy) pair over the seeds."""
    setup_logging()
    ap = base_parser(__doc__)
    ap.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.5, 0.9])
    args = ap.parse_args()
    meds, labels = cohort(args)
    cxr = cxr_embeddings(args, meds, labels)
    cfg = RunConfig(meds_dir=str(meds), labels_dir=str(labels), task=args.task, embeddings=(("cxr", str(cxr)),),
                    model=SMALL_MODEL, train=train_config(args))
    data, _ = load_task(cfg)
    base_rate = data.presence[:, 1].mean()
    rows = []
    for rate in args.rates:
        for policy in POLICIES:
            run = dataclasses.replace(cfg, drop_rate=rate, model=dataclasses.replace(SMALL_MODEL, missing=policy))
            rows.append(run_seeds(f"drop {rate:.0%} (X-ray present ≈ {base_rate * (1 - rate):.0%}), {policy}", data,
                                  run, args.seeds, args.n_boot))
    body = (f"## Missing-image sweep ({args.task})\n\n"
            f"Command: `{command('missing_sweep', args, ' --rates ' + ' '.join(map(str, args.rates)))}`. "
            f"A further share of "
            f"samples has its X-ray masked in every split (same draw for every policy and seed). Policies: 'zero' "
            f"= the paper's zeroed token (still attended), 'mask' = key-padding mask, 'token' = learned missing "
            f"embedding.\n\n" + table(rows, args.n_boot))
    print(body)
    if not args.no_write:
        write_section(f"missing-{args.task}", body)


if __name__ == "__main__":
    main()
