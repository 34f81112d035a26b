"""Contract test classes: subclass one per model and set ``model`` (and optionally ``overrides``).

Each class checks the clauses every model of a task must meet: it is registered by an installed
plugin, its ci and paper configs validate, and ``ecgbench validate`` passes on a tiny phantom
cohort (the run completes, every output passes the contract checks, outputs repeat for a fixed
seed).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ecgbench.registry import Registry
from ecgbench.validate import validate_model


class _ContractTest:
    task: ClassVar[str]
    model: ClassVar[str]
    overrides: ClassVar[dict[str, Any]] = {}

    def test_model_is_registered_by_a_loaded_plugin(self) -> None:
        registry = Registry()
        spec = registry.model(self.model)
        assert spec.task == self.task
        assert registry.plugin_of("model", spec.name).status == "ok"

    def test_every_contract_clause_holds(self) -> None:
        checks = validate_model(self.model, self.overrides)
        failed = [f"{c.clause}: {c.detail}" for c in checks if not c.ok]
        assert not failed, "\n".join(failed)


class GenerateContract(_ContractTest):
    task = "generate"


class ClassifyContract(_ContractTest):
    task = "classify-71-labels"


class IntervalsContract(_ContractTest):
    task = "measure-intervals"


class ImageContract(_ContractTest):
    task = "interpret-image"
