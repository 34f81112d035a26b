"""``ecgbench weights convert --from FORMAT IN OUT``: published checkpoints into weights files.

A plugin offers a converter by naming it in its ModelSpec
(``weights=WeightsSpec(..., converters={"sssd-ecg": "ecgbench_sssd.convert:convert"})``), so a
third-party plugin adds its own the same way. A converter is ``convert(path) -> Converted``: it
reads the original checkpoint (``ecgbench.nn.state_mapping.load_foreign_checkpoint``; nothing is
unpickled), maps every key onto the target layout and says which config the tensors need. The
harness writes the result as an ecgbench weights file with the provenance in its metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecgbench.errors import ConfigError
from ecgbench.records import sha256_file
from ecgbench.registry import Registry
from ecgbench.specs import ModelSpec, load_object
from ecgbench.weights import (
    ConvertedFrom,
    ModelWeights,
    TrainingData,
    WeightsError,
    WeightsMetadata,
    save_weights,
)


@dataclass
class Converted:
    """A converter's result.

    weights        the tensors in the target layout; ``weights.config`` must list the config
                   fields they need (e.g. the network size), which a run's config must match.
    training_data  what the original weights were trained on, as far as the checkpoint says.
    facts          counts and choices worth keeping (keys and parameters mapped, options).
    """

    weights: ModelWeights
    training_data: TrainingData | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def converters(registry: Registry) -> dict[str, tuple[ModelSpec, str]]:
    """Format name -> (the model spec offering it, the converter's import string)."""
    found: dict[str, tuple[ModelSpec, str]] = {}
    for spec in registry.models():
        if spec.weights is None:
            continue
        for fmt, target in spec.weights.converters.items():
            if fmt in found and found[fmt][1] != target:
                raise ConfigError(
                    f"weights format {fmt!r} is offered by models {found[fmt][0].name!r} and {spec.name!r} with "
                    "different converters; uninstall one of the plugins"
                )
            found.setdefault(fmt, (spec, target))
    return dict(sorted(found.items()))


def convert_checkpoint(registry: Registry, fmt: str, source: Path, out: Path) -> tuple[Path, WeightsMetadata]:
    """Convert ``source`` with the converter registered for ``fmt`` and write ``out``."""
    available = converters(registry)
    if fmt not in available:
        known = ", ".join(available) or "none (no installed plugin offers a converter)"
        raise ConfigError(f"no converter for weights format {fmt!r}; installed formats: {known}")
    spec, target = available[fmt]
    if not Path(source).is_file():
        raise WeightsError(f"{source}: no such checkpoint file")
    result = load_object(target)(Path(source))
    if not isinstance(result, Converted) or result.weights.config is None:
        raise WeightsError(f"converter {target} for {fmt!r} returned no Converted result with a config")
    plugin = registry.plugin_of("model", spec.name)
    metadata = WeightsMetadata(
        architecture=result.weights.architecture,
        contents=result.weights.contents,
        model=spec.name,
        plugin=plugin.dist,
        plugin_version=plugin.version,
        config=result.weights.config,
        training_data=result.training_data,
        converted_from=ConvertedFrom(
            format=fmt, source_name=Path(source).name, source_sha256=sha256_file(Path(source)), facts=result.facts
        ),
        extra=result.weights.extra,
    )
    return save_weights(out, result.weights, metadata), metadata
