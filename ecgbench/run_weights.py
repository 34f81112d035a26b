"""A run's weights: export after a run that trained, import for ``ecgbench run --weights FILE``.

Export: a completed run whose model implements :class:`ecgbench.weights.ExportsWeights` writes
``<results>/<task>/<model>/<run_id>/weights.safetensors``, with the model, plugin version,
resolved config, training data (dataset name and fingerprint, folds, the statements with
positives), seed, budget and run id in its metadata. A file larger than
``RESULTS_SIZE_LIMIT_MB`` (2 MB; ``$ECGBENCH_WEIGHTS_IN_RESULTS_MAX_MB``) is kept under
``$ECGBENCH_CACHE/weights/`` instead, so the results folder (committed with the leaderboards)
stays small; the record keeps its sha256 and path either way.

Import: the file's metadata is checked against the model and its resolved config before any
work (:func:`ecgbench.weights.check_weights_fit`); the model receives the tensors before ``fit``,
which then skips the training they stand for. Whole-model weights trained on other data than
the evaluated dataset make the run an external validation: for a classifier, only the
statements both datasets carry are scored, by leaving the others out of the evaluated labels.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.labels import SCP_CODES
from ecgbench.records import Artifact, WeightsInfo, sha256_file
from ecgbench.specs import ModelSpec
from ecgbench.weights import (
    WEIGHTS_FILENAME,
    ExportsWeights,
    ImportsWeights,
    TrainingData,
    WeightsMetadata,
    WeightsMismatchError,
    check_weights_fit,
    load_weights,
    read_metadata,
    results_size_limit,
    save_weights,
)


@dataclass(frozen=True)
class WeightsImport:
    """Weights a run will evaluate, checked against the model and its config."""

    path: Path
    metadata: WeightsMetadata
    adapted: dict[str, list[Any]]
    sha256: str
    bytes: int


def plan_import(path: Path, spec: ModelSpec, config: BaseModel, budget: str) -> WeightsImport:
    """Read and check ``--weights FILE`` before any work (usage errors name the field)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsMismatchError(f"--weights {path}: no such file")
    metadata = read_metadata(path)
    adapted = check_weights_fit(path, metadata, spec, config, budget)
    return WeightsImport(path, metadata, adapted, sha256_file(path), path.stat().st_size)


def import_into(model: object, plan: WeightsImport, model_name: str) -> None:
    """Hand the weights (on the CPU; the model moves them to its device) to the model, which
    uses them in fit()."""
    if not isinstance(model, ImportsWeights):
        raise WeightsMismatchError(f"model {model_name!r} declares weights it accepts but cannot import them")
    weights, metadata = load_weights(plan.path)
    model.import_weights(weights, metadata)


def is_external(plan: WeightsImport, dataset: ECGDataset) -> bool:
    """Whole-model weights trained on data other than ``dataset`` (another fingerprint, or unknown)."""
    trained = plan.metadata.training_data
    return plan.metadata.contents == "model" and (trained is None or trained.fingerprint != dataset.fingerprint)


def shared_labels(plan: WeightsImport, dataset: ECGDataset) -> list[str] | None:
    """The statements the training data had positives of and the evaluated dataset can carry."""
    trained = plan.metadata.training_data
    if trained is None or trained.labels is None:
        return None
    return [code for code in SCP_CODES if code in set(trained.labels) and code in dataset.expressed]


def restrict_labels(dataset: ECGDataset, codes: list[str]) -> ECGDataset:
    """The dataset with every statement outside ``codes`` left out (its labels all zero, so
    an evaluator over statements with positives skips it)."""
    keep = np.isin(np.array(SCP_CODES), codes)
    return replace(dataset, labels=np.where(keep[None, :], dataset.labels, 0).astype(dataset.labels.dtype),
                   expressed=tuple(code for code in dataset.expressed if code in codes))


def imported_info(plan: WeightsImport, external: bool, shared: list[str] | None) -> WeightsInfo:
    meta = plan.metadata
    return WeightsInfo(
        source="imported", location="given", file=str(plan.path), bytes=plan.bytes, architecture=meta.architecture,
        contents=meta.contents, written_by=f"{meta.model} ({meta.plugin} {meta.plugin_version})",
        training_data=None if meta.training_data is None else meta.training_data.model_dump(mode="json"),
        converted_from=None if meta.converted_from is None else meta.converted_from.model_dump(mode="json"),
        adapted=plan.adapted, external_validation=external, shared_labels=shared if external else None,
    )


def training_data(dataset: ECGDataset, folds: FoldSplit) -> TrainingData:
    """What a run's model was trained on: the dataset, its fingerprint and split, the statements with positives."""
    train = np.isin(dataset.folds, folds.train)
    positives = dataset.labels[train].sum(axis=0) if train.any() else np.zeros(len(SCP_CODES))
    return TrainingData(
        name=dataset.name, fingerprint=dataset.fingerprint, folds=folds.describe(), n_records=int(train.sum()),
        fs=float(dataset.fs), labels=[code for code, n in zip(SCP_CODES, positives, strict=True) if n > 0],
    )


def export(model: object, *, spec: ModelSpec, plugin: tuple[str, str], config: BaseModel, dataset: ECGDataset,
           folds: FoldSplit, seed: int, budget: str, run_id: str, out_dir: Path,
           cache_dir: Path) -> tuple[WeightsInfo, str, Artifact | None] | None:
    """Write the model's weights; (record info, sha256, artifact when beside the record) or None
    when the model exports nothing."""
    if not isinstance(model, ExportsWeights):
        return None
    weights = model.export_weights()
    if weights is None:
        return None
    metadata = WeightsMetadata(
        architecture=weights.architecture, contents=weights.contents, model=spec.name, plugin=plugin[0],
        plugin_version=plugin[1], config=weights.config or config.model_dump(mode="json"),
        training_data=training_data(dataset, folds), seed=seed, budget=budget, trained_by_run=run_id,
        extra=weights.extra,
    )
    relative = Path(run_id) / WEIGHTS_FILENAME
    path = save_weights(out_dir / relative, weights, metadata)
    size, digest = path.stat().st_size, sha256_file(path)
    if size <= results_size_limit():
        location, file, artifact = "results", str(relative), Artifact(path=str(relative), sha256=digest, kind="weights")
    else:  # too large to commit with the results: keep it in the cache
        cached = Path("weights") / out_dir.parent.name / out_dir.name / relative
        (cache_dir / cached).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, cache_dir / cached)
        if not any(path.parent.iterdir()):
            os.rmdir(path.parent)
        location, file, artifact = "cache", str(cached), None
    info = WeightsInfo(
        source="trained", location=location, file=file, bytes=size, architecture=weights.architecture,
        contents=weights.contents, written_by=f"{spec.name} ({plugin[0]} {plugin[1]})",
        training_data=metadata.training_data.model_dump(mode="json") if metadata.training_data else None,
    )
    return info, digest, artifact
