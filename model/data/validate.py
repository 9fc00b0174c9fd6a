"""Validate a MEDS cohort on disk and summarise it: `validate_meds(root) -> ValidationReport`.

Rules (docs/data-conventions.md) and where they live: column types and row rules per shard (validate_events),
metadata files (validate_metadata), referenced images (validate_images); the cross-shard rules (each subject in one
shard, a non-empty cohort with anchor events, required task codes, subject splits) are here.

Policy for soft problems, reported as warnings and counts rather than errors: data subjects absent from
subject_splits.parquet (MEDS allows unsplit subjects, e.g. a cohort only scored at inference), split subjects
absent from the data, and data codes absent from codes.parquet (meds-testing-helpers itself writes an empty one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from model.data.meds_reader import CODES_PARQUET, DATASET_JSON, SPLITS_PARQUET, MedsDataset, open_meds
from model.data.validate_events import check_shard_schema, check_utf8, read_shard_schema, scan_shard_rows
from model.data.validate_images import check_images as check_image_refs
from model.data.validate_metadata import check_codes_parquet, check_dataset_json, check_subject_splits
from model.errors import DataValidationError

logger = logging.getLogger(__name__)


@dataclass
class ValidationReport:
    """Counts and warnings from a successful validation.

    Attributes:
        root: The cohort root.
        anchor_code: The anchor code prefix used.
        image_column: The image-path column, or None.
        n_shards: Number of data files.
        n_events: Number of event rows.
        n_subjects: Number of distinct subjects.
        n_anchor_events: Events whose code matches the anchor prefix.
        n_subjects_with_anchor: Subjects with at least one anchor event.
        n_images: Events that reference an image.
        n_image_files: Distinct image files referenced.
        codes_count: Number of distinct codes.
        code_prefix_counts: Events per code prefix (the part before the first "//").
        split_counts: Subjects per split in subject_splits.parquet.
        required_code_matches: Per task, the number of distinct data codes matching its patterns.
        n_subjects_without_split: Data subjects absent from subject_splits.parquet (warning).
        n_split_subjects_without_data: Split subjects absent from the data (warning).
        n_codes_missing_from_metadata: Data codes absent from codes.parquet (warning).
        images_decoded: Whether images were decoded (paths are always checked).
        warnings: Human-readable warnings (no identifiers).
    """

    root: str
    anchor_code: str
    image_column: str | None = None
    n_shards: int = 0
    n_events: int = 0
    n_subjects: int = 0
    n_anchor_events: int = 0
    n_subjects_with_anchor: int = 0
    n_images: int = 0
    n_image_files: int = 0
    codes_count: int = 0
    code_prefix_counts: dict[str, int] = field(default_factory=dict)
    split_counts: dict[str, int] = field(default_factory=dict)
    required_code_matches: dict[str, int] = field(default_factory=dict)
    n_subjects_without_split: int = 0
    n_split_subjects_without_data: int = 0
    n_codes_missing_from_metadata: int = 0
    images_decoded: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of the report."""
        return asdict(self)


