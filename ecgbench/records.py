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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ecgbench.errors import RecordError

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
    notes: dict[str, Any] = Field(default_factory=dict, description="facts the model or task attached")
    artifacts: list[Artifact] = Field(default_factory=list)
    errors: list[RunError] = Field(default_factory=list)

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


def write_record(record: RunRecord, results: Path) -> Path:
    """Write ``<results>/<task>/<model>/<run_id>.json``; never overwrites."""
    path = record_dir(results, record.task.name, record.model.name) / f"{record.run_id}.json"
    text = json.dumps(record.model_dump(mode="json"), indent=1, sort_keys=False, allow_nan=False)
    _write_atomically(path, lambda f: f.write(text.encode() + b"\n"), exclusive=True)
    return path


def write_samples(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """The per-record outputs beside a record (``.samples.npz``), written atomically."""
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise RecordError(f"samples array {key!r} has dtype object; store strings as str arrays")
    _write_atomically(Path(path), lambda f: np.savez_compressed(f, **arrays), exclusive=True)
    return Path(path)


def read_record(path: Path) -> RunRecord:
    """Read and validate one record; a damaged file gets an error naming it."""
    try:
        return RunRecord.model_validate_json(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path}: not a valid run record ({exc})") from exc


def iter_records(results: Path) -> list[tuple[Path, RunRecord]]:
    """Every record under a results folder, sorted by path (deterministic)."""
    return [(p, read_record(p)) for p in sorted(Path(results).glob("*/*/*.json"))]


def record_json_schema() -> dict:
    """The JSON Schema of RunRecord (``ecgbench schema``)."""
    return RunRecord.model_json_schema()
