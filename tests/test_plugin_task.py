"""A task registered by a plugin, not the core, runs through every command like a built-in one."""

from __future__ import annotations

import json

import pytest
from fake_plugins import entry_point
from toy_task import TASK, plugin

from ecgbench import registry as registry_module
from ecgbench.cli import main
from ecgbench.registry import Registry
from ecgbench.testing import TaskContract
from ecgbench.validate import validate_model


@pytest.fixture(autouse=True)
def toy_plugin(monkeypatch):
    """Every Registry() of these tests (the CLI's too) finds the toy plugin through an entry point."""
    monkeypatch.setattr(registry_module, "_entry_points", lambda: [entry_point("toy", plugin())])
    monkeypatch.setenv("ECGBENCH_LOAD_PLUGINS", "toy")


def test_the_plugin_task_is_listed_with_the_builtin_ones(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert TASK in out and "classify-71-labels" in out
    assert Registry().plugin_of("task", TASK).name == "toy"


def test_validate_checks_the_protocol_and_repeat_check_the_task_names():
    checks = {c.clause: c for c in validate_model("mean-rate")}
    assert checks["implements RateModel"].ok
    assert checks["outputs repeat for the same input and seed"].ok
    assert all(c.ok for c in checks.values()), checks


def test_run_leaderboard_and_score_work_for_the_plugin_task(tmp_path, capsys):
    results, boards = tmp_path / "results", tmp_path / "lb"
    code = main(["run", "--task", TASK, "--plugin", "mean-rate", "--set", "data.n_records=60", "--out", str(results),
                 "--leaderboards", str(boards), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert (boards / f"{TASK}.md").exists()
    record = json.loads(next((results / TASK / "mean-rate").glob("*.json")).read_text())
    samples = next((results / TASK / "mean-rate").glob("*.samples.npz"))
    capsys.readouterr()
    assert main(["score", "--task", TASK, "--samples", str(samples), "--json"]) == 0
    rescored = json.loads(capsys.readouterr().out)
    assert rescored[0]["value"] == pytest.approx(record["metrics"][0]["value"])


class TestToyContract(TaskContract):
    """A plugin's contract class for its own task, and a model's one-line test of it."""

    task = TASK
    model = "mean-rate"
