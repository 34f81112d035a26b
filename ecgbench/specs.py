"""Specs: the cheap, import-light descriptions that plugins register.

A spec names its heavy parts by import strings (``"pkg.module:attr"``), so listing what is
installed never imports torch; :func:`load_object` materialises them when a run needs them.
"""

from __future__ import annotations

import importlib
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ecgbench.errors import SpecError

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def load_object(import_string: str) -> Any:
    """Import ``"pkg.module:attr"`` and return the attribute; SpecError saying why it cannot be."""
    if not _IMPORT_STRING.match(import_string):
        raise SpecError(f"{import_string!r} is not an import string of the form 'pkg.module:attr'")
    module_name, _, attr = import_string.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # a module may fail to import in any way (syntax, missing dependency)
        first = (str(exc).strip().splitlines() or [""])[0]
        raise SpecError(
            f"{import_string!r}: the module {module_name!r} cannot be imported ({type(exc).__name__}: {first})"
        ) from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SpecError(f"{import_string!r}: the module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="canonical name: lower case, digits, '.', '_' or '-'")
    aliases: tuple[str, ...] = Field(default=(), description="other names that resolve to this one")
    summary: str = Field(description="one line, shown by the listing commands")

    @field_validator("name", "aliases")
    @classmethod
    def _names_are_simple(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for name in (value,) if isinstance(value, str) else value:
            if not _NAME.match(name):
                raise ValueError(f"{name!r}: use lower case letters, digits, '.', '_' or '-'")
        return value


def _check_import_string(value: str) -> str:
    if not _IMPORT_STRING.match(value):
        raise ValueError(f"{value!r} is not an import string of the form 'pkg.module:attr'")
    return value


ImportString = Annotated[str, AfterValidator(_check_import_string)]


class MetricSpec(BaseModel):
    """One metric a task reports: its direction and unit, so tables can show ↑/↓."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    higher_is_better: bool
    unit: str = ""
    description: str = ""


class WeightsSpec(BaseModel):
    """How a model takes part in weights as artifacts (``ecgbench run --weights FILE`` and
    ``ecgbench weights convert``); see :mod:`ecgbench.weights`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accepts: tuple[str, ...] = Field(
        description="architectures `--weights` may load: the model's own exports (its name) and shared parts "
        "such as a pre-trained encoder"
    )
    adaptable: tuple[str, ...] = Field(
        default=(),
        description="config fields that may differ from the weights' config, because they do not change what "
        "the weights mean (sampling steps, batch sizes): the run's value is used and recorded",
    )
    converters: dict[str, ImportString] = Field(
        default_factory=dict,
        description="format name -> 'pkg.module:convert', called as convert(path) -> "
        "ecgbench.conversion.Converted: `ecgbench weights convert --from FORMAT IN OUT`",
    )


class ModelSpec(_Spec):
    """A model that satisfies one task contract."""

    task: str = Field(description="the task whose contract the model implements")
    factory: ImportString = Field(description="'pkg.module:callable' called as factory(config, ctx)")
    config: ImportString = Field(description="'pkg.module:ConfigModel', a pydantic model of the hyper-parameters")
    budgets: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"ci": {}, "paper": {}},
        description="config overrides per budget: 'ci' (minutes on 2 CPU cores) and 'paper'",
    )
    citation: str = ""
    reference: str = Field(default="", description="URL of the paper or code")
    license: str = ""
    training_datasets: tuple[str, ...] = Field(
        default=(), description="datasets its shipped weights saw; empty when it trains in the run"
    )
    wiring_check: bool = Field(
        default=False, description="scores only show that the pipeline runs; never ranked as a result"
    )
    requires_api: int = Field(default=1, description="lowest ECGBENCH_PLUGIN_API the spec needs")
    validate_overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="config overrides on top of 'ci' that make the model tiny enough for "
        "`ecgbench validate` and the contract tests (seconds, not minutes)",
    )
    weights: WeightsSpec | None = Field(
        default=None, description="which weights the model loads, which settings may differ, its converters"
    )

    @field_validator("budgets")
    @classmethod
    def _has_both_budgets(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        missing = {"ci", "paper"} - set(value)
        if missing:
            raise ValueError(f"budgets lack {sorted(missing)}: every model needs a 'ci' and a 'paper' config")
        return value


class DatasetSpec(_Spec):
    """A source of ECG records, loaded into an :class:`ecgbench.data.ECGDataset`."""

    factory: ImportString = Field(description="'pkg.module:callable' called as factory(config) -> ECGDataset")
    config: ImportString = Field(description="'pkg.module:ConfigModel' of the loading options")
    needs_path: bool = Field(default=False, description="reads a local copy given by --data-path")
    citation: str = ""
    license: str = ""


class TaskSpec(_Spec):
    """A task contract and the evaluator that scores it."""

    version: int = Field(description="bumped whenever a change would change scores")
    contract: str = Field(description="module holding the model Protocol and the output checks")
    runner: ImportString = Field(description="'pkg.module:callable' called as runner(model, data, config, ctx)")
    config: ImportString = Field(description="'pkg.module:ConfigModel' of the evaluator's settings")
    main_metric: str
    metrics: tuple[MetricSpec, ...]
    default_dataset: str = "phantom"
    protocol: ImportString | None = Field(
        default=None,
        description="'pkg.module:Protocol', a runtime-checkable Protocol every model of the task implements "
        "(`ecgbench validate` checks it)",
    )
    validate_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="evaluator settings that make the task's run quick enough for `ecgbench validate`",
    )
    repeat_check: ImportString | None = Field(
        default=None,
        description="'pkg.module:callable' called as check(model, dataset) -> bool after a run: the same "
        "call twice gives the same output (a fixed seed where the call takes one)",
    )
    scorer: ImportString | None = Field(
        default=None,
        description="'pkg.module:callable' called as scorer(arrays, path, seed) -> list[MetricValue]: "
        "the task's metrics from the arrays of a samples file (`ecgbench score`)",
    )

    def metric(self, name: str) -> MetricSpec | None:
        """The spec of a metric by name; names with a subset suffix fall back to their stem."""
        for spec in self.metrics:
            if spec.name == name:
                return spec
        for spec in self.metrics:
            if name.startswith(spec.name + "_"):
                return spec
        return None
