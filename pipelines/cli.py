"""The pipeline's steps as commands, for DVC stages (dvc.yaml): the same functions the Kubeflow components call.

    python -m pipelines.cli generate  --out data/cohort
    python -m pipelines.cli ingest    --cohort data/cohort --out data/ingested
    python -m pipelines.cli label     --dataset data/ingested --out data/labels
    python -m pipelines.cli featurize --dataset data/ingested --labels data/labels --task T --out data/features/T
    python -m pipelines.cli profile   --dataset data/ingested --labels data/labels --task T --out data/profile/T
    python -m pipelines.cli pretrain-cxr --dataset data/ingested --out data/cxr_encoder
    python -m pipelines.cli embed     --dataset D --labels L --encoder data/cxr_encoder --task T --out data/embeddings/T
    python -m pipelines.cli search    --features F --labels L --embeddings E --task T --out data/search/T
    python -m pipelines.cli prune     --search S --features F --labels L --embeddings E --task T --out data/model/T
    python -m pipelines.cli evaluate  --model M --features F --labels L --embeddings E --task T --out data/evaluation/T
    python -m pipelines.cli summarize --out data/summary EVAL_DIR ...

Parameters are read from params.yaml (--params), typed and validated once here. Bad input: one line on stderr,
exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from model.errors import DataValidationError
from pipelines.params import PARAMS_FILE, Params, load_params

STEPS = ("generate", "ingest", "label", "featurize", "profile", "pretrain-cxr", "embed", "search", "prune", "evaluate",
         "summarize")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipelines.cli", description="Run one pipeline step (DVC stages).")
    p.add_argument("step", choices=STEPS)
    p.add_argument("--params", default=str(PARAMS_FILE))
    p.add_argument("--out", required=True)
    for opt in ("--cohort", "--dataset", "--labels", "--features", "--search", "--model", "--task", "--encoder",
                "--embeddings"):
        p.add_argument(opt)
    p.add_argument("inputs", nargs="*", help="summarize: the evaluation folders")
    return p


def _need(a: argparse.Namespace, *names: str) -> None:
    missing = [n for n in names if not getattr(a, n)]
    if missing:
        raise DataValidationError(f"step '{a.step}' needs --{missing[0]}", field=missing[0])


def run_step(a: argparse.Namespace) -> dict:
    """Dispatch one step with the typed parameters; return its metadata record."""
    from pipelines import steps

    prm = load_params(a.params)
    search_cfg = {"epochs": prm.search.epochs, "order": prm.search.order,
                  "diversity_lambda": prm.search.diversity_lambda, "seed": prm.search.seed,
                  "overrides": dict(prm.search.overrides)}
    if a.step == "generate":
        return steps.generate_or_skip(prm.ingest.dataset_uri, a.out, n_stays=prm.generate.n_stays,
                                      seed=prm.generate.seed, workers=prm.generate.workers)
    if a.step == "ingest":
        _need(a, "cohort")
        return steps.ingest_step(prm.ingest.dataset_uri or a.cohort, a.out, fmt=prm.ingest.format,
                                 population=prm.ingest.population, anchor_code=prm.ingest.anchor_code,
                                 tasks=prm.label.tasks)
    if a.step == "label":
        _need(a, "dataset")
        return steps.label_step(a.dataset, a.out, tasks=prm.label.tasks, anchor_code=prm.ingest.anchor_code)
    if a.step == "featurize":
        _need(a, "dataset", "labels", "task")
        return steps.featurize_step(a.dataset, a.labels, a.task, a.out, T=prm.featurize.T)
    if a.step == "profile":
        _need(a, "dataset", "labels", "task")
        return steps.profile_step(a.dataset, a.labels, a.task, a.out)
    if a.step == "summarize":
        return steps.summarize_step(a.inputs, a.out)
    if a.step in ("pretrain-cxr", "embed"):
        return _embed_step(a, prm)
    from pipelines import steps_model

    if a.step == "search":
        _need(a, "features", "labels", "task")
        return steps_model.search_step(a.features, a.labels, a.task, a.out, embeddings=a.embeddings, **search_cfg)
    if a.step == "prune":
        _need(a, "search", "features", "labels", "task")
        return steps_model.prune_step(a.search, a.features, a.labels, a.task, a.out, embeddings=a.embeddings,
                                      **search_cfg)
    _need(a, "model", "features", "labels", "task")
    return steps_model.evaluate_step(a.model, a.features, a.labels, a.task, a.out, n_boot=prm.evaluate.n_boot,
                                     embeddings=a.embeddings)


def _embed_step(a: argparse.Namespace, prm: Params) -> dict:
    from pipelines import steps_embed

    e = prm.embed
    if a.step == "pretrain-cxr":
        _need(a, "dataset")
        return steps_embed.pretrain_cxr_step(a.dataset, a.out, enabled=e.cxr, size=e.image_size, clahe=e.clahe,
                                             epochs=e.pretrain_epochs, max_images=e.pretrain_max_images,
                                             seed=prm.search.seed)
    _need(a, "dataset", "labels", "encoder", "task")
    return steps_embed.embed_step(a.dataset, a.labels, a.task, a.encoder, a.out, notes=e.notes, cxr=e.cxr,
                                  note_model_path=e.note_model_path, pooling=e.pooling, max_length=e.max_length,
                                  size=e.image_size, clahe=e.clahe, on_unreadable=e.on_unreadable)


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_intermixed_args(argv)  # summarize takes its inputs after --out
    try:
        record = run_step(a)
    except (DataValidationError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # e.g. a library entry point not in this checkout
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"step": a.step, "out": str(Path(a.out)), **record}, default=str)[:2000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
