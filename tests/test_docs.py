"""Documentation kept honest by tests (as datasette does it)."""

import inspect
from pathlib import Path

from ecgbench import hookspecs
from ecgbench.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


def _hooks():
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("ecgbench_")
    ]


def test_every_hook_is_documented_with_its_signature():
    text = (ROOT / "docs" / "plugins.md").read_text()
    for name in _hooks():
        args = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### `{name}({args})`" in text, (
            f"docs/plugins.md lacks a heading for {name}({args})"
        )


def test_every_hook_has_a_docstring():
    for name in _hooks():
        assert inspect.getdoc(getattr(hookspecs, name))


def test_every_builtin_metric_says_which_direction_is_better():
    registry = Registry(entry_points=[])
    for task in registry.specs["task"].values():
        assert task.metric(task.main_metric) is not None
        for metric in task.metrics:
            assert metric.description, f"{task.name}: metric {metric.name} has no description"


def test_every_task_and_dataset_appears_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    registry = Registry(entry_points=[])
    for kind in ("task", "dataset"):
        for name in registry.specs[kind]:
            assert f"`{name}`" in readme, f"README.md does not mention the {kind} {name}"
