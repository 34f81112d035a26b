from __future__ import annotations

import pytest

from ecgbench.data.dataset import ECGDataset
from ecgbench.testing import tiny_dataset


@pytest.fixture(scope="session")
def phantom() -> ECGDataset:
    """80 phantom records at 100 Hz, 8 per fold."""
    return tiny_dataset()
