"""CLAHE on vs off: the X-ray encoder is pretrained and the embeddings rebuilt for each setting.

    python -m experiments.clahe_ablation [--task phenotypes] [--seeds 0 1 2]

Writes section 'clahe-<task>' of docs/results-fusion.md (image-only and fusion rows for each setting).
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


def main() -> None:
    """Both CLAHE settings × (image-only, fusion) over the seeds."""
    setup_logging()
    args = base_parser(__doc__).parse_args()
    meds, labels = cohort(args)
    rows = []
    for clahe in (True, False):
        emb = cxr_embeddings(args, meds, labels, clahe=clahe)
        cfg = RunConfig(meds_dir=str(meds), labels_dir=str(labels), task=args.task, embeddings=(("cxr", str(emb)),),
                        model=SMALL_MODEL, train=train_config(args))
        data, _ = load_task(cfg)
        for kind in ("image_only", "fusion"):
            run = dataclasses.replace(cfg, model=dataclasses.replace(SMALL_MODEL, kind=kind))
            label = "X-ray embedding only" if kind == "image_only" else "Robust fusion (TS + X-ray)"
            rows.append(run_seeds(f"{label}, CLAHE {'on' if clahe else 'off'}", data, run, args.seeds, args.n_boot))
    body = (f"## CLAHE ablation ({args.task})\n\n"
            f"Command: `{command('clahe_ablation', args)}`. For each setting the ResNet-34 is pretrained on "
            f"train-split images "
            f"({args.pretrain_epochs} epochs, at most {args.pretrain_max_images} images, {args.image_size} px) and "
            f"every sample re-embedded; the encoder seed is fixed, so only preprocessing differs.\n\n"
            + table(rows, args.n_boot))
    print(body)
    if not args.no_write:
        write_section(f"clahe-{args.task}", body)


if __name__ == "__main__":
    main()
