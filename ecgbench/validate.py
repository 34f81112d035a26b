"""``ecgbench validate``: check every clause of a model's task contract in seconds.

The model is built with its ``ci`` budget plus the spec's ``validate_overrides`` (which make it
tiny), fitted on a tiny phantom cohort and run through its task's runner with the task's quick
evaluator settings (``TaskSpec.validate_settings``); every output passes the same ``check_*``
functions a full run applies. What else is checked comes from the task's spec too (its
``protocol`` and ``repeat_check``), so a task a plugin registers is validated like a built-in
one. Nothing is written to ``results/``.
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


@dataclass
class Check:
    clause: str
    ok: bool
    detail: str = ""


def tiny_dataset(n_records: int = 80, fs: int = 100, seed: int = 0) -> ECGDataset:
    """A small phantom cohort (every fold populated) for contract checks."""
    from ecgbench.data.phantom import PhantomConfig, load_phantom

    return load_phantom(PhantomConfig(n_records=n_records, fs=fs, seed=seed, cache=False))


def generator_repeats(model: Any, data: ECGDataset) -> bool:
    """``sample`` with the same labels and seed gives the same records."""
    labels = data.labels[:2].copy()
    return bool(np.array_equal(model.sample(2, labels=labels, seed=7), model.sample(2, labels=labels, seed=7)))


def classifier_repeats(model: Any, data: ECGDataset) -> bool:
    """``predict_proba`` on the same records gives the same probabilities."""
    x = data.signals[:4]
    return bool(np.array_equal(model.predict_proba(x), model.predict_proba(x)))


def measurer_repeats(model: Any, data: ECGDataset) -> bool:
    """``measure`` on the same records gives the same intervals (NaN where it abstained)."""
    x = data.signals[:4]
    a, b = model.measure(x, data.fs).as_dict(), model.measure(x, data.fs).as_dict()
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


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
            if task.protocol is not None:
                protocol = load_object(task.protocol)
                ok = isinstance(model, protocol)
                checks.append(Check(f"implements {protocol.__name__}", ok, "" if ok else "missing methods"))
            task_config = build_config(load_object(task.config), task.validate_settings, task.name)
            result = load_object(task.runner)(model=model, model_name=spec.name, dataset=data, folds=FoldSplit(),
                                              config=task_config, ctx=ctx)
            checks.append(Check("a run completes and every output passes the contract checks", True,
                                f"{len(result.metrics)} metrics"))
            if task.repeat_check is not None:
                ok = bool(load_object(task.repeat_check)(model, data))
                checks.append(Check("outputs repeat for the same input and seed", ok))
    except Exception as exc:  # a broken model is reported, not raised: validate is a diagnosis
        checks.append(Check(type(exc).__name__, False, str(exc)))
    return checks
