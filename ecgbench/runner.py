"""One run: resolve names, build configs, load data, build the model, run the task, write the record."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import shutil
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError

from ecgbench.context import RunContext, default_cache_dir
from ecgbench.data.dataset import FoldSplit
from ecgbench.errors import ConfigError, RecordError, SpecError
from ecgbench.provenance import (
    git_state,
    package_versions,
    platform_string,
    python_version,
    resolve_device,
    seed_everything,
)
from ecgbench.records import (
    Artifact,
    DatasetInfo,
    Distributed,
    Environment,
    Metric,
    ModelInfo,
    RunError,
    RunRecord,
    Source,
    TaskInfo,
    check_writable,
    new_run_id,
    record_dir,
    sha256_file,
    write_record,
    write_samples,
)
from ecgbench.registry import Registry
from ecgbench.run_weights import (
    export,
    import_into,
    imported_info,
    is_external,
    plan_import,
    restrict_labels,
    shared_labels,
)
from ecgbench.specs import DatasetSpec, ModelSpec, TaskSpec, load_object
from ecgbench.tasks.result import TaskResult


@dataclass
class RunRequest:
    """What the user asked for (the CLI's options, parsed)."""

    task: str
    model: str
    dataset: str | None = None
    data_path: Path | None = None
    fs: int | None = None
    folds: str | None = None
    skip_bad: bool = False
    budget: str = "ci"
    seed: int = 0
    device: str = "auto"
    sets: list[str] = field(default_factory=list)
    results: Path = Path("results")
    leaderboards: Path | None = None  # rebuilt by the caller after the run; checked before it
    weights: Path | None = None  # evaluate these weights instead of training (ecgbench.run_weights)
    quiet: bool = False
    argv: list[str] = field(default_factory=list)


@dataclass
class RunOutcome:
    record: RunRecord
    path: Path


class TrainingShareDone(Exception):  # noqa: N818 - a signal, not an error
    """A rank other than 0 of a multi-process run has trained its share; rank 0 evaluates and writes."""


class _TrainingShare:
    """The model as a rank other than 0 of a multi-process run sees it: ``fit`` trains (taking
    part in every collective step), then the run is over for this process. Everything else is
    the model's own."""

    def __init__(self, model: Any):
        self._model = model

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        self._model.fit(*args, **kwargs)
        raise TrainingShareDone

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def launched_processes() -> int:
    """The number of processes a launcher (torchrun) started this run with; 1 when none did.
    Read from the environment, so a single-process run never imports torch to find out."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["nfe=10", "task.n_boot=100", "data.n_records=500"]`` -> {"model": {...}, "task": {...}, "data": {...}}.

    Values are read as JSON where they parse (numbers, booleans, lists), else kept as strings.
    """
    out: dict[str, dict[str, Any]] = {"model": {}, "task": {}, "data": {}}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value")
        scope, dot, name = key.partition(".")
        if dot and scope in ("task", "data", "model"):
            target, key = scope, name
        else:
            target = "model"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[target][key] = value
    return out


def build_config(config_cls: type[BaseModel], values: dict[str, Any], what: str,
                 exact: Iterable[str] = ()) -> BaseModel:
    """Instantiate a pydantic config, turning validation errors into one clear ConfigError.

    ``exact`` names the keys whose values the user typed (``--set``): they must already have
    the field's type, so ``true`` is no integer and ``1.5`` no whole number (pydantic's lax
    mode would turn them into 1), while a number may still stand for a float.
    """
    unknown = sorted(set(values) - set(config_cls.model_fields))
    if unknown:
        raise ConfigError(
            f"{what}: unknown setting(s) {unknown}; known: {sorted(config_cls.model_fields)}"
        )
    for key in exact:
        _check_exact_type(config_cls, key, values[key], what)
    try:
        return config_cls(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{what}: {problems}") from None


def _check_exact_type(config_cls: type[BaseModel], key: str, value: Any, what: str) -> None:
    """Validate one typed value against its field's type in pydantic's strict JSON mode."""
    try:
        adapter = TypeAdapter(config_cls.model_fields[key].annotation)
        adapter.validate_json(json.dumps(value), strict=True)
    except ValidationError as exc:
        raise ConfigError(
            f"{what}: {key}={json.dumps(value)}: {exc.errors()[0]['msg']} "
            "(values given with --set are taken as written, never converted)"
        ) from None
    except (TypeError, ValueError, PydanticSchemaGenerationError):
        return  # a type strict JSON cannot describe: the model's own validation decides


def check_seed(seed: int) -> int:
    """A run seed must seed numpy, torch and scikit-learn alike: 0 <= seed < 2**32."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ConfigError(f"--seed {seed!r}: a seed is a whole number from 0 to {2**32 - 1}")
    return seed


def _hash_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _contract_hash(task: TaskSpec) -> str:
    source = inspect.getsource(importlib.import_module(task.contract))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def resolve_dataset(registry: Registry, request: RunRequest, task: TaskSpec, extra: dict[str, Any]) -> tuple[DatasetSpec, BaseModel]:
    """The dataset spec and config a run asks for, with --data-path, --fs and --skip-bad mapped on."""
    spec = registry.dataset(request.dataset or task.default_dataset)
    return spec, dataset_config(spec, extra, request.data_path, request.fs, request.skip_bad)


def dataset_config(spec: DatasetSpec, sets: dict[str, Any], data_path: Path | None, fs: int | None,
                   skip_bad: bool) -> BaseModel:
    """A dataset's config from its ``--set data.KEY`` values and the options --data-path, --fs and
    --skip-bad; an option and a --set value that disagree are a usage error, not a silent choice."""
    config_cls = load_object(spec.config)
    values: dict[str, Any] = dict(sets)
    options: dict[str, tuple[str, Any]] = {}
    if spec.needs_path:
        if data_path is None:
            raise ConfigError(f"dataset {spec.name!r} reads a local copy: pass --data-path PATH")
        options["path"] = ("--data-path", Path(data_path))
    elif data_path is not None:
        raise ConfigError(f"dataset {spec.name!r} takes no --data-path")
    if fs is not None:
        options["fs"] = ("--fs", fs)
    if skip_bad:
        if "skip_bad" not in config_cls.model_fields:
            raise ConfigError(f"dataset {spec.name!r} has no --skip-bad option")
        options["skip_bad"] = ("--skip-bad", True)
    for key, (flag, value) in options.items():
        if key in sets and (Path(str(sets[key])) if key == "path" else sets[key]) != value:
            raise ConfigError(
                f"{flag} {value} and --set data.{key}={json.dumps(sets[key])} disagree; give one of them"
            )
        values[key] = value
    return build_config(config_cls, values, f"dataset {spec.name!r}", exact=sets)


def resolve_model_config(spec: ModelSpec, budget: str, overrides: dict[str, Any],
                         defaults: dict[str, Any] | None = None) -> BaseModel:
    """The budget's config with ``defaults`` (the spec's own, e.g. ``validate_overrides``) and the
    user's ``overrides`` (typed exactly, see :func:`build_config`) on top."""
    if budget not in spec.budgets:
        raise ConfigError(f"model {spec.name!r} has no budget {budget!r}; it has {sorted(spec.budgets)}")
    config_cls = load_object(spec.config)
    values = {**spec.budgets[budget], **(defaults or {}), **overrides}
    return build_config(config_cls, values, f"model {spec.name!r} ({budget})", exact=overrides)


def _main_first(world_size: int) -> Any:
    """Rank 0 first, then the others (a no-op for one process)."""
    if world_size == 1:
        from contextlib import nullcontext

        return nullcontext()
    from ecgbench.nn import distributed

    return distributed.main_first()


def _distributed_info() -> Distributed:
    from ecgbench.nn import distributed

    return Distributed(**distributed.describe(distributed.noted_batches()))


def _to_metric(value: Any, task: TaskSpec) -> Metric:
    spec = task.metric(value.name)
    def finite(x: float | None) -> float | None:
        return None if x is None or not np.isfinite(x) else float(x)

    has_ci = finite(value.ci_low) is not None and finite(value.ci_high) is not None
    return Metric(
        name=value.name,
        value=finite(value.value),
        ci_low=float(value.ci_low) if has_ci else None,
        ci_high=float(value.ci_high) if has_ci else None,
        ci_level=0.95 if has_ci else None,
        ci_method="bootstrap" if has_ci else "none",
        n=value.n,
        higher_is_better=None if spec is None else spec.higher_is_better,
        is_main=value.name == task.main_metric,
        params=_jsonable(value.params),
    )


def _jsonable(value: Any) -> Any:
    """Make numpy scalars/arrays and NaN JSON-safe (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def execute(request: RunRequest, registry: Registry | None = None) -> RunOutcome | None:
    """Run one task on one model and write its record (also when the run fails).

    Raises nothing for a failing model: the failure is recorded (status 'failed') and
    returned; usage errors (unknown names, bad settings) raise before anything is written.

    Launched as several processes (torchrun), every process trains its share of each batch
    (:mod:`ecgbench.nn.distributed`); rank 0 alone evaluates and writes the record, the other
    ranks return None once training is done.
    """
    registry = registry or Registry()
    task = registry.task(request.task)
    model_spec = registry.model(request.model)
    if model_spec.task != task.name:
        raise ConfigError(
            f"model {model_spec.name!r} implements the task {model_spec.task!r}, not {task.name!r}; "
            f"models for {task.name!r}: {', '.join(s.name for s in registry.models(task.name))}"
        )
    sets = parse_sets(request.sets)
    plugin = registry.plugin_of("model", model_spec.name)
    try:
        model_config = resolve_model_config(model_spec, request.budget, sets["model"])
        factory = load_object(model_spec.factory)
    except SpecError as exc:
        raise SpecError(f"model {model_spec.name!r} of plugin {plugin.name!r} ({plugin.dist} {plugin.version}): {exc}") from exc
    task_config = build_config(load_object(task.config), sets["task"], f"task {task.name!r}", exact=sets["task"])
    weights_plan = plan_import(request.weights, model_spec, model_config, request.budget) if request.weights else None
    folds = FoldSplit.parse(request.folds) if request.folds else FoldSplit()
    check_seed(request.seed)
    dataset_spec, data_config = resolve_dataset(registry, request, task, sets["data"])
    out_dir = record_dir(request.results, task.name, model_spec.name)
    world_size = launched_processes()
    main = world_size == 1 or os.environ.get("RANK", "0") == "0"
    if main:
        check_writable(out_dir, "--out")
        if request.leaderboards is not None:
            check_writable(request.leaderboards, "--leaderboards")
    if world_size > 1:
        from ecgbench.nn import distributed  # imports torch, so that --device auto sees the GPUs
    device, device_name = resolve_device(request.device)
    if world_size > 1:
        distributed.start(device)
        distributed.forget_batches()
        device = distributed.rank_device(device)
    resolved = _Resolved(registry, task, model_spec, plugin, model_config, factory, task_config, folds, dataset_spec,
                         data_config, out_dir, device, device_name, main, world_size, sets, weights_plan)
    try:
        return _execute(request, resolved)
    finally:
        if world_size > 1:
            distributed.stop()


@dataclass
class _Resolved:
    """What :func:`execute` checked and resolved before the run starts."""

    registry: Registry
    task: TaskSpec
    model_spec: ModelSpec
    plugin: Any
    model_config: BaseModel
    factory: Any
    task_config: BaseModel
    folds: FoldSplit
    dataset_spec: DatasetSpec
    data_config: BaseModel
    out_dir: Path
    device: str
    device_name: str
    main: bool
    world_size: int
    sets: dict[str, dict[str, Any]]
    weights_plan: Any


def _execute(request: RunRequest, r: _Resolved) -> RunOutcome | None:
    """The run itself, once names, settings and (for several processes) the process group are set."""
    registry, task, model_spec, plugin, sets = r.registry, r.task, r.model_spec, r.plugin, r.sets
    model_config, factory, task_config, folds = r.model_config, r.factory, r.task_config, r.folds
    dataset_spec, data_config, out_dir, device, device_name = r.dataset_spec, r.data_config, r.out_dir, r.device, r.device_name
    main, world_size, weights_plan = r.main, r.world_size, r.weights_plan

    run_id = new_run_id()
    artifacts_dir = out_dir / run_id
    ctx = RunContext(seed=request.seed, artifacts_dir=artifacts_dir, cache_dir=default_cache_dir(),
                     quiet=request.quiet or not main)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    stage = "load"
    dataset_info: DatasetInfo | None = None
    result: TaskResult | None = None
    weights_info, weights_sha256, trained_by_run = None, None, None
    if weights_plan is not None:
        weights_sha256, trained_by_run = weights_plan.sha256, weights_plan.metadata.trained_by_run
    errors: list[RunError] = []
    ctx.device = device
    try:
        with ctx.phase("load"), _main_first(world_size):  # rank 0 builds the cache, the others read it
            dataset = load_object(dataset_spec.factory)(data_config)
        if weights_plan is not None:
            external = is_external(weights_plan, dataset)
            shared = shared_labels(weights_plan, dataset) if external else None
            weights_info = imported_info(weights_plan, external, shared)
            if shared is not None:  # score only the statements both datasets carry
                dataset = restrict_labels(dataset, shared)
        dataset_info = DatasetInfo(
            name=dataset_spec.name,
            config=_jsonable(data_config.model_dump()),
            fingerprint=dataset.fingerprint,
            n_records=len(dataset),
            fs=float(dataset.fs),
            n_samples=dataset.n_samples,
            folds=folds.describe(),
            fold_override=request.folds is not None,
            info=_jsonable(dataset.info),
        )
        stage = "build"
        with ctx.phase("build"):
            seed_everything(request.seed)
            model = factory(model_config, ctx)
            if weights_plan is not None:
                import_into(model, weights_plan, model_spec.name)
        if not main:
            if not callable(getattr(model, "fit", None)):
                return None  # nothing to train: rank 0 does the whole run
            model = _TrainingShare(model)
        stage = "task"
        runner = load_object(task.runner)
        result = runner(model=model, model_name=model_spec.name, dataset=dataset, folds=folds,
                        config=task_config, ctx=ctx)
    except TrainingShareDone:
        return None
    except Exception as exc:  # the record must say how the run failed, whatever failed
        if not main:
            raise  # a rank other than 0 writes nothing: it fails, and the launcher stops the run
        errors.append(
            RunError(
                stage=stage,
                type=type(exc).__name__,
                message=str(exc),
                traceback_tail="".join(traceback.format_exception(exc)[-3:])[-2000:],
            )
        )
    finished = datetime.now(UTC)

    artifacts: list[Artifact] = []
    if result is not None:
        try:
            if result.samples:
                samples_path = write_samples(result.samples, out_dir / f"{run_id}.samples.npz")
                artifacts.append(Artifact(path=samples_path.name, sha256=sha256_file(samples_path), kind="samples"))
            for path, kind in result.artifacts:
                artifacts.append(Artifact(path=str(Path(path).relative_to(out_dir)), sha256=sha256_file(Path(path)), kind=kind))
            if weights_plan is None:
                exported = export(model, spec=model_spec, plugin=(plugin.dist, plugin.version), config=model_config,
                                  dataset=dataset, folds=folds, seed=request.seed, budget=request.budget,
                                  run_id=run_id, out_dir=out_dir, cache_dir=ctx.cache_dir)
                if exported is not None:
                    weights_info, weights_sha256, weights_artifact = exported
                    trained_by_run = run_id
                    artifacts += [weights_artifact] if weights_artifact is not None else []
        except (RecordError, OSError) as exc:  # the record still says what the run measured
            errors.append(RunError(stage="write", type=type(exc).__name__, message=str(exc)))
    elif artifacts_dir.exists():
        shutil.rmtree(artifacts_dir)

    commit, dirty = git_state()
    from ecgbench import __version__

    overrides = sets["model"]
    record = RunRecord(
        run_id=run_id,
        status="completed" if result is not None and not errors else "failed",
        argv=request.argv,
        task=TaskInfo(name=task.name, version=task.version, contract_hash=_contract_hash(task),
                      config=_jsonable(task_config.model_dump())),
        model=ModelInfo(
            name=model_spec.name,
            requested_as=request.model,
            plugin=plugin.name,
            plugin_dist=plugin.dist,
            plugin_version=plugin.version,
            factory=model_spec.factory,
            config=_jsonable(model_config.model_dump()),
            config_hash=_hash_json(model_config.model_dump(mode="json")),
            overrides=_jsonable(overrides),
            variant=",".join(f"{k}={overrides[k]}" for k in sorted(overrides)),
            training_datasets=list(model_spec.training_datasets),
            wiring_check=bool(model_spec.wiring_check or ctx.notes.get("wiring_check", False)),
        ),
        dataset=dataset_info if dataset_info is None or result is None
        else dataset_info.model_copy(update={"splits": result.splits}),
        budget=request.budget,  # type: ignore[arg-type]
        seed=request.seed,
        environment=Environment(
            python=python_version(),
            platform=platform_string(),
            packages={**package_versions(), "ecgbench-harness": __version__},
            plugins=registry.versions(),
            device=ctx.device,
            device_name=device_name,
        ),
        source=Source(git_commit=commit, git_dirty=dirty),
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
        wall_seconds=round(time.perf_counter() - t0, 3),
        phases={k: round(v, 3) for k, v in ctx.phases.items()},
        metrics=[_to_metric(m, task) for m in result.metrics] if result is not None else [],
        world_size=world_size,
        distributed=_distributed_info() if world_size > 1 else None,
        notes=_jsonable({**ctx.notes, **(result.notes if result is not None else {})}),
        artifacts=artifacts,
        errors=errors,
        weights_sha256=weights_sha256,
        trained_by_run=trained_by_run,
        weights=weights_info,
    )
    path = write_record(record, request.results)
    return RunOutcome(record=record, path=path)
