"""Plugin modules and models for the core tests, registered through fake entry points."""

from __future__ import annotations

import types
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

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


def cli_with_fake_plugin(monkeypatch, *specs: ModelSpec):
    """Make the command line see one plugin, ``fakes``, with ``specs`` (and nothing installed);
    the registry it uses."""
    from ecgbench import cli
    from ecgbench.registry import Registry

    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    registry = Registry(entry_points=[entry_point("fakes", plugin_module("fakes", *specs))])
    monkeypatch.setattr(cli, "_registry", lambda: registry)
    return registry


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


class PrevalenceConfig(BaseModel):
    """A training setting (smoothing) and one that may differ at evaluation (batch)."""

    smoothing: float = 0.0
    batch: int = 8


class PrevalenceClassifier:
    """Predicts the (smoothed) training prevalence; exports it as weights and imports it."""

    def __init__(self, config: PrevalenceConfig, ctx):
        self.config, self.ctx = config, ctx
        self.prevalence: np.ndarray | None = None
        self.imported = None

    def fit(self, train, val):
        if self.imported is not None:
            self.prevalence = self.imported.tensors["prevalence"].numpy()
            self.ctx.note("trained_in_this_run", False)
            return self
        s = self.config.smoothing
        self.prevalence = ((train.labels.sum(axis=0) + s) / (len(train) + 2 * s)).astype(np.float32)
        self.ctx.note("trained_in_this_run", True)
        return self

    def predict_proba(self, x):
        rng = np.random.default_rng(len(x))  # a little noise so records differ
        return np.clip(self.prevalence[None, :] + rng.uniform(0, 1e-3, (len(x), 71)), 0, 1).astype(np.float32)

    def export_weights(self):
        import torch

        from ecgbench.weights import ModelWeights

        return ModelWeights("prevalence", "model", {"prevalence": torch.from_numpy(self.prevalence)})

    def import_weights(self, weights, metadata):
        self.imported = weights


def create_prevalence_classifier(config: PrevalenceConfig, ctx) -> PrevalenceClassifier:
    return PrevalenceClassifier(config, ctx)


def convert_prevalence(path):
    """A converter for 'prevalence-pt' files: a torch file holding {"prev": float32[71]}."""
    from ecgbench.conversion import Converted
    from ecgbench.nn.state_mapping import SourceState, load_foreign_checkpoint
    from ecgbench.weights import ModelWeights, TrainingData

    source = SourceState(load_foreign_checkpoint(path), path.name)
    prevalence = source.take("prev", (71,))
    facts = source.finish()
    weights = ModelWeights("prevalence", "model", {"prevalence": prevalence}, config={"smoothing": 0.0})
    return Converted(weights, TrainingData(name="elsewhere", labels=["NORM", "AFIB"]), facts)


def prevalence_spec(name: str = "prevalence-clf", **extra) -> ModelSpec:
    from ecgbench import WeightsSpec

    return ModelSpec(
        name=name, task="classify-71-labels", summary="prevalence with weights",
        factory="fake_plugins:create_prevalence_classifier", config="fake_plugins:PrevalenceConfig",
        weights=WeightsSpec(accepts=("prevalence",), adaptable=("batch",),
                            converters={"prevalence-pt": "fake_plugins:convert_prevalence"}),
        **extra,
    )


class CardConfig(BaseModel):
    """Settings of the model-card test model."""

    depth: int = Field(default=4, ge=1, description="layers")
    solver: Literal["euler", "rk4"] = Field(default="euler", description="ODE solver")
    widths: list[int] = Field(default_factory=lambda: [8, 16], description="channels per stage")
