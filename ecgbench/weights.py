"""Weights as registry artifacts: the file a trained model leaves, and the checks that let a run
evaluate it (or weights converted from the authors' checkpoints) without training.

A weights file is a safetensors file whose metadata says what the tensors are (see
:class:`WeightsMetadata`): the architecture (the layout of the tensors), whether they are a whole
model or only an encoder, the model and plugin version that wrote them, the model config they
were made with, the training data (name and fingerprint), the seed and the run that trained
them, or the checkpoint they were converted from. Nothing here unpickles anything.

A model takes part by implementing :class:`ExportsWeights` (the runner writes its weights
beside the run record) and :class:`ImportsWeights` (``ecgbench run --weights FILE``), and by
declaring a :class:`ecgbench.specs.WeightsSpec` on its ModelSpec. Torch is imported only when
tensors are read or written, so listing and checking weights needs no torch.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecgbench.errors import ConfigError, ECGBenchError

if TYPE_CHECKING:
    from ecgbench.specs import ModelSpec

#: Version tag of the file layout, stored under the metadata key ``format``.
FORMAT = "ecgbench-weights/1"
#: The file a completed run writes beside its record: ``<run_id>/weights.safetensors``.
WEIGHTS_FILENAME = "weights.safetensors"
#: Files up to this size stay beside the record (and are committed with the results); larger
#: ones go to the cache and the record keeps their sha256 and cache path. Override with
#: ``$ECGBENCH_WEIGHTS_IN_RESULTS_MAX_MB``.
RESULTS_SIZE_LIMIT_MB = 2.0
#: The safetensors header is a little-endian u64 length and that many bytes of JSON; a header
#: larger than this is not one a weights file would have.
_MAX_HEADER_BYTES = 100 * 1024 * 1024

Contents = Literal["model", "encoder"]


class WeightsError(ECGBenchError):
    """A weights file that cannot be read, or a conversion that cannot map a checkpoint; the
    message names the file and the key or field."""


class WeightsMismatchError(ConfigError):
    """Weights that do not fit the model or the resolved config of a run (a usage error): the
    message names the field and how to make them fit."""


class TrainingData(BaseModel):
    """The data a weights file was trained on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="dataset name, e.g. ptbxl, or a description for published weights")
    fingerprint: str = Field(default="", description="sha256 of the dataset as loaded (empty when unknown)")
    folds: str = Field(default="", description="the fold split the training used")
    n_records: int | None = None
    fs: float | None = Field(default=None, description="sampling rate in Hz")
    labels: list[str] | None = Field(
        default=None, description="SCP statements with at least one positive training record (classifiers)"
    )