def _check_required_codes(codes: pl.DataFrame, required: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Check that each task's code patterns (regex, search semantics) match at least one data code."""
    matches: dict[str, int] = {}
    for task, patterns in required.items():
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        hit = pl.lit(False)
        for pattern in patterns:
            hit = hit | pl.col("code").str.contains(pattern)
        try:
            matches[task] = codes.filter(hit).height
        except pl.exceptions.PolarsError as exc:
            raise DataValidationError(
                f"task '{task}': invalid code pattern in {patterns}",
                field="required_codes",
                expected="valid regular expressions",
            ) from exc
        if matches[task] == 0:
            raise DataValidationError(
                f"task '{task}': no code in the data matches any of {patterns}",
                field="required_codes",
                expected="at least one event whose code matches one pattern",
            )
    return matches


def _scan_shards(ds: MedsDataset, report: ValidationReport) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Check every shard; return (subjects with their shard index, code counts, image references)."""
    subjects, images = [], []
    codes = pl.DataFrame(schema={"code": pl.String, "n": pl.UInt32})
    for i, path in enumerate(ds.shard_paths):
        logger.info("validating shard %d/%d: %s", i + 1, len(ds.shard_paths), path)
        schema = read_shard_schema(path)
        check_shard_schema(path, schema, ds.image_column)
        check_utf8(path, [c for c in ("code", "text_value", ds.image_column) if c and c in schema.names])
        stats = scan_shard_rows(path, schema, report.anchor_code, ds.image_column)
        report.n_events += stats.n_events
        subjects.append(stats.subjects.with_columns(pl.lit(i, pl.Int32).alias("shard")))
        images.append(stats.images.with_columns(pl.lit(str(path)).alias("file")))
        # Merge code counts as we go so memory tracks the vocabulary, not the number of shards.
        codes = pl.concat([codes, stats.code_counts.cast({"n": pl.UInt32})]).group_by("code").agg(pl.col("n").sum())
    subj = (
        pl.concat(subjects)
        if subjects
        else pl.DataFrame(
            schema={"subject_id": pl.Int64, "first_row": pl.UInt32, "n_anchor": pl.UInt32, "shard": pl.Int32}
        )
    )
    dup = subj.filter(pl.col("subject_id").is_duplicated()).sort("shard").head(1)
    if dup.height:
        other = subj.filter(pl.col("subject_id") == dup["subject_id"][0]).sort("shard")
        a, b = (ds.shard_paths[k] for k in other["shard"][:2])
        raise DataValidationError(
            f"a subject appears in two files: {a} and {b}",
            file=str(b),
            row=int(other["first_row"][1]),
            field="subject_id",
            expected="each subject in exactly one file",
        )
    refs = (
        pl.concat(images)
        if images
        else pl.DataFrame(schema={"_row": pl.UInt32, "image_path": pl.String, "file": pl.String})
    )
    return subj, codes, refs


def _check_splits(ds: MedsDataset, subj: pl.DataFrame, report: ValidationReport) -> None:
    pairs = check_subject_splits(ds.root / SPLITS_PARQUET)
    report.split_counts = dict(pairs.group_by("split").len().sort("split").iter_rows())
    ids = subj.select("subject_id")
    report.n_subjects_without_split = ids.join(pairs, on="subject_id", how="anti").height
    report.n_split_subjects_without_data = pairs.join(ids, on="subject_id", how="anti").height
    if report.n_subjects_without_split:
        report.warnings.append(f"{report.n_subjects_without_split} data subjects have no split")
    if report.n_split_subjects_without_data:
        report.warnings.append(f"{report.n_split_subjects_without_data} split subjects have no events")


def validate_meds(
    root: str | Path,
    *,
    anchor_code: str = "ICU_ADMISSION",
    required_codes: Mapping[str, Sequence[str]] | None = None,
    check_images: bool = True,
) -> ValidationReport:
    """Validate a MEDS cohort and count what it holds, streaming shard by shard.

    Args:
        root: Cohort root (local path or file:// URI).
        anchor_code: Code prefix of stay anchors: a code matches if it equals it or starts with it + "//".
        required_codes: Task name -> code regex patterns (search semantics: anchor with ^...$ for whole codes);
            at least one must match a code present in the data.
        check_images: Decode every referenced image; when false, image paths are still checked (inside the root,
            file exists) but not decoded.

    Returns:
        The report.

    Raises:
        DataValidationError: The first rule broken, naming file, row, field and what was expected.
    """
    ds = open_meds(root)
    report = ValidationReport(
        root=str(ds.root),
        anchor_code=anchor_code,
        image_column=ds.image_column,
        n_shards=len(ds.shard_paths),
        images_decoded=check_images,
    )
    check_dataset_json(ds.metadata, ds.root / DATASET_JSON)
    subj, codes, refs = _scan_shards(ds, report)
    data_dir = str(ds.root / "data")
    if report.n_events == 0:
        raise DataValidationError("empty cohort: no events in any shard", file=data_dir, expected="at least one event")
    report.n_subjects = subj.height
    report.n_anchor_events = int(subj["n_anchor"].sum())
    report.n_subjects_with_anchor = subj.filter(pl.col("n_anchor") > 0).height
    if report.n_subjects_with_anchor == 0:
        raise DataValidationError(
            f"empty cohort: no subject has an anchor event (code '{anchor_code}' or '{anchor_code}//...')",
            file=data_dir,
            field="code",
            expected="at least one anchor event (see --anchor-code)",
        )
    report.codes_count = codes.height
    report.code_prefix_counts = dict(
        codes.group_by(pl.col("code").str.split("//").list.first().alias("prefix"))
        .agg(pl.col("n").sum())
        .sort("prefix")
        .iter_rows()
    )
    if required_codes:
        report.required_code_matches = _check_required_codes(codes.select("code"), required_codes)
    if ds.has_codes:
        listed = check_codes_parquet(ds.root / CODES_PARQUET)
        report.n_codes_missing_from_metadata = codes.join(listed, on="code", how="anti").height
        if report.n_codes_missing_from_metadata:
            report.warnings.append(f"{report.n_codes_missing_from_metadata} data codes are not in codes.parquet")
    if ds.has_splits:
        _check_splits(ds, subj, report)
    if ds.image_column:
        report.n_images = refs.height
        report.n_image_files = check_image_refs(ds.root, refs, ds.image_column, decode=check_images)
    return report
