"""Core tests never see the plugins installed on the machine (as llm and datasette do it):
a test that wants an installed plugin asks for it with the `installed_plugins` fixture."""

import pytest


@pytest.fixture(autouse=True)
def no_installed_plugins(monkeypatch):
    monkeypatch.setenv("ECGBENCH_LOAD_PLUGINS", "")


@pytest.fixture
def installed_plugins(monkeypatch):
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own cache folder (checkpoints, dataset caches, floors), not yet created."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECGBENCH_CACHE", str(folder))
    return folder
