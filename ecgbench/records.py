"""RunRecord: one JSON file per run, written atomically and never overwritten.

Layout: ``<results>/<task>/<model>/<run_id>.json`` with, beside it, the per-record outputs
``<run_id>.samples.npz`` and a folder ``<run_id>/`` of artifacts (plots). Every number in a
leaderboard traces back to one of these files.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ecgbench.errors import ConfigError, RecordError

SCHEMA_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskInfo(_Frozen):
    name: str
    version: int
    contract_hash: str = Field(description="sha256 of the contract module's source")
    config: dict[str, Any]


class ModelInfo(_Frozen):
    name: str = Field(description="canonical model name")
    requested_as: str = Field(description="the name or alias the user typed")
    plugin: str
    plugin_dist: str
    plugin_version: str
    factory: str
    config: dict[str, Any] = Field(description="fully resolved config")
    config_hash: str
    overrides: dict[str, Any] = Field(description="the user's --set values for the model")
    variant: str = Field(description="overrides as 'k=v,...' ('' when none): one leaderboard row each")
    training_datasets: list[str]
    wiring_check: bool


class TrainingBatch(_Frozen):
    effective: int = Field(description="records per optimiser step, over all processes (the configured batch)")
    per_rank: int = Field(description="the largest share of a step's batch one process worked on")


class Distributed(_Frozen):
    """How a multi-process (torch.distributed) run trained its model."""

    backend: str = Field(description="gloo (CPU) or nccl (CUDA)")
    world_size: int
    batches: dict[str, TrainingBatch] = Field(
        default_factory=dict, description="per training loop (e.g. 'sssd train', 'jepa pre-training'): its batches"
    )


class DatasetInfo(_Frozen):
    name: str
    config: dict[str, Any]
    fingerprint: str = Field(
        description="sha256 of the records used (ids, signals, labels, folds); for a generated cohort, of its "
        "settings and a quantised content check, the same on every machine"
    )
    n_records: int
    splits: dict[str, int] = Field(default_factory=dict, description="records per split the task used")
    fs: float
    n_samples: int
    folds: str = Field(description="the fold split used, e.g. train=1+2+...,val=9,test=10")
    fold_override: bool
    info: dict[str, Any] = Field(default_factory=dict)


class Environment(_Frozen):
    python: str
    platform: str
    packages: dict[str, str] = Field(description="versions of ecgbench, numpy, torch, ... ")
    plugins: dict[str, str] = Field(description="{distribution: version} of every loaded plugin")
    device: str
    device_name: str = ""


class Source(_Frozen):
    git_commit: str
    git_dirty: bool


class Metric(_Frozen):
    name: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    ci_method: Literal["bootstrap", "seeds", "analytic", "none"] = "none"
    n: int | None = None
    higher_is_better: bool | None = None
    is_main: bool = False
    params: dict[str, Any] = Field(default_factory=dict)


class Artifact(_Frozen):
    path: str = Field(description="relative to the record's folder")
    sha256: str
    kind: str


class WeightsInfo(_Frozen):
    """The weights a run evaluated: exported by the run itself, or imported with ``--weights``."""

    source: Literal["trained", "imported"] = Field(
        description="'trained': fitted in this run (or taken from the training cache) and exported; "
        "'imported': loaded with --weights, no training of what they hold"
    )
    location: Literal["results", "cache", "given"] = Field(
        description="'results': beside the record (also listed as an artifact); 'cache': too large for the "
        "results folder, kept under $ECGBENCH_CACHE; 'given': the file passed with --weights"
    )
    file: str = Field(description="relative to the record's folder, to $ECGBENCH_CACHE, or as given")
    bytes: int
    architecture: str = Field(description="the tensors' layout (a model name, or e.g. ecg-jepa-encoder)")
    contents: Literal["model", "encoder"]
    written_by: str = Field(description="model and plugin version that wrote the file")
    training_data: dict[str, Any] | None = Field(
        default=None, description="what the weights were trained on: name, fingerprint, folds, labels"
    )
    converted_from: dict[str, Any] | None = Field(
        default=None, description="for converted published weights: format, source file and its sha256"
    )
    adapted: dict[str, list[Any]] = Field(
        default_factory=dict, description="config fields the run set differently: {field: [weights', run's]}"
    )
    external_validation: bool = Field(
        default=False,
        description="whole-model weights trained on other data than the evaluated dataset (another "
        "fingerprint), evaluated without any training on it",
    )
    shared_labels: list[str] | None = Field(
        default=None,
        description="external validation of a classifier: the statements both the training data and the "
        "evaluated dataset carry; only these are scored",
    )


class RunError(_Frozen):
    stage: str
    type: str
    message: str
    traceback_tail: str = ""


class RunRecord(_Frozen):
    """Everything needed to trace a number to code, data, config and machine."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    status: Literal["completed", "failed"]
    argv: list[str]
    task: TaskInfo
    model: ModelInfo
    dataset: DatasetInfo | None
    budget: Literal["ci", "paper"]
    seed: int
    environment: Environment
    source: Source
    started_at: str
    finished_at: str
    wall_seconds: float
    phases: dict[str, float] = Field(description="wall seconds per phase: load, build, fit, sample|predict|measure|answer, evaluate")
    metrics: list[Metric] = Field(default_factory=list)
    world_size: int = Field(default=1, description="processes that trained the model (torch.distributed); 1 when one did")
    distributed: Distributed | None = Field(default=None, description="backend and batches of a multi-process run")
    notes: dict[str, Any] = Field(default_factory=dict, description="facts the model or task attached")
    artifacts: list[Artifact] = Field(default_factory=list)
    errors: list[RunError] = Field(default_factory=list)
    weights_sha256: str | None = Field(
        default=None, description="sha256 of the weights file the run evaluated (exported or imported)"
    )
    trained_by_run: str | None = Field(
        default=None, description="run_id of the run that trained the weights, when known"
    )
    weights: WeightsInfo | None = None

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time, unique across concurrent runs: ``20261124T231143Z-3f9a1c2b``."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomically(path: Path, write: Any, exclusive: bool) -> None:
    """Write via a temporary file in the same folder, then rename (or link when exclusive).

    An exclusive write never replaces an existing file: it fails instead, so two runs can
    never overwrite each other's record.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            try:
                os.link(tmp, path)  # atomic and fails if the name exists
            except FileExistsError:
                raise RecordError(f"{path} exists already; records are never overwritten") from None
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def record_dir(results: Path, task: str, model: str) -> Path:
    return Path(results) / task / model


def check_writable(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and write and remove a file in it, so that a run finds out
    before any work, not after it, that its results cannot be saved."""
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ConfigError(f"{what} {folder}: cannot write there, {blocker} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{what} {folder}: cannot write there ({exc.strerror or exc})") from None


