"""Shared steps of the fusion experiments: cached cohort, labels and embeddings; multi-seed runs; result tables.

Everything expensive is cached under runs/fusion-exp/ keyed by its settings, so each ablation command reuses the
cohort, the pretrained X-ray encoder and the embeddings of the previous ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from experiments import plots
from experiments.plots import Point
from model.fusion.config import ModelConfig, RunConfig, TrainConfig
from model.fusion.data import FusionData
from model.fusion.evaluate import bootstrap_paired_diff, bootstrap_seed_mean
from model.fusion.noise import PixelNoise
from model.fusion.run import RunResult, train_and_evaluate
from model.io_atomic import atomic_file

log = logging.getLogger("experiments")
REPO = Path(__file__).resolve().parents[1]
RESULTS_DOC = REPO / "docs" / "results-fusion.md"
# CPU-sized model: the paper's widths (256 / FF 1024) train ~10x slower on 2 shared cores for no gain at this n.
SMALL_MODEL = ModelConfig(hidden=64, d_model=64, n_heads=4, n_layers=2, ff=256)
# One thread: the machine's 2 cores are shared, and oversubscribed threads made each run ~20x slower.
SMALL_TRAIN = TrainConfig(lr=1e-3, batch_size=64, max_epochs=40, patience=5, threads=1)


def base_parser(doc: str) -> argparse.ArgumentParser:
    """Arguments every experiment shares (cohort size, seeds, task, cache folder)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--n-stays", type=int, default=3000)
    ap.add_argument("--cohort-seed", type=int, default=11)
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--task", choices=("mortality", "phenotypes"), default="phenotypes")
    ap.add_argument("--cache", default=str(REPO / "runs" / "fusion-exp"))
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--pretrain-epochs", type=int, default=2)
    ap.add_argument("--pretrain-max-images", type=int, default=400)
    ap.add_argument("--max-epochs", type=int, default=SMALL_TRAIN.max_epochs)
    ap.add_argument("--patience", type=int, default=SMALL_TRAIN.patience)
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    return ap


def train_config(args: argparse.Namespace) -> TrainConfig:
    """SMALL_TRAIN with the command line's epoch budget."""
    return dataclasses.replace(SMALL_TRAIN, max_epochs=args.max_epochs, patience=args.patience)


def command(module: str, args: argparse.Namespace, extra: str = "") -> str:
    """The command line that reproduces a table (stated above it)."""
    return (f"python -m experiments.{module} --task {args.task} --seeds {' '.join(map(str, args.seeds))} "
            f"--n-stays {args.n_stays} --max-epochs {args.max_epochs} --patience {args.patience}{extra}")


def cohort(args: argparse.Namespace) -> tuple[Path, Path]:
    """(meds_dir, labels_dir) of the synthetic cohort, generated and labelled once per settings."""
    from model.data.labeling import label_dataset
    from model.data.synthetic import generate_cohort
    from model.data.synthetic_config import CohortConfig

    root = Path(args.cache) / f"cohort-n{args.n_stays}-s{args.cohort_seed}-px{args.image_size}"
    meds, labels = root / "meds", root / "labels"
    if not (labels / "summary.json").exists():
        log.info("generating cohort in %s", root)
        generate_cohort(meds, CohortConfig(n_stays=args.n_stays, seed=args.cohort_seed, image_size=args.image_size,
                                           stays_per_shard=1000, dicom_share=0.1))
        label_dataset(meds, labels)
    return meds, labels


def cxr_embeddings(args: argparse.Namespace, meds: Path, labels: Path, clahe: bool = True,
                   pixel_hook: PixelNoise | None = None) -> Path:
    """Pretrain the encoder (train split) and embed the task's samples; cached per CLAHE setting and pixel noise.

    With `pixel_hook` the same (clean-trained) encoder embeds noisy images: the noise-robustness experiment."""
    from model.embed.config import ImageEncoderConfig, ImagePreprocessConfig, PretrainConfig
    from model.embed.images import embed_images
    from model.embed.pretrain import pretrain_cxr_encoder

    pp = ImagePreprocessConfig(size=args.image_size, clahe=clahe)
    tag = f"px{args.image_size}-clahe{int(clahe)}-e{args.pretrain_epochs}-m{args.pretrain_max_images}"
    enc, out = meds.parent / f"cxr-encoder-{tag}", meds.parent / f"emb-cxr-{args.task}-{tag}"
    if pixel_hook is not None:
        out = out.with_name(f"{out.name}-pixnoise{pixel_hook.share}-{pixel_hook.std}-s{pixel_hook.seed}")
    if not (enc / "encoder.json").exists():
        log.info("pretraining the X-ray encoder (%s)", tag)
        pretrain_cxr_encoder(meds, enc, PretrainConfig(preprocess=pp, epochs=args.pretrain_epochs, threads=1,
                                                       max_train_images=args.pretrain_max_images))
    if not (out / "meta.json").exists():
        samples = pl.read_parquet(labels / "samples" / f"{args.task}.parquet")
        embed_images(meds, samples, out, ImageEncoderConfig(weights_dir=str(enc), preprocess=pp), pixel_hook=pixel_hook)
    return out


