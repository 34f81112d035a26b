from __future__ import annotations

import pytest

from ecgbench.data.dataset import ECGDataset
from ecgbench.testing import tiny_dataset


@pytest.fixture(scope="session")
def phantom() -> ECGDataset:
    """80 phantom records at 100 Hz with their reports, 8 per fold."""
    return tiny_dataset()


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Each test gets its own cache folder (pre-trained networks, dataset caches)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECGBENCH_CACHE", str(folder))
    return folder
