"""Bad input: each case breaks one rule of a fresh valid cohort (cases in bad_input_cases.py).

Each expects a DataValidationError that names the file, row and field (and no subject id or note text), from
`validate_meds`, from `ingest` (which must leave nothing behind) and, for a few, through the CLI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bad_input_cases import CASES, Case, truncate

from model.data.ingest import ingest
from model.data.validate import validate_meds
from model.errors import DataValidationError

REPO = Path(__file__).resolve().parents[2]


def _break(make_cohort: Callable[[str], Path], case: Case) -> tuple[str | Path, Path]:
    """A fresh cohort broken by the case: (what to pass as the source, the cohort root)."""
    root = make_cohort("cohort")
    src = case.mutate(root)
    return (src if isinstance(src, str | Path) else root), root


def _assert_names(err: DataValidationError, case: Case, root: Path) -> None:
    text = str(err)
    assert case.text in text
    # No subject ids or note text: only image paths (images/<subject_id>/...) may carry an id, as required.
    bare = text.replace(str(root.parent), "")
    assert "resting" not in bare
    if case.field != "image_path":
        assert not re.search(r"\b10[1-4]\b", bare), bare
    if case.file is None:
        assert err.file is None
    else:
        assert err.file is not None and err.file.endswith(case.file) and case.file in text
    assert err.row == case.row
    if case.row is not None:
        assert f"row {case.row}" in text
    assert err.field == case.field
    if case.field is not None:
        assert f"field '{case.field}'" in text


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_validate_rejects(make_cohort: Callable[[str], Path], case: Case) -> None:
    src, root = _break(make_cohort, case)
    with pytest.raises(DataValidationError) as info:
        validate_meds(src, **(case.kwargs or {}))
    _assert_names(info.value, case, root)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_ingest_rejects_and_writes_nothing(make_cohort: Callable[[str], Path], tmp_path: Path, case: Case) -> None:
    src, root = _break(make_cohort, case)
    out = tmp_path / "out" / "cohort"
    with pytest.raises(DataValidationError) as info:
        ingest(src, out, **(case.kwargs or {}))
    _assert_names(info.value, case, root)
    assert not out.exists()
    assert not (out.parent.exists() and any(out.parent.iterdir()))


def test_image_checks_can_skip_decoding_but_not_paths(make_cohort: Callable[[str], Path]) -> None:
    root = make_cohort("cohort")
    truncate("images/101/9001_0.png", 60)(root)
    assert validate_meds(root, check_images=False).n_image_files == 2
    (root / "images/103/9003_0.dcm").unlink()
    with pytest.raises(DataValidationError, match="does not exist"):
        validate_meds(root, check_images=False)


CLI_CASES = ["time-string", "subject-in-two-shards", "truncated-png", "dataset_json-bad-json", "non-local-uri"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_bad_input_exit_2_one_line_nothing_written(
    make_cohort: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    src, _ = _break(make_cohort, case)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "model.data.ingest", "ingest", str(src), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert case.text in lines[0] and (case.file or "") in lines[0]
    assert proc.stdout == ""
    assert not out.exists()
