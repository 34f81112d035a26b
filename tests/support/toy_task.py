"""A task that a test plugin registers (not the core): mean heart rate per record, scored by MAE.

It exercises everything a plugin's task relies on: its contract module, runner, config,
protocol, quick validate settings, repeat check and samples-file scorer.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from ecgbench import MetricSpec, ModelSpec, TaskSpec, hookimpl
from ecgbench.contracts.checks import check_array
from ecgbench.metrics.bootstrap import MetricValue, bootstrap_ci

TASK = "toy-rate"


@runtime_checkable
class RateModel(Protocol):
    def fit(self, train) -> RateModel: ...

    def rate(self, x: np.ndarray) -> np.ndarray: ...


class ToyTaskConfig(BaseModel):
    n_boot: int = 50


class MeanRate:
    """Predicts the training records' mean heart rate for every record."""

    def fit(self, train):
        self.mean = float(np.nanmean(train.intervals["hr"]))
        return self

    def rate(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.mean, dtype=np.float32)


def create(config, ctx) -> MeanRate:
    return MeanRate()


def mae(reference: np.ndarray, measured: np.ndarray, n_boot: int = 50) -> list[MetricValue]:
    err = np.abs(measured - reference)
    low, high = bootstrap_ci(lambda idx: float(err[idx].mean()), len(err), n_boot=n_boot)
    return [MetricValue("hr_mae", float(err.mean()), low, high, n=len(err))]


def run(model, model_name, dataset, folds, config, ctx):
    from ecgbench.tasks.result import TaskResult

    train, _, test = dataset.split(folds)
    model.fit(train)
    measured = check_array(model.rate(test.signals), model=model_name, what="rate() output",
                           shape=(len(test),), dtype=np.float32)
    reference = test.intervals["hr"].to_numpy()
    return TaskResult(metrics=mae(reference, measured, config.n_boot),
                      samples={"record_id": test.record_ids.astype(str), "reference": reference, "measured": measured},
                      splits={"train": len(train), "test": len(test)})


def repeats(model, data) -> bool:
    return bool(np.array_equal(model.rate(data.signals[:3]), model.rate(data.signals[:3])))


def score(arrays: dict, path: Path, seed: int) -> list[MetricValue]:
    return mae(arrays["reference"], arrays["measured"])


def plugin() -> types.ModuleType:
    """The plugin module: registers the task and one model for it."""
    module = types.ModuleType("toy")

    @hookimpl
    def ecgbench_register_tasks(register):
        register(TaskSpec(
            name=TASK, summary="mean heart rate per record", version=1, contract="toy_task",
            runner="toy_task:run", config="toy_task:ToyTaskConfig", protocol="toy_task:RateModel",
            validate_settings={"n_boot": 5}, repeat_check="toy_task:repeats", scorer="toy_task:score",
            main_metric="hr_mae",
            metrics=(MetricSpec(name="hr_mae", higher_is_better=False, unit="bpm", description="mean absolute error"),),
        ))

    @hookimpl
    def ecgbench_register_models(register):
        register(ModelSpec(name="mean-rate", task=TASK, summary="the training mean", factory="toy_task:create",
                           config="ecgbench.testing.dummies:DummyConfig"))

    module.ecgbench_register_tasks = ecgbench_register_tasks
    module.ecgbench_register_models = ecgbench_register_models
    return module