class ConvertedFrom(BaseModel):
    """Where converted weights came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = Field(description="the converter's format name, e.g. sssd-ecg")
    source_name: str = Field(description="file name of the original checkpoint")
    source_sha256: str
    facts: dict[str, Any] = Field(default_factory=dict, description="keys and parameters mapped, options chosen")


class WeightsMetadata(BaseModel):
    """What a weights file says about itself (safetensors metadata, one JSON value per key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = FORMAT
    architecture: str = Field(description="the tensors' layout: a model name, or a shared part such as an encoder")
    contents: Contents = Field(description="'model': everything a run needs; 'encoder': a pre-trained encoder "
                               "the run trains a head on")
    model: str = Field(description="the model that wrote (or whose layout received) the weights")
    plugin: str = Field(description="the plugin distribution that wrote them")
    plugin_version: str
    config: dict[str, Any] = Field(description="the config fields the weights were made with; each must match "
                                   "the run's resolved config unless the model lists it as adaptable")
    training_data: TrainingData | None = None
    seed: int | None = None
    budget: str | None = None
    trained_by_run: str | None = Field(default=None, description="run_id of the run that produced the file")
    converted_from: ConvertedFrom | None = None
    extra: dict[str, Any] = Field(default_factory=dict, description="model-specific facts the loader needs")

    def to_strings(self) -> dict[str, str]:
        """The safetensors metadata: every field as a JSON string."""
        return {key: json.dumps(value, sort_keys=True) for key, value in self.model_dump(mode="json").items()}

    @classmethod
    def from_strings(cls, strings: Mapping[str, str], path: Path | str) -> WeightsMetadata:
        if strings.get("format") != json.dumps(FORMAT):
            found = strings.get("format")
            raise WeightsError(
                f"{path}: not an ecgbench weights file (metadata 'format' is {found!r}, expected {FORMAT!r}); "
                "convert a published checkpoint with `ecgbench weights convert --from FORMAT IN OUT`"
            )
        try:
            values = {key: json.loads(value) for key, value in strings.items()}
            return cls.model_validate(values)
        except (ValueError, ValidationError) as exc:
            raise WeightsError(f"{path}: damaged weights metadata ({exc})") from None


@dataclass
class ModelWeights:
    """What a model hands over for export, and receives on import.

    tensors   name -> torch tensor (CPU); the layout is the architecture's.
    extra     JSON-serialisable facts the loader needs besides the config (a data scale, a rate).
    config    the config fields that describe the tensors; None means the model's whole resolved
              config (the runner fills it in).
    """

    architecture: str
    contents: Contents
    tensors: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None


@runtime_checkable
class ExportsWeights(Protocol):
    """A model whose trained weights the runner writes beside the record."""

    def export_weights(self) -> ModelWeights | None:
        """The weights after ``fit`` (None when there is nothing to export)."""
        ...


@runtime_checkable
class ImportsWeights(Protocol):
    """A model that can evaluate given weights: ``import_weights`` is called before ``fit``,
    which then skips the training the weights stand for."""

    def import_weights(self, weights: ModelWeights, metadata: WeightsMetadata) -> None: ...


# -- the file ------------------------------------------------------------------------------------


def read_header(path: Path | str) -> tuple[dict[str, str], dict[str, tuple[str, tuple[int, ...]]]]:
    """(metadata, {tensor name: (dtype, shape)}) of a safetensors file, read without torch."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise WeightsError(f"{path}: too short to be a safetensors file")
            (size,) = struct.unpack("<Q", raw)
            if size > _MAX_HEADER_BYTES:
                raise WeightsError(f"{path}: not a safetensors file (header length {size})")
            header = json.loads(f.read(size))
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read weights ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WeightsError(f"{path}: not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{path}: not a safetensors file (its header is not a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    tensors = {name: (info["dtype"], tuple(info["shape"])) for name, info in header.items()}
    return dict(metadata), tensors


def read_metadata(path: Path | str) -> WeightsMetadata:
    """The metadata of an ecgbench weights file; WeightsError for anything else."""
    strings, _ = read_header(path)
    return WeightsMetadata.from_strings(strings, path)


def load_weights(path: Path | str, device: str = "cpu") -> tuple[ModelWeights, WeightsMetadata]:
    """Tensors and metadata of an ecgbench weights file (safetensors: nothing is unpickled)."""
    from safetensors.torch import load_file

    metadata = read_metadata(path)
    tensors = load_file(str(path), device=device)
    weights = ModelWeights(metadata.architecture, metadata.contents, tensors, dict(metadata.extra), dict(metadata.config))
    return weights, metadata


def save_weights(path: Path | str, weights: ModelWeights, metadata: WeightsMetadata) -> Path:
    """Write atomically (a temporary file in the same folder, then a rename)."""
    from ecgbench.nn.checkpoints import save_checkpoint

    return save_checkpoint(Path(path), weights.tensors, metadata.to_strings())


def n_parameters(path: Path | str) -> int:
    """Number of scalar values over all tensors of a safetensors file."""
    total = 0
    for _, shape in read_header(path)[1].values():
        count = 1
        for dim in shape:
            count *= dim
        total += count
    return total


def results_size_limit() -> int:
    """Bytes up to which a run's weights stay beside its record (see RESULTS_SIZE_LIMIT_MB)."""
    raw = os.environ.get("ECGBENCH_WEIGHTS_IN_RESULTS_MAX_MB")
    try:
        limit_mb = RESULTS_SIZE_LIMIT_MB if raw is None else float(raw)
    except ValueError:
        raise ConfigError(f"$ECGBENCH_WEIGHTS_IN_RESULTS_MAX_MB={raw!r} is not a number of MB") from None
    return int(limit_mb * 1024 * 1024)


# -- fitting weights to a run ------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)), abs(float(b)))
        except (TypeError, ValueError):
            return False
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def check_weights_fit(path: Path | str, metadata: WeightsMetadata, spec: ModelSpec, config: BaseModel,
                      budget: str) -> dict[str, list[Any]]:
    """Raise WeightsMismatchError unless the weights fit the model and its resolved config.

    The architecture must be one the model accepts, and every config field stored in the file
    must equal the run's value, except the fields the model lists as adaptable (sampling settings
    such as ``nfe``): those take the run's value. Returns the adapted fields as
    ``{field: [value in the file, value in the run]}``.
    """
    accepts = spec.weights.accepts if spec.weights is not None else ()
    if not accepts:
        raise WeightsMismatchError(f"--weights {path}: model {spec.name!r} does not load weights (it trains in every run)")
    if metadata.architecture not in accepts:
        raise WeightsMismatchError(
            f"--weights {path}: these are {metadata.contents} weights of architecture {metadata.architecture!r} "
            f"(written for model {metadata.model!r}); model {spec.name!r} loads {', '.join(map(repr, accepts))}"
        )
    adaptable = set(spec.weights.adaptable) if spec.weights is not None else set()
    resolved = config.model_dump(mode="json")
    adapted: dict[str, list[Any]] = {}
    for name, stored in sorted(metadata.config.items()):
        if name not in resolved:
            raise WeightsMismatchError(
                f"--weights {path}: the weights' config has a field {name!r} that model {spec.name!r} does not know; "
                f"they were written by {metadata.plugin} {metadata.plugin_version}"
            )
        if _same(stored, resolved[name]):
            continue
        if name in adaptable:
            adapted[name] = [stored, resolved[name]]
            continue
        made_with = f" (the weights were made with budget {metadata.budget!r})" if metadata.budget and metadata.budget != budget else ""
        raise WeightsMismatchError(
            f"--weights {path}: field {name!r} is {stored!r} in the weights' config but {resolved[name]!r} in the "
            f"run's resolved config of {spec.name!r} (budget {budget!r}){made_with}; pass "
            f"--set {name}={json.dumps(stored)} to match the weights"
        )
    return adapted
