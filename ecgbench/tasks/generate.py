"""The ``generate`` task: fit on the training split, generate one record per label vector drawn
from the training split, score the generated set against the real test set.

- Conditions: ``n_generated`` (default: as many as the test set) training records are drawn
  with the evaluator seed; their label vectors condition the generator, the same for every
  model. One generated set serves every metric: drawing from the training split keeps the
  test set's labels out of TSTR's training data, and a second sampling pass only for TSTR
  would double the sampling time (SSSD-ECG at 200 steps: about 2 s per record on 2 CPU cores).
- Metric space: per-lead normalisation and MMD bandwidths come from the real training records
  (:func:`ecgbench.metrics.generation.reference_space`), never from the generated set, so
  every model and the floor are measured in one space.
- Real-vs-real floor: the same metrics between the validation fold and the test fold, in the
  same space. It depends only on the data and the evaluator settings and is cached.
- TSTR / TRTR: the feature classifier trained on the generated records, or on the real
  training records whose label vectors conditioned them, both tested on the real test set.
- ``condition_auroc``: a feature classifier trained on all real training records scores the
  generated records for the labels they were conditioned on; its score on the real test
  records is the ceiling.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from ecgbench import features as features_module
from ecgbench.context import RunContext
from ecgbench.contracts.generate import Generator, check_nfe, check_samples
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.labels import SCP_CODES
from ecgbench.features import FeatureClassifier, extract_features
from ecgbench.metrics.bootstrap import MetricValue, rng_for
from ecgbench.metrics.classification import macro_auroc_metric
from ecgbench.metrics.generation import (
    ReferenceSpace,
    dtw_pairs,
    generation_suite,
    per_record_generation_values,
    reference_space,
)
from ecgbench.tasks.result import TaskResult

#: Bumped whenever a cached floor or reference space would no longer match the code.
CACHE_VERSION = 2
FLOOR_NOTE = "validation fold vs test fold (real vs real), in the same reference space"
CEILING_NOTE = "the same classifier on the real test records, over the same labels (ceiling)"
CLASSIFIER = "ecgbench.features.FeatureClassifier"


class GenerateTaskConfig(BaseModel):
    """Evaluator settings; they are written into every record."""

    eval_seed: int = Field(default=0, description="seed of the evaluator's draws and bootstrap (same for every model)")
    n_boot: int = Field(default=200, description="bootstrap resamples per metric")
    n_generated: int | None = Field(
        default=None, ge=2,
        description="records to generate, each conditioned on the label vector of a training record drawn with "
                    "eval_seed (without replacement while the split allows); default: as many as the test set",
    )
    floor: bool = Field(default=True, description="compute the real-vs-real floor (validation vs test fold)")
    tstr: bool = Field(default=True, description="TSTR and TRTR: the feature classifier trained on generated / real training records, tested on real test records")
    condition: bool = Field(default=True, description="condition_auroc: does a classifier trained on real records find the requested labels in the generated ones")
    plot_records: int = Field(default=4, description="records drawn in the generated-vs-real PNG")


def _cached_json(path: Path, compute: Callable[[], dict]) -> dict:
    """``compute()``'s JSON-able result, cached at ``path`` (written atomically)."""
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value))
    tmp.replace(path)
    return value


def _reference(train: ECGDataset, config: GenerateTaskConfig, ctx: RunContext) -> ReferenceSpace:
    """The metric space of the training split, cached by its fingerprint."""
    path = ctx.cache_dir / "floors" / f"generate-space-v{CACHE_VERSION}-{train.fingerprint[:16]}-{config.eval_seed}.json"
    return ReferenceSpace.from_params(_cached_json(path, lambda: reference_space(
        train.signals, seed=config.eval_seed, source=f"training split ({len(train)} real records)").to_params()))


