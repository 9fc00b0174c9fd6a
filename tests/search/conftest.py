"""Tiny seeded search spaces and cohorts shared by the search tests."""

from __future__ import annotations

import pytest
import torch
from search_helpers import tiny_config

from model.search.spec import SearchSpaceConfig
from model.search.supernet import Supernet
from model.search.toy_data import ToyCohort, random_cohort


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    # Tiny tensors: a second intra-op thread only adds barrier waits on a shared, busy 2-core machine.
    torch.set_num_threads(1)


@pytest.fixture
def config() -> SearchSpaceConfig:
    return tiny_config()


@pytest.fixture
def supernet(config: SearchSpaceConfig) -> Supernet:
    torch.manual_seed(0)
    return Supernet(config).eval()


@pytest.fixture
def cohort(config: SearchSpaceConfig) -> ToyCohort:
    return random_cohort(config, 24, 5, density=0.2, seed=1, p_present=0.7, min_len=2)