def write_record(record: RunRecord, results: Path) -> Path:
    """Write ``<results>/<task>/<model>/<run_id>.json``; never overwrites.

    A run writes its samples file and artifacts first and its record last: a run killed before
    the record is written leaves files that no record owns, which :func:`scan_results` reports
    as orphans, never a record whose files are missing.
    """
    path = record_dir(results, record.task.name, record.model.name) / f"{record.run_id}.json"
    text = json.dumps(record.model_dump(mode="json"), indent=1, sort_keys=False, allow_nan=False)
    _write(path, lambda f: f.write(text.encode() + b"\n"))
    return path


def write_samples(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """The per-record outputs beside a record (``.samples.npz``), written atomically."""
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise RecordError(f"samples array {key!r} has dtype object; store strings as str arrays")
    _write(Path(path), lambda f: np.savez_compressed(f, **arrays))
    return Path(path)


def _write(path: Path, write: Any) -> None:
    try:
        _write_atomically(path, write, exclusive=True)
    except OSError as exc:
        raise RecordError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


def read_record(path: Path) -> RunRecord:
    """Read and validate one record; a damaged file gets an error naming it."""
    try:
        return RunRecord.model_validate_json(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path}: not a valid run record ({exc})") from exc


def iter_records(results: Path) -> list[tuple[Path, RunRecord]]:
    """Every record under a results folder, sorted by path (deterministic); raises on a damaged one."""
    return [(p, read_record(p)) for p in sorted(Path(results).glob("*/*/*.json"))]


@dataclass
class ResultsScan:
    """A results folder, checked: the records that can be trusted and what is wrong with the rest.

    records   (path, record) of every readable record whose artifacts are all present and
              match their sha256, sorted by path.
    damaged   one message per record left out, naming the file: unreadable, a completed run
              without a main metric, an artifact (samples file, plot) missing or altered.
    orphans   one message per file that no record owns, naming it: the samples file or artifact
              folder of a run killed before its record was written (or still running), a
              partial temporary file. They are ignored; nothing is deleted.
    """

    records: list[tuple[Path, RunRecord]] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def scan_results(results: Path) -> ResultsScan:
    """Read every record under ``results``, verify its artifacts and find orphaned files."""
    results = Path(results)
    if not results.is_dir():
        raise ConfigError(f"results folder {results} does not exist (or is not a folder)")
    scan = ResultsScan()
    for folder in sorted(p for p in results.glob("*/*") if p.is_dir()):
        run_ids = {p.stem for p in folder.glob("*.json")}
        for path in sorted(folder.glob("*.json")):
            try:
                record = read_record(path)
            except RecordError as exc:
                scan.damaged.append(str(exc))
                continue
            problem = _record_problem(path, record)
            if problem:
                scan.damaged.append(f"{path}: {problem}")
            else:
                scan.records.append((path, record))
        for path in sorted(folder.iterdir()):
            if path.name.endswith(".tmp"):
                scan.orphans.append(f"{path}: a partial file left by an interrupted write; ignored")
            elif path.name.endswith(".samples.npz") and path.name[: -len(".samples.npz")] not in run_ids:
                scan.orphans.append(f"{path}: no record {path.name[: -len('.samples.npz')]}.json beside it "
                                    "(a run killed while writing, or still running); ignored")
            elif path.is_dir() and path.name not in run_ids:
                scan.orphans.append(f"{path}/: artifacts of no record (a run killed or still running); ignored")
    return scan


def _record_problem(path: Path, record: RunRecord) -> str:
    """What makes a readable record untrustworthy ('' when nothing)."""
    if record.status == "completed" and not any(m.is_main for m in record.metrics):
        return "a completed run without a main metric"
    for artifact in record.artifacts:
        file = path.parent / artifact.path
        if not file.is_file():
            return f"its {artifact.kind} file {file} is missing"
        if sha256_file(file) != artifact.sha256:
            return f"its {artifact.kind} file {file} differs from the sha256 the record holds (altered or damaged)"
    return ""


def record_json_schema() -> dict:
    """The JSON Schema of RunRecord (``ecgbench schema``)."""
    return RunRecord.model_json_schema()
