"""Typed parameters of the pipeline, read once at an entry point from params.yaml (grouped by stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from model.data.tasks import BINARY_TASKS
from model.errors import DataValidationError

REPO = Path(__file__).resolve().parents[1]
PARAMS_FILE = REPO / "params.yaml"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenerateParams(_Group):
    n_stays: int = Field(2000, ge=1)
    seed: int = 0
    workers: int = Field(2, ge=1)


class IngestParams(_Group):
    dataset_uri: str = ""
    format: Literal["meds", "fiddle"] = "meds"
    population: str = ""
    anchor_code: str = "ICU_ADMISSION"


class LabelParams(_Group):
    tasks: tuple[str, ...] = ("mortality", "arf")

    @field_validator("tasks")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if t not in BINARY_TASKS]
        if bad or not v:
            raise ValueError(f"unknown or no tasks {bad}: expected some of {sorted(BINARY_TASKS)}")
        return v


class FeaturizeParams(_Group):
    T: int = Field(0, ge=0)


class EmbedParams(_Group):
    notes: bool = True
    cxr: bool = True
    note_model_path: str = ""
    pooling: Literal["cls", "mean"] = "cls"
    max_length: int = Field(256, ge=8, le=8192)
    image_size: int = Field(128, ge=16, le=1024)
    clahe: bool = True
    on_unreadable: Literal["error", "missing"] = "error"
    pretrain_epochs: int = Field(3, ge=1)
    pretrain_max_images: int = Field(0, ge=0)


class SearchParams(_Group):
    epochs: int = Field(2, ge=1)
    order: Literal["first", "second"] = "first"
    diversity_lambda: float = Field(0.1, ge=0)
    seed: int = 0
    overrides: dict[str, Any] = {}


class EvaluateParams(_Group):
    n_boot: int = Field(200, ge=0)


class Params(_Group):
    """All stages' parameters; unknown keys are errors (a typo must not silently fall back to a default)."""

    generate: GenerateParams = GenerateParams()
    ingest: IngestParams = IngestParams()
    label: LabelParams = LabelParams()
    featurize: FeaturizeParams = FeaturizeParams()
    embed: EmbedParams = EmbedParams()
    search: SearchParams = SearchParams()
    evaluate: EvaluateParams = EvaluateParams()


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml.

    Raises:
        DataValidationError: The file is missing, not YAML, or a field is unknown or out of range (named).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise DataValidationError(f"cannot read parameters: {e}", file=str(path)) from e
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise DataValidationError(err["msg"], file=str(path), field=field) from e
