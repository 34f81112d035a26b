"""Plugin modules and models for the core tests, registered through fake entry points."""

from __future__ import annotations

import types

import numpy as np

from ecgbench import ModelSpec, hookimpl
from ecgbench.registry import _EntryPoint
from ecgbench.testing.dummies import DummyConfig, DummyGenerator


def entry_point(
    name: str, module: object, dist: str | None = None, version: str = "1.0"
) -> _EntryPoint:
    return _EntryPoint(name, f"{name}:plugin", dist or f"ecgbench-{name}", version, lambda: module)


def failing_entry_point(name: str, exc: Exception) -> _EntryPoint:
    def load():
        raise exc

    return _EntryPoint(name, f"{name}:plugin", f"ecgbench-{name}", "1.0", load)


def plugin_module(name: str, *specs: ModelSpec, raise_after: int | None = None) -> types.ModuleType:
    """A plugin module registering `specs`; with raise_after=k it raises after k registrations."""
    module = types.ModuleType(name)

    @hookimpl
    def ecgbench_register_models(register):
        for i, spec in enumerate(specs):
            if raise_after is not None and i == raise_after:
                raise RuntimeError(f"{name} failed while registering")
            register(spec)

    module.ecgbench_register_models = ecgbench_register_models
    return module


def model_spec(
    name: str,
    task: str = "generate",
    factory: str = "ecgbench.testing.dummies:create_generator",
    **extra,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        task=task,
        summary=f"test model {name}",
        factory=factory,
        config="ecgbench.testing.dummies:DummyConfig",
        **extra,
    )


class WrongLeadOrderGenerator(DummyGenerator):
    """Returns the training records with V1 where lead III belongs (a lead-order bug)."""

    def sample(self, n, labels=None, steps=None, seed=0):
        x = super().sample(n, labels, steps, seed)
        return x[:, [0, 1, 6, 3, 4, 5, 2, 7, 8, 9, 10, 11]]


class NaNClassifier:
    def fit(self, train, val):
        return self

    def predict_proba(self, x):
        p = np.full((len(x), 71), 0.5, dtype=np.float32)
        p[0, 3] = np.nan
        return p


def create_wrong_lead_order(config: DummyConfig, ctx) -> WrongLeadOrderGenerator:
    return WrongLeadOrderGenerator()


def create_nan_classifier(config: DummyConfig, ctx) -> NaNClassifier:
    return NaNClassifier()
