"""Command line of the embedding steps (what the KFP `embed` component and the DVC stage call).

    python -m model.embed pretrain-cxr MEDS OUT [--size 128] [--no-clahe] [--epochs 3]
    python -m model.embed images MEDS SAMPLES OUT --weights DIR [--size 128] [--no-clahe] [--on-unreadable error]
    python -m model.embed notes MEDS SAMPLES OUT [--model-path DIR] [--pooling cls] [--max-length 256] [--cache DIR]

Bad input prints one line naming the file on stderr and exits with code 2; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from model.errors import DataValidationError

if TYPE_CHECKING:
    import polars as pl


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m model.embed", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pre = sub.add_parser("pretrain-cxr", help="train the ResNet-34 on the 14 findings (train split)")
    pre.add_argument("meds")
    pre.add_argument("out")
    pre.add_argument("--epochs", type=int, default=3)
    pre.add_argument("--lr", type=float, default=1e-3)
    pre.add_argument("--seed", type=int, default=0)
    img = sub.add_parser("images", help="embed the latest X-ray per sample")
    img.add_argument("meds")
    img.add_argument("samples")
    img.add_argument("out")
    img.add_argument("--weights", required=True)
    img.add_argument("--on-unreadable", choices=("error", "missing"), default="error")
    for q in (pre, img):
        q.add_argument("--size", type=int, default=128)
        q.add_argument("--no-clahe", action="store_true")
    nts = sub.add_parser("notes", help="embed the latest note per category per sample")
    nts.add_argument("meds")
    nts.add_argument("samples")
    nts.add_argument("out")
    nts.add_argument("--model-path", default=None)
    nts.add_argument("--pooling", choices=("cls", "mean"), default="cls")
    nts.add_argument("--max-length", type=int, default=256)
    nts.add_argument("--batch-size", type=int, default=16)
    nts.add_argument("--cache", default=None)
    return p


def read_samples(path: str) -> pl.DataFrame:
    """Read a samples parquet, turning a missing or unreadable file into DataValidationError naming it."""
    import polars as pl

    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataValidationError(f"cannot read samples ({type(exc).__name__})", file=path) from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run one embedding command; returns the exit code (2 on bad input)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    from model.embed.config import ImageEncoderConfig, ImagePreprocessConfig, NoteEncoderConfig, PretrainConfig

    try:
        if args.cmd == "pretrain-cxr":
            from model.embed.pretrain import pretrain_cxr_encoder

            pp = ImagePreprocessConfig(size=args.size, clahe=not args.no_clahe)
            result = pretrain_cxr_encoder(args.meds, args.out, PretrainConfig(preprocess=pp, epochs=args.epochs,
                                                                              lr=args.lr, seed=args.seed))
        elif args.cmd == "images":
            from model.embed.images import embed_images

            pp = ImagePreprocessConfig(size=args.size, clahe=not args.no_clahe)
            cfg = ImageEncoderConfig(weights_dir=args.weights, preprocess=pp, on_unreadable=args.on_unreadable)
            result = embed_images(args.meds, read_samples(args.samples), args.out, cfg)
        else:
            from model.embed.notes import embed_notes

            cfg = NoteEncoderConfig(model_path=args.model_path, pooling=args.pooling, max_length=args.max_length,
                                    batch_size=args.batch_size, cache_dir=args.cache)
            result = embed_notes(args.meds, read_samples(args.samples), args.out, cfg)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True, default=str))
    return 0
