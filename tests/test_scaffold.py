"""`ecgbench new-plugin`: a package that installs, registers, passes its contract test."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys

import pytest
from fake_plugins import entry_point

from ecgbench.cli import main
from ecgbench.errors import ConfigError
from ecgbench.registry import Registry
from ecgbench.scaffold import MODELS, write_plugin
from ecgbench.validate import validate_model


def test_the_package_has_an_entry_point_a_spec_a_model_a_readme_and_a_contract_test(tmp_path):
    folder = write_plugin("my-model", "classify-71-labels", tmp_path)
    assert folder == tmp_path / "ecgbench-my-model"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "src/ecgbench_my_model/__init__.py",
        "src/ecgbench_my_model/model.py",
        "src/ecgbench_my_model/plugin.py",
        "tests/test_ecgbench_my_model_contract.py",
    ]
    assert 'my-model = "ecgbench_my_model.plugin"' in (folder / "pyproject.toml").read_text()
    assert 'model = "my-model"' in (folder / "tests" / "test_ecgbench_my_model_contract.py").read_text()


@pytest.mark.parametrize("task", sorted(MODELS))
def test_the_starting_model_of_every_task_passes_its_contract(task, tmp_path, monkeypatch):
    name = f"start-{task.split('-')[0]}"
    folder = write_plugin(name, task, tmp_path)
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS")  # the registry below is given its one entry point
    monkeypatch.syspath_prepend(str(folder / "src"))
    plugin = importlib.import_module(f"ecgbench_{name.replace('-', '_')}.plugin")
    registry = Registry(entry_points=[entry_point(name, plugin)])
    failed = [f"{c.clause}: {c.detail}" for c in validate_model(name, {}, registry=registry) if not c.ok]
    assert not failed


@pytest.mark.parametrize(("name", "task", "message"), [
    ("My_Model", "generate", "lower case"),
    ("mymodel", "no-such-task", "no starting model"),
])
def test_bad_names_and_tasks_are_config_errors(name, task, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        write_plugin(name, task, tmp_path)


def test_an_existing_folder_is_never_overwritten(tmp_path):
    write_plugin("mymodel", "generate", tmp_path)
    with pytest.raises(ConfigError, match="exists already"):
        write_plugin("mymodel", "generate", tmp_path)


def test_an_unknown_task_on_the_command_line_is_a_usage_error(tmp_path, capsys):
    assert main(["new-plugin", "mymodel", "--task", "classify", "--out", str(tmp_path)]) == 2
    assert "classify-71-labels" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("setuptools") is None,
                    reason="installing without build isolation needs setuptools in this environment")
def test_scaffold_install_test_and_validate_from_the_command_line(tmp_path):
    """What a plugin author does, end to end: scaffold, pip install -e, its tests, validate."""
    assert main(["new-plugin", "scaffolded", "--task", "classify-71-labels", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "ecgbench-scaffolded"
    env = {k: v for k, v in os.environ.items() if k != "ECGBENCH_LOAD_PLUGINS"}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(folder)], check=True, env=env)
    try:
        tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
                               capture_output=True, text=True, env=env, cwd=folder)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        validate = subprocess.run([sys.executable, "-m", "ecgbench.cli", "validate", "--plugin", "scaffolded"],
                                  capture_output=True, text=True, env=env)
        assert validate.returncode == 0 and "FAIL" not in validate.stdout, validate.stdout + validate.stderr
    finally:
        subprocess.run([*pip, "uninstall", "-y", "ecgbench-scaffolded"], check=True, env=env)