def note_embeddings(args: argparse.Namespace, meds: Path, labels: Path) -> Path:
    """MiniLM note embeddings (CLS, 128 tokens) of the task's samples, content-hash cached."""
    from model.embed.config import NoteEncoderConfig
    from model.embed.notes import embed_notes

    out = meds.parent / f"emb-notes-{args.task}"
    if not (out / "meta.json").exists():
        samples = pl.read_parquet(labels / "samples" / f"{args.task}.parquet")
        embed_notes(meds, samples, out, NoteEncoderConfig(max_length=128, batch_size=32,
                                                          cache_dir=str(Path(args.cache) / "note-cache")))
    return out


@dataclass
class Stats:
    """Summary of one Row on its held-out samples."""

    auroc: Point
    sd: float
    aupr: float
    oracle: Point | None
    best_epoch: float


@dataclass
class Row:
    """One configuration's runs across seeds."""

    name: str
    results: list[RunResult]
    seconds: float
    stats: Stats | None = field(default=None, repr=False)


def run_seeds(name: str, data: FusionData, cfg: RunConfig, seeds: Sequence[int], n_boot: int) -> Row:
    """Train and evaluate `cfg` once per seed on the same data (nothing written per run)."""
    t0, results = time.time(), []
    for s in seeds:
        run = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=s))
        results.append(train_and_evaluate(data, run, write=False, n_boot=min(n_boot, 200)))
        log.info("%s seed %d done", name, s)
    return Row(name, results, (time.time() - t0) / len(seeds))


def row_stats(r: Row, n_boot: int) -> Stats:
    """Seed-mean AUROC with its bootstrap CI, seed sd, AUPRC, oracle on the same samples (computed once)."""
    if r.stats is None:
        y = r.results[0].y
        point = Point(*bootstrap_seed_mean(y, [x.p for x in r.results], n_boot=n_boot))
        per_seed = [bootstrap_seed_mean(y, [x.p], n_boot=1)[0] for x in r.results]
        aupr = float(np.mean([x.metrics["model"].get("aupr", x.metrics["model"].get("macro_aupr"))
                              for x in r.results]))
        orc = r.results[0].oracle
        oracle = Point(*bootstrap_seed_mean(y, [orc], n_boot=n_boot)) if orc is not None else None
        epochs = float(np.mean([x.metrics["training"]["best_epoch"] for x in r.results]))
        sd = float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0
        r.stats = Stats(point, sd, aupr, oracle, epochs)
    return r.stats


def table(rows: Sequence[Row], n_boot: int) -> str:
    """Markdown table: seed-mean AUROC with a 95% bootstrap CI, seed sd, AUPRC, oracle on the same samples."""
    head = ("| configuration | held-out AUROC (mean of seeds) [95% CI] | seed sd | AUPRC | oracle AUROC [95% CI] "
            "| best epoch | s/run |\n|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        st = row_stats(r, n_boot)
        a, o = st.auroc, st.oracle
        o_s = f"{o.mean:.3f} [{o.low:.3f}, {o.high:.3f}]" if o else "n/a"
        lines.append(f"| {r.name} | {a.mean:.3f} [{a.low:.3f}, {a.high:.3f}] | {st.sd:.3f} | {st.aupr:.3f} | {o_s} "
                     f"| {st.best_epoch:.1f} | {r.seconds:.0f} |")
    return "\n".join(lines)


def paired(a: Row, b: Row, n_boot: int) -> str:
    """'A − B: +0.012 [0.003, 0.021]': paired bootstrap of the seed-mean AUROC difference on the same samples."""
    d = bootstrap_paired_diff(a.results[0].y, [x.p for x in a.results], [x.p for x in b.results], n_boot=n_boot)
    return f"{a.name} − {b.name}: {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"


def oracle_of(rows: Sequence[Row], n_boot: int) -> float | None:
    """The oracle AUROC of the first row (every row of a table is scored on the same samples)."""
    o = row_stats(rows[0], n_boot).oracle
    return None if o is None else o.mean


def bar_figure(section: str, rows: Sequence[Row], n_boot: int, title: str) -> str:
    """Write docs/figures/<section>.png (one bar per row) and return its markdown link."""
    path = plots.bar_chart([r.name for r in rows], [row_stats(r, n_boot).auroc for r in rows],
                           oracle_of(rows, n_boot), title, plots.FIGURES / f"{section}.png")
    return figure_link(path)


def figure_link(path: Path) -> str:
    """Markdown image link relative to the results doc."""
    return f"![{path.stem}](figures/{path.name})"


def write_section(name: str, body: str, doc: Path = RESULTS_DOC) -> None:
    """Replace (or append) the section between this experiment's markers in the results doc, atomically."""
    start, end = f"<!-- experiment:{name} start -->", f"<!-- experiment:{name} end -->"
    text = doc.read_text() if doc.exists() else "# Robust fusion: measured results\n"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    with atomic_file(doc) as fh:
        fh.write(text)


def setup_logging() -> None:
    """INFO logs with counts and timings only; one torch thread per experiment process (shared cores)."""
    import torch

    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
