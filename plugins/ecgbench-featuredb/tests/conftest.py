"""Fixtures: the shared real-data folder (tests that need it skip where it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_data() -> Path:
    """The shared real-data folder: $ECGBENCH_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("ECGBENCH_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


@pytest.fixture
def qtdb_sample() -> Path:
    folder = shared_data() / "qtdb-sample"
    if not folder.is_dir():
        pytest.skip(f"QT Database sample not found at {folder}")
    return folder


@pytest.fixture
def qtdb_dev() -> Path:
    folder = shared_data() / "qtdb-dev"
    if not folder.is_dir():
        pytest.skip(f"QT Database development set not found at {folder}")
    return folder
