"""``ecgbench validate``: check every clause of a model's task contract in seconds.

The model is built with its ``ci`` budget plus the spec's ``validate_overrides`` (which make it
tiny), fitted on a tiny phantom cohort and run through its task's runner with quick evaluator
settings; every output passes the same ``check_*`` functions a full run applies. Nothing is
written to ``results/``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.registry import Registry
from ecgbench.runner import build_config, resolve_model_config
from ecgbench.specs import load_object

#: Evaluator settings that make each task's run quick (no floor, few bootstraps, few images).
QUICK_TASK_SETTINGS: dict[str, dict[str, Any]] = {
    "generate": {"n_boot": 10, "floor": False, "tstr": False, "condition": False, "plot_records": 0},
    "classify-71-labels": {"n_boot": 10, "explain_records": 1},
    "measure-intervals": {"n_boot": 10, "plots": False},
    "interpret-image": {"max_train_images": 40, "max_test_images": 16, "example_images": 0},
}
PROTOCOLS = {
    "generate": "ecgbench.contracts.generate:Generator",
    "classify-71-labels": "ecgbench.contracts.classify:Classifier",
    "measure-intervals": "ecgbench.contracts.intervals:IntervalMeasurer",
    "interpret-image": "ecgbench.contracts.image:ImageInterpreter",
}


@dataclass
class Check:
    clause: str
    ok: bool
    detail: str = ""


def tiny_dataset(n_records: int = 80, fs: int = 100, seed: int = 0) -> ECGDataset:
    """A small phantom cohort (every fold populated) for contract checks."""
    from ecgbench.data.phantom import PhantomConfig, load_phantom

    return load_phantom(PhantomConfig(n_records=n_records, fs=fs, seed=seed, cache=False))


def _repeatable(model: Any, task: str, data: ECGDataset) -> bool:
    """The same call twice gives the same output (a fixed seed where the call takes one)."""
    x = data.signals[:4]
    if task == "generate":
        labels = data.labels[:2].copy()
        return bool(np.array_equal(model.sample(2, labels=labels, seed=7), model.sample(2, labels=labels, seed=7)))
    if task == "classify-71-labels":
        return bool(np.array_equal(model.predict_proba(x), model.predict_proba(x)))
    if task == "measure-intervals":
        a, b = model.measure(x, data.fs).as_dict(), model.measure(x, data.fs).as_dict()
        return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    return True  # interpret-image: answers are checked for form by the run itself


def validate_model(
    name: str, overrides: dict[str, Any] | None = None, registry: Registry | None = None, data: ECGDataset | None = None
) -> list[Check]:
    """Run the contract clauses for one model; returns every check, failed ones included."""
    registry = registry or Registry()
    spec = registry.model(name)
    checks: list[Check] = []
    try:
        for budget in ("ci", "paper"):
            resolve_model_config(spec, budget, {})
        checks.append(Check("configs 'ci' and 'paper' validate", True))
        config = resolve_model_config(spec, "ci", overrides or {}, defaults=spec.validate_overrides)
        task = registry.task(spec.task)
        data = data if data is not None else tiny_dataset()
        with tempfile.TemporaryDirectory() as tmp:
            ctx = RunContext(seed=0, artifacts_dir=Path(tmp) / "artifacts", cache_dir=Path(tmp) / "cache", quiet=True)
            model = load_object(spec.factory)(config, ctx)
            checks.append(Check("factory(config, ctx) builds the model", True))
            protocol = load_object(PROTOCOLS[spec.task]) if spec.task in PROTOCOLS else None
            if protocol is not None:
                ok = isinstance(model, protocol)
                checks.append(Check(f"implements {protocol.__name__}", ok, "" if ok else "missing methods"))
            task_config = build_config(load_object(task.config), QUICK_TASK_SETTINGS.get(task.name, {}), task.name)
            result = load_object(task.runner)(model=model, model_name=spec.name, dataset=data, folds=FoldSplit(),
                                              config=task_config, ctx=ctx)
            checks.append(Check("a run completes and every output passes the contract checks", True,
                                f"{len(result.metrics)} metrics"))
            ok = _repeatable(model, spec.task, data)
            checks.append(Check("outputs repeat for the same input and seed", ok))
    except Exception as exc:  # a broken model is reported, not raised: validate is a diagnosis
        checks.append(Check(type(exc).__name__, False, str(exc)))
    return checks