def _floor(val: ECGDataset, test: ECGDataset, space: ReferenceSpace, config: GenerateTaskConfig,
           ctx: RunContext) -> dict[str, dict]:
    """Real-vs-real values per metric, cached by both sets' fingerprints, the space and the settings."""
    space_key = hashlib.sha256(json.dumps(space.to_params(), sort_keys=True).encode()).hexdigest()[:16]
    key = f"v{CACHE_VERSION}-{val.fingerprint[:16]}-{test.fingerprint[:16]}-{space_key}-{config.eval_seed}-{config.n_boot}"

    def compute() -> dict[str, dict]:
        n = min(len(val), len(test))
        values = generation_suite(val.signals[:n], test.signals, val.labels[:n], test.labels, test.fs,
                                  seed=config.eval_seed, n_boot=config.n_boot, space=space)
        return {m.name: {"value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high, "what": FLOOR_NOTE}
                for m in values}

    return _cached_json(ctx.cache_dir / "floors" / f"generate-{key}.json", compute)


def _training_features(train: ECGDataset, ctx: RunContext) -> np.ndarray:
    """``extract_features`` of the training split, cached by its fingerprint and the feature
    code (the slowest part of the classifier-based metrics, the same for every model)."""
    code = hashlib.sha256(inspect.getsource(features_module).encode()).hexdigest()[:12]
    path = ctx.cache_dir / "features" / f"{train.fingerprint[:16]}-{code}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    values = extract_features(train.signals, train.fs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        np.save(f, values, allow_pickle=False)
    tmp.replace(path)
    return values


def draw_conditions(train: ECGDataset, n: int, seed: int) -> np.ndarray:
    """Indices of the training records whose label vectors condition the generated records."""
    rng = rng_for(seed, "generate_conditions")
    return np.sort(rng.choice(len(train), n, replace=n > len(train)))


def _as_reference(metric: MetricValue, what: str) -> dict:
    return {"value": metric.value, "ci_low": metric.ci_low, "ci_high": metric.ci_high, "what": what}


def _tstr_trtr(gen_features: np.ndarray, real_features: np.ndarray, labels: np.ndarray, test_features: np.ndarray,
               test: ECGDataset, config: GenerateTaskConfig) -> list[MetricValue]:
    """One classifier definition, trained once on the generated records and once on the real
    training records that share their label vectors, each tested on the real test records
    (the same resamples for both intervals)."""
    out = []
    for name, features, what in (("tstr_macro_auroc", gen_features, "generated records"),
                                 ("trtr_macro_auroc", real_features, "the real training records whose label "
                                                                     "vectors conditioned the generated ones")):
        classifier = FeatureClassifier(seed=config.eval_seed).fit_features(features, labels)
        out.append(macro_auroc_metric(
            name, test.labels.astype(bool), classifier.predict_features(test_features).astype(np.float64), SCP_CODES,
            seed=config.eval_seed, n_boot=config.n_boot, stream="generate_test_records_boot",
            params={"classifier": CLASSIFIER, "trained_on": f"{len(features)} {what}", "tested_on": f"{len(test)} real test records",
                    "labels": "the condition label vectors (drawn from the training split)"},
        ))
    return out


def _condition_auroc(gen_features: np.ndarray, labels: np.ndarray, train_features: np.ndarray, train: ECGDataset,
                     test_features: np.ndarray, test: ECGDataset, config: GenerateTaskConfig
                     ) -> tuple[MetricValue, np.ndarray]:
    """``condition_auroc`` and the judge's scores ``float32[n, 71]`` of the generated records."""
    judge = FeatureClassifier(seed=config.eval_seed).fit_features(train_features, train.labels)
    gen_score = judge.predict_features(gen_features)
    asked = labels.astype(bool)
    expressed = asked.any(axis=0) & (~asked).any(axis=0)
    real_true = test.labels.astype(bool)
    ceiling_labels = expressed & real_true.any(axis=0) & (~real_true).any(axis=0)
    ceiling = macro_auroc_metric(
        "condition_auroc_ceiling", real_true[:, ceiling_labels],
        judge.predict_features(test_features)[:, ceiling_labels].astype(np.float64),
        [c for c, k in zip(SCP_CODES, ceiling_labels, strict=True) if k], seed=config.eval_seed, n_boot=config.n_boot,
        stream="generate_test_records_boot",
    )
    ceiling_params = {**_as_reference(ceiling, CEILING_NOTE), "n_labels_scored": ceiling.params["n_labels_scored"],
                      "per_label": ceiling.params["per_label"]}
    metric = macro_auroc_metric(
        "condition_auroc", asked[:, expressed], gen_score[:, expressed].astype(np.float64),
        [c for c, k in zip(SCP_CODES, expressed, strict=True) if k], seed=config.eval_seed, n_boot=config.n_boot,
        stream="generate_condition_boot",
        params={
            "definition": "macro AUROC of a fixed classifier's scores on the generated records against the label "
                          "vectors they were conditioned on, over the labels with both classes among those vectors",
            "classifier": CLASSIFIER,
            "classifier_trained_on": f"{len(train)} real training records",
            "ceiling": ceiling_params,
            "floor": ceiling_params,  # the real-data row of the leaderboard shows the ceiling
        },
    )
    return metric, gen_score


def run(
    model: Generator,
    model_name: str,
    dataset: ECGDataset,
    folds: FoldSplit,
    config: GenerateTaskConfig,
    ctx: RunContext,
) -> TaskResult:
    train, val, test = dataset.split(folds)
    test = test.loaded()  # every metric compares the generated set with the whole test set
    n = config.n_generated or len(test)
    conditions = draw_conditions(train, n, config.eval_seed)
    labels = train.labels[conditions]
    with ctx.phase("fit"):
        model.fit(train)
    with ctx.phase("sample"):
        start = time.perf_counter()
        generated = model.sample(n, labels=labels.copy(), steps=None, seed=ctx.seed)
        sample_seconds = time.perf_counter() - start
    generated = check_samples(generated, n=n, n_samples=test.n_samples, model=model_name)
    nfe = check_nfe(model.nfe, model=model_name)

    with ctx.phase("evaluate"):
        space = _reference(train, config, ctx)
        pairs = dtw_pairs(generated, test.signals, labels, test.labels, seed=config.eval_seed)
        metrics = generation_suite(generated, test.signals, labels, test.labels, test.fs, seed=config.eval_seed,
                                   n_boot=config.n_boot, pairs=pairs, space=space)
        floor = _floor(val, test, space, config, ctx) if config.floor else {}
        metrics = [
            MetricValue(m.name, m.value, m.ci_low, m.ci_high, m.n, {**m.params, "floor": floor.get(m.name)})
            for m in metrics
        ]
        samples: dict[str, np.ndarray] = {}
        if config.tstr or config.condition:
            gen_features = extract_features(generated, test.fs)
            test_features = extract_features(test.signals, test.fs)
            train_features = _training_features(train, ctx)
        if config.condition:
            condition, gen_score = _condition_auroc(gen_features, labels, train_features, train, test_features, test,
                                                    config)
            metrics.append(condition)
            per_label = condition.params["per_label"]
            samples["condition_score"] = gen_score
            samples["condition_auroc_per_label"] = np.array(
                [np.nan if per_label.get(c) is None else per_label[c] for c in SCP_CODES])
            samples["label_codes"] = np.array(SCP_CODES)
        if config.tstr:
            metrics += _tstr_trtr(gen_features, train_features[conditions], labels, test_features, test, config)
        metrics += [
            MetricValue(name="nfe", value=float(nfe)),
            MetricValue(name="seconds_per_record", value=sample_seconds / n, n=n,
                        params={"device": ctx.device, "sample_seconds": sample_seconds}),
        ]
        per_record = per_record_generation_values(generated, test.signals, labels, test.labels, test.fs,
                                                  seed=config.eval_seed, pairs=pairs, space=space)
        artifacts = []
        if config.plot_records > 0:
            from ecgbench.data.plot import plot_comparison

            k = min(config.plot_records, len(pairs.gen_idx))
            path = ctx.artifacts_dir / "generated-vs-real.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            plot_comparison(test.signals[pairs.real_idx[:k]], generated[pairs.gen_idx[:k]], test.fs, path)
            artifacts.append((path, "plot"))

    samples = {
        "record_id": np.array([f"generated-{i}" for i in range(n)]),
        "condition_record_id": train.record_ids[conditions].astype(str),
        "condition_labels": labels,
        **samples,
        **{f"per_record_{k}": np.asarray(v) for k, v in per_record.items()},
    }
    return TaskResult(
        splits={"train": len(train), "val": len(val), "test": len(test), "generated": n},
        metrics=metrics, samples=samples, artifacts=artifacts,
        notes={"n_generated": n, "conditions": "label vectors of training records drawn with eval_seed",
               "real_floor": FLOOR_NOTE, "reference_space": space.to_params()},
    )
