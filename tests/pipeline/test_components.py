"""Components, tier 1: each component's python_func on fake artifacts whose .path points into tmp_path (the real
library underneath), plus the component-file policy (stdlib + kfp imports, one image setting)."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from components.featurize.component import featurize
from components.generate.component import generate
from components.ingest.component import ingest
from components.label.component import label
from components.profile.component import profile
from components.summarize.component import summarize

REPO = Path(__file__).resolve().parents[2]
COMPONENT_FILES = sorted((REPO / "components").glob("*/component.py"))
IMAGES = json.loads((REPO / "components" / "images.json").read_text())


def art(path: Path) -> SimpleNamespace:
    return SimpleNamespace(path=str(path), metadata={})


def test_component_files_import_only_stdlib_and_kfp():
    assert len(COMPONENT_FILES) == 11
    for f in COMPONENT_FILES:
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    assert top == "kfp" or top in sys.stdlib_module_names, f"{f}: top-level import {name}"


def test_every_component_names_its_image_from_the_one_setting():
    from pipelines import autofm_pipeline as p

    comps = [p.generate, p.ingest, p.label, p.featurize, p.profile, p.pretrain_cxr, p.embed, p.search, p.prune,
             p.evaluate, p.summarize]
    for c in comps:
        image = c.component_spec.implementation.container.image
        assert image in (IMAGES["cpu"], IMAGES["cuda"]), (c.name, image)
        assert "pip install" not in " ".join(c.component_spec.implementation.container.command)
    assert p.search.component_spec.implementation.container.image == IMAGES["cuda"]


def test_generate_skips_when_a_dataset_uri_is_given(tmp_path):
    cohort = art(tmp_path / "cohort")
    generate.python_func(dataset_uri="s3://b/meds", n_stays=10, seed=0, cohort=cohort)
    assert cohort.metadata == {"skipped": True, "dataset_uri": "s3://b/meds"}
    assert json.loads((tmp_path / "cohort" / "SOURCE.json").read_text())["dataset_uri"] == "s3://b/meds"


def test_data_components_chain(small_cohort, tmp_path):
    ds, lab = art(tmp_path / "ingested"), art(tmp_path / "labels")
    ingest.python_func(cohort=art(small_cohort), dataset_uri="", dataset_format="meds", population_uri="",
                       tasks=["mortality"], dataset=ds)
    assert ds.metadata["n_subjects"] > 100 and len(ds.metadata["sha256"]) == 64
    label.python_func(dataset=ds, tasks=["mortality"], labels=lab)
    assert lab.metadata["tasks"]["mortality"]["n"] > 100
    feats, ref = art(tmp_path / "features"), art(tmp_path / "profile")
    featurize.python_func(dataset=ds, labels=lab, task="mortality", T=0, features=feats)
    assert feats.metadata["T"] == 48 and feats.metadata["n_features"]["E"] > 10
    profile.python_func(dataset=ds, labels=lab, task="mortality", reference=ref)
    assert set(ref.metadata["presence_rate"]) == {"labs", "interventions", "notes", "images"}
    with pytest.raises(ValueError, match="T=12 h but task 'mortality' predicts at anchor \\+ 48 h"):
        featurize.python_func(dataset=ds, labels=lab, task="mortality", T=12, features=art(tmp_path / "f2"))
    assert not (tmp_path / "f2").exists()


def test_ingest_bad_input_names_the_problem_and_writes_nothing(tmp_path):
    out = art(tmp_path / "ingested")
    with pytest.raises(ValueError, match="does-not-exist"):
        ingest.python_func(cohort=art(tmp_path / "none"), dataset_uri=str(tmp_path / "does-not-exist"),
                           dataset_format="meds", population_uri="", tasks=["mortality"], dataset=out)
    assert not (tmp_path / "ingested").exists()


def test_summarize_collects_records(tmp_path):
    dirs = []
    for task, auroc in (("mortality", 0.8), ("arf", 0.9)):
        d = tmp_path / task
        d.mkdir()
        (d / "record.json").write_text(json.dumps({"task": task, "auroc": auroc, "report": "report.html"}))
        dirs.append(art(d))
    out = art(tmp_path / "summary")
    summarize.python_func(evaluations=dirs, summary=out)
    s = json.loads((tmp_path / "summary" / "summary.json").read_text())
    assert s["tasks"]["arf"]["auroc"] == 0.9 and s["tasks"]["mortality"]["report"].endswith("mortality/report.html")
    assert out.metadata["tasks"] == ["arf", "mortality"]
