"""Contract test classes: subclass one per model and set ``model`` (and optionally ``overrides``).

Each class checks the clauses every model of a task must meet: it is registered by an installed
plugin, its ci and paper configs validate, and ``ecgbench validate`` passes on a tiny phantom
cohort (the run completes, every output passes the contract checks, outputs repeat for a fixed
seed). Interval measurers must moreover abstain on records they cannot read (flat, noise,
spikes) instead of failing the run or returning values no heart produces. A plugin that
registers a task of its own ships its contract class the same way, as a subclass of
:class:`TaskContract` that names the task.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ecgbench.registry import Registry
from ecgbench.validate import validate_model


class TaskContract:
    """The clauses every model of ``task`` meets; a task's contract class sets ``task``, a model's
    test class sets ``model`` (and ``overrides``, on top of the spec's ``validate_overrides``)."""

    task: ClassVar[str]
    model: ClassVar[str]
    overrides: ClassVar[dict[str, Any]] = {}

    def test_model_is_registered_by_a_loaded_plugin(self) -> None:
        registry = Registry()
        spec = registry.model(self.model)
        assert spec.task == registry.task(self.task).name
        assert registry.plugin_of("model", spec.name).status == "ok"

    def test_every_contract_clause_holds(self) -> None:
        checks = validate_model(self.model, self.overrides)
        failed = [f"{c.clause}: {c.detail}" for c in checks if not c.ok]
        assert not failed, "\n".join(failed)


class GenerateContract(TaskContract):
    task = "generate"


class ClassifyContract(TaskContract):
    task = "classify-71-labels"


class IntervalsContract(TaskContract):
    task = "measure-intervals"

    def test_records_it_cannot_read_are_abstained_on_not_errors(self) -> None:
        from ecgbench.context import RunContext
        from ecgbench.contracts.intervals import PHYSIOLOGICAL, check_measurements
        from ecgbench.runner import resolve_model_config
        from ecgbench.specs import load_object

        spec = Registry().model(self.model)
        model = load_object(spec.factory)(resolve_model_config(spec, "ci", dict(self.overrides)), RunContext(quiet=True))
        signals, fs = hostile_records(), 250.0
        m = check_measurements(model.measure(signals, fs), n=len(signals), model=self.model,
                               duration_s=signals.shape[-1] / fs)
        for name, (low, high) in PHYSIOLOGICAL.items():
            if name == "rr":
                continue
            values = getattr(m, name)
            finite = values[np.isfinite(values)]
            assert np.all((finite >= low) & (finite <= high)), f"{name}: {finite.tolist()} outside [{low}, {high}]"


def hostile_records(fs: float = 250.0, seconds: float = 10.0) -> np.ndarray:
    """float32[5, 12, T], leads II and V5 present: a flat line, white noise, a slow sine
    (baseline wander alone), narrow spikes 0.25 s apart and a square wave."""
    t = np.arange(int(fs * seconds)) / fs
    noise = np.random.default_rng(0).normal(0.0, 0.5, len(t))
    spikes = np.where(np.mod(t, 0.25) < 1.0 / fs, 2.0, 0.0)
    leads = [np.zeros_like(t), noise, np.sin(2 * np.pi * 0.7 * t), spikes, np.sign(np.sin(2 * np.pi * 1.1 * t))]
    out = np.full((len(leads), 12, len(t)), np.nan, dtype=np.float32)
    for i, x in enumerate(leads):
        out[i, 1] = x
        out[i, 10] = 0.5 * x
    return out


class ImageContract(TaskContract):
    task = "interpret-image"
