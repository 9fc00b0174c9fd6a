"""Genotype JSON round trip and validation; derived model equals the pruned supernet; safetensors round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model.derived import DerivedModel, load_derived, save_derived
from model.search.derive import derive_model, discretise_to, genotype_of
from model.search.genotype import Genotype
from model.search.selection import argmax_genotype
from model.search.supernet import Supernet
from model.search.toy_data import ToyCohort


def _random_discrete(net: Supernet, seed: int) -> Genotype:
    rng = np.random.default_rng(seed)
    for e in net.edges().values():
        e.alive.fill_(True)
        e.keep_only(int(rng.integers(len(e.op_names))))
    return genotype_of(net, "test")


def test_genotype_json_round_trip(supernet: Supernet) -> None:
    g = _random_discrete(supernet, 0)
    text = g.to_json()
    data = json.loads(text)
    assert data["schema_version"] == 1 and set(data["cells"]) == set(supernet.config.modality_names)
    assert Genotype.from_json(text) == g
    assert Genotype.from_json(text).digest() == g.digest()


@pytest.mark.parametrize("mutate,match", [
    (lambda d: d.update(schema_version=99), "schema_version"),
    (lambda d: d["cells"]["notes"].__setitem__(0, "rnn"), "not among"),
    (lambda d: d["nodes"][0].__setitem__("inputs", ["g2"]), "inputs"),
    (lambda d: d["nodes"][1].__setitem__("op", "concat"), "fusion op"),
    (lambda d: d["cells"].pop("cxr"), "cells"),
])
def test_genotype_rejects_bad_content(supernet: Supernet, mutate, match: str) -> None:  # noqa: ANN001
    data = _random_discrete(supernet, 1).to_dict()
    mutate(data)
    with pytest.raises(ValueError, match=match):
        Genotype.from_dict(data)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derived_equals_discrete_supernet(supernet: Supernet, cohort: ToyCohort, seed: int) -> None:
    g = _random_discrete(supernet, seed)
    derived = derive_model(supernet, g).eval()
    batch = cohort.batch(np.arange(10))
    torch.testing.assert_close(derived(batch), supernet(batch))
    # Only the chosen ops are instantiated: fewer parameters than the supernet.
    assert sum(p.numel() for p in derived.parameters()) < sum(p.numel() for p in supernet.weight_parameters())


def test_argmax_and_discretise_to_agree(supernet: Supernet) -> None:
    g = argmax_genotype(supernet)
    assert not supernet.is_discrete()  # argmax leaves the supernet as it was
    discretise_to(supernet, g)
    assert genotype_of(supernet, "darts_argmax") == g


def test_safetensors_round_trip_without_supernet(supernet: Supernet, cohort: ToyCohort, tmp_path: Path) -> None:
    g = _random_discrete(supernet, 3)
    derived = derive_model(supernet, g).eval()
    out_dir = save_derived(derived, tmp_path / "model")
    assert sorted(p.name for p in out_dir.iterdir()) == ["genotype.json", "weights.safetensors"]
    loaded = load_derived(out_dir)
    batch = cohort.batch(np.arange(10))
    torch.testing.assert_close(loaded(batch), derived(batch))
    # A fresh interpreter loads it without importing any supernet code.
    code = ("import sys; from model.derived import load_derived; load_derived(sys.argv[1]); "
            "bad = [m for m in sys.modules if m.endswith(('supernet', 'mixed', 'bilevel', 'prune'))]; "
            "assert not bad, bad; assert 'pickle' not in open(sys.argv[1] + '/genotype.json').read()")
    subprocess.run([sys.executable, "-c", code, str(out_dir)], check=True, cwd=Path(__file__).parents[2])


def test_load_rejects_mismatched_weights(supernet: Supernet, tmp_path: Path) -> None:
    g = _random_discrete(supernet, 4)
    save_derived(DerivedModel(g), tmp_path / "a")
    other = _random_discrete(supernet, 5)
    assert other != g
    other.save(tmp_path / "a" / "genotype.json")
    with pytest.raises(ValueError, match="do not match"):
        load_derived(tmp_path / "a")
