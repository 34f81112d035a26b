"""The ``generate`` task: fit on the training split, generate one record per test label vector,
score the generated set against the real test set.

Every generation metric comes with a bootstrap CI and a real-vs-real floor: the same metric
between two disjoint real sets (the validation fold against the test fold, conditioned on the
same labels as far as they match), so a reader sees how far a generator is from
indistinguishable. The floor depends only on the data and the evaluator settings and is cached.
"""

from __future__ import annotations

import json
import time

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.context import RunContext
from ecgbench.contracts.generate import Generator, check_nfe, check_samples
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.features import FeatureClassifier
from ecgbench.metrics.bootstrap import MetricValue
from ecgbench.metrics.classification import macro_auroc
from ecgbench.metrics.generation import dtw_pairs, generation_suite, per_record_generation_values
from ecgbench.tasks.result import TaskResult


class GenerateTaskConfig(BaseModel):
    """Evaluator settings; they are written into every record."""

    eval_seed: int = Field(default=0, description="seed of the evaluator's subsampling and bootstrap (same for every model)")
    n_boot: int = Field(default=200, description="bootstrap resamples per metric")
    floor: bool = Field(default=True, description="compute the real-vs-real floor (validation vs test fold)")
    tstr: bool = Field(default=True, description="train the feature classifier on generated records, test on real")
    plot_records: int = Field(default=4, description="records drawn in the generated-vs-real PNG")


def _floor(val: ECGDataset, test: ECGDataset, config: GenerateTaskConfig, ctx: RunContext) -> dict[str, dict]:
    """Real-vs-real values per metric, cached by both sets' fingerprints and the settings."""
    key = f"{val.fingerprint[:16]}-{test.fingerprint[:16]}-{config.eval_seed}-{config.n_boot}"
    path = ctx.cache_dir / "floors" / f"generate-{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    n = min(len(val), len(test))
    values = generation_suite(
        val.signals[:n], test.signals, val.labels[:n], test.labels, test.fs, seed=config.eval_seed, n_boot=config.n_boot
    )
    floor = {m.name: {"value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high} for m in values}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(floor))
    tmp.replace(path)
    return floor


def _tstr(generated: np.ndarray, labels: np.ndarray, test: ECGDataset, seed: int) -> MetricValue:
    """Train the feature classifier on generated records, score it on the real test set."""
    classifier = FeatureClassifier(seed=seed).fit(generated, labels, test.fs)
    value, dropped = macro_auroc(test.labels, classifier.predict_proba(test.signals))
    return MetricValue(name="tstr_macro_auroc", value=value, n=len(test),
                       params={"classifier": "ecgbench.features.FeatureClassifier", "dropped_labels": len(dropped)})


def run(
    model: Generator,
    model_name: str,
    dataset: ECGDataset,
    folds: FoldSplit,
    config: GenerateTaskConfig,
    ctx: RunContext,
) -> TaskResult:
    train, val, test = dataset.split(folds)
    with ctx.phase("fit"):
        model.fit(train)
    with ctx.phase("sample"):
        start = time.perf_counter()
        generated = model.sample(len(test), labels=test.labels.copy(), steps=None, seed=ctx.seed)
        sample_seconds = time.perf_counter() - start
    generated = check_samples(generated, n=len(test), n_samples=test.n_samples, model=model_name)
    nfe = check_nfe(model.nfe, model=model_name)

    with ctx.phase("evaluate"):
        pairs = dtw_pairs(generated, test.signals, test.labels, test.labels, seed=config.eval_seed)
        metrics = generation_suite(
            generated, test.signals, test.labels, test.labels, test.fs, seed=config.eval_seed, n_boot=config.n_boot,
            pairs=pairs,
        )
        floor = _floor(val, test, config, ctx) if config.floor else {}
        metrics = [
            MetricValue(m.name, m.value, m.ci_low, m.ci_high, m.n, {**m.params, "floor": floor.get(m.name)})
            for m in metrics
        ]
        if config.tstr:
            metrics.append(_tstr(generated, test.labels, test, config.eval_seed))
        metrics += [
            MetricValue(name="nfe", value=float(nfe)),
            MetricValue(name="seconds_per_record", value=sample_seconds / len(test), n=len(test),
                        params={"device": ctx.device, "sample_seconds": sample_seconds}),
        ]
        per_record = per_record_generation_values(generated, test.signals, test.labels, test.labels, test.fs,
                                                  seed=config.eval_seed, pairs=pairs)
        artifacts = []
        if config.plot_records > 0:
            from ecgbench.data.plot import plot_comparison

            k = min(config.plot_records, len(test))
            path = ctx.artifacts_dir / "generated-vs-real.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            plot_comparison(test.signals[:k], generated[:k], test.fs, path)
            artifacts.append((path, "plot"))

    samples = {
        "record_id": test.record_ids.astype(str),
        "condition_labels": test.labels,
        **{f"per_record_{k}": np.asarray(v) for k, v in per_record.items()},
    }
    return TaskResult(splits={"train": len(train), "val": len(val), "test": len(test)}, metrics=metrics, samples=samples, artifacts=artifacts,
                      notes={"n_generated": len(test), "real_floor": "validation fold vs test fold"})
