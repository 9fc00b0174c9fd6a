"""Sequential cells' pooling over time: max (the paper) and max_mean (max and mean, projected back to d_e)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from search_helpers import tiny_config

from model.derived import load_derived, save_derived
from model.search.cells import ModalityCell, masked_mean_pool
from model.search.derive import derive_model, genotype_of
from model.search.embedding import Embedded
from model.search.spec import SearchSpaceConfig
from model.search.supernet import Supernet
from model.search.toy_data import random_cohort


def test_mean_pool_ignores_padding_and_empty_rows() -> None:
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[5.0], [7.0], [9.0]]])
    mask = torch.tensor([[True, True, False], [False, False, False]])
    out = masked_mean_pool(x, mask)
    torch.testing.assert_close(out, torch.tensor([[2.0], [0.0]]))


def _cell_output(pooling: str, steps_on: int) -> torch.Tensor:
    x = torch.zeros(1, 6, 4)
    x[0, :steps_on, 0] = 1.0  # one state lasting ``steps_on`` of the 6 valid steps
    cell = ModalityCell("M", True, [], pooling, d_e=4)
    return cell({"M": Embedded(x, torch.ones(1, 6, dtype=torch.bool))})


def test_max_mean_sees_duration_max_does_not() -> None:
    torch.testing.assert_close(_cell_output("max", 1), _cell_output("max", 5))
    short, long = _cell_output("max_mean", 1), _cell_output("max_mean", 5)
    # At initialisation the projection is max + mean: 1 + 1/6 against 1 + 5/6.
    torch.testing.assert_close(short[0, 0], torch.tensor(1 + 1 / 6))
    torch.testing.assert_close(long[0, 0], torch.tensor(1 + 5 / 6))


def test_absent_sequence_gives_zero_with_max_mean() -> None:
    cell = ModalityCell("M", True, [], "max_mean", d_e=3)
    with torch.no_grad():
        cell.pool_proj.bias.fill_(0.5)  # a trained bias must not leak into absent samples
    out = cell({"M": Embedded(torch.zeros(2, 4, 3), torch.tensor([[True] * 4, [False] * 4]))})
    assert torch.all(out[1] == 0) and torch.all(out[0] == 0.5)


def test_pooling_validated_and_old_configs_default_to_max() -> None:
    with pytest.raises(ValueError, match="pooling"):
        tiny_config(pooling="mean")
    data = tiny_config().to_dict()
    data.pop("pooling")
    assert SearchSpaceConfig.from_dict(data).pooling == "max"


@pytest.mark.parametrize("seed", [0, 1])
def test_max_mean_derived_equals_supernet_and_round_trips(seed: int, tmp_path: Path) -> None:
    config = tiny_config(pooling="max_mean")
    torch.manual_seed(seed)
    net = Supernet(config).eval()
    with torch.no_grad():  # move the projections away from their init so a lost copy would show
        for cell in net.cells.values():
            if cell.pool_proj is not None:
                cell.pool_proj.weight.add_(0.1 * torch.randn_like(cell.pool_proj.weight))
    rng = np.random.default_rng(seed)
    for e in net.edges().values():
        e.keep_only(int(rng.integers(len(e.op_names))))
    derived = derive_model(net, genotype_of(net, "test")).eval()
    batch = random_cohort(config, 12, 5, density=0.2, seed=seed, p_present=0.7, min_len=2).batch(np.arange(12))
    torch.testing.assert_close(derived(batch), net(batch))
    loaded = load_derived(save_derived(derived, tmp_path / "model"))
    assert loaded.config.pooling == "max_mean"
    torch.testing.assert_close(loaded(batch), derived(batch))
