"""Where the real data samples live, and the skip for machines without them.

The samples sit beside the repository in ``../shared/data`` (read-only, never copied into the
repository), or wherever ``ECGBENCH_SHARED_DATA`` points. Tests import from here::

    from shared_data import shared_sample, uses_shared_data

    @uses_shared_data                          # or, for a whole module: pytestmark = shared_data_marks
    def test_...():
        root = shared_sample("ptbxl-sample")   # skips with a reason when that folder is absent
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """The shared data folder, or None when it does not exist on this machine."""
    configured = os.environ.get("ECGBENCH_SHARED_DATA")
    folder = Path(configured) if configured else _REPO_ROOT / ".." / "shared" / "data"
    return folder.resolve() if folder.is_dir() else None


def shared_sample(name: str) -> Path:
    """One sample folder (e.g. 'ptbxl-sample'); skips the calling test when it is absent."""
    root = shared_data_dir()
    if root is None or not (root / name).is_dir():
        pytest.skip(
            f"real data sample {name!r} not found (set ECGBENCH_SHARED_DATA or provide ../shared/data)"
        )
    return root / name


#: Marks a test (or module, as ``pytestmark``) that reads ../shared/data; skipped where it is absent.
requires_shared_data = pytest.mark.skipif(
    shared_data_dir() is None,
    reason="real data samples not found (set ECGBENCH_SHARED_DATA or provide ../shared/data)",
)

#: For a module that reads the samples throughout: ``pytestmark = shared_data_marks``.
shared_data_marks = [pytest.mark.shared_data, requires_shared_data]


def uses_shared_data(test):
    """Decorator for one test that reads the samples: marks it ``shared_data`` and skips it where absent."""
    return pytest.mark.shared_data(requires_shared_data(test))
