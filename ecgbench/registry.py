"""The plugin manager: loads entry points one by one, isolates failures, resolves names.

Every plugin — the built-in one included — is a module implementing hooks from
:mod:`ecgbench.hookspecs`. Each entry point is loaded, registered and asked for its specs on
its own; a failure at any step rolls that plugin back and records why, and every other plugin
keeps working (one broken plugin never takes the harness down).

Environment switches (as pytest, llm and tox have them):

``ECGBENCH_LOAD_PLUGINS=a,b``     load only these entry points ('' loads none but the built-in)
``ECGBENCH_DISABLE_PLUGINS=a,b``  block these entry points (status ``blocked``)
``ECGBENCH_STRICT_PLUGINS=1``     re-raise the first plugin failure (for a plugin's own CI)

Name clashes: the built-in plugin, or else the plugin registered first, keeps a name; the
newcomer is marked broken with both plugins named. Which of two third-party plugins registers
first is an accident of their entry-point names, so a name two of them claim cannot be used
until one is disabled: neither side wins silently.
"""

from __future__ import annotations

import difflib
import importlib
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Literal

import pluggy
from pydantic import ValidationError

from ecgbench import hookspecs
from ecgbench.errors import BrokenPluginError, NameClashError, SpecError, UnknownNameError
from ecgbench.specs import DatasetSpec, ModelSpec, TaskSpec

ENTRY_POINT_GROUP = "ecgbench"
BUILTIN = "ecgbench.builtin"

Status = Literal["ok", "broken", "blocked", "incompatible"]
Spec = ModelSpec | DatasetSpec | TaskSpec
_KINDS: dict[str, tuple[str, type]] = {
    "ecgbench_register_tasks": ("task", TaskSpec),
    "ecgbench_register_datasets": ("dataset", DatasetSpec),
    "ecgbench_register_models": ("model", ModelSpec),
}


class _Incompatible(Exception):
    """A spec needs a newer plugin API than this ecgbench provides."""


@dataclass
class PluginStatus:
    """What ``ecgbench plugins`` shows for one plugin."""

    name: str
    dist: str
    version: str
    status: Status
    error: str = ""
    registered: dict[str, list[str]] = field(default_factory=lambda: {"task": [], "dataset": [], "model": []})


@dataclass(frozen=True)
class _EntryPoint:
    """The parts of an importlib entry point the loader uses (lets tests pass fakes)."""

    name: str
    value: str
    dist: str
    version: str
    load: Callable[[], object]


def _entry_points() -> list[_EntryPoint]:
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        found.append(_EntryPoint(ep.name, ep.value, dist, version, ep.load))
    return sorted(found, key=lambda e: e.name)


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


_HARNESS_DIR = os.path.dirname(os.path.abspath(hookspecs.__file__))
_LIBRARY_DIRS = tuple(
    os.path.dirname(os.path.abspath(m.__file__)) for m in (pluggy, importlib.import_module("pydantic"))
)


def validation_problems(exc: ValidationError) -> str:
    """``field: message; ...`` of a pydantic validation error, on one line."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '(whole spec)'}: {e['msg']}" for e in exc.errors()
    )


def _short_error(exc: BaseException) -> str:
    """The exception on one line and the plugin's own line it came from, without a long traceback.

    A spec that fails validation names each field and its problem. The location is the last
    frame in the plugin's code (not in ecgbench, pluggy or pydantic), else the last frame.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith((_HARNESS_DIR, *_LIBRARY_DIRS))]
    frame = (own or frames or [None])[-1]
    where = f" ({frame.filename}:{frame.lineno})" if frame is not None else ""
    if isinstance(exc, ValidationError):
        return f"invalid {exc.title}: {validation_problems(exc)}{where}"
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0] if message else ''}{where}"


class Registry:
    """Specs from every plugin that loaded, by kind and name, with aliases and statuses."""

    def __init__(self, entry_points: Iterable[_EntryPoint] | None = None, strict: bool | None = None):
        self.pm = pluggy.PluginManager("ecgbench")
        self.pm.add_hookspecs(hookspecs)
        self.strict = os.environ.get("ECGBENCH_STRICT_PLUGINS") == "1" if strict is None else strict
        self.specs: dict[str, dict[str, Spec]] = {"task": {}, "dataset": {}, "model": {}}
        self.aliases: dict[str, dict[str, str]] = {"task": {}, "dataset": {}, "model": {}}
        self.owner: dict[tuple[str, str], str] = {}
        #: (kind, name) -> plugins that claimed the name after its owner (each of them broken).
        self.contested: dict[tuple[str, str], list[str]] = {}
        #: (kind, name) -> the broken plugin that had registered it before it was rolled back.
        self.withdrawn: dict[tuple[str, str], str] = {}
        self.plugins: list[PluginStatus] = []
        self._modules: dict[str, ModuleType] = {}
        builtin = importlib.import_module(BUILTIN)
        from ecgbench import __version__

        self._load("builtin", "ecgbench-harness", __version__, lambda: builtin)
        eps = _entry_points() if entry_points is None else list(entry_points)
        only, blocked = _env_list("ECGBENCH_LOAD_PLUGINS"), _env_list("ECGBENCH_DISABLE_PLUGINS") or set()
        for ep in eps:
            if only is not None and ep.name not in only:
                continue
            if ep.name in blocked:
                self.plugins.append(PluginStatus(ep.name, ep.dist, ep.version, "blocked", "ECGBENCH_DISABLE_PLUGINS"))
                continue
            self._load(ep.name, ep.dist, ep.version, ep.load)
        self._check_model_tasks()

    # -- loading ---------------------------------------------------------------------------

    def _load(self, name: str, dist: str, version: str, load: Callable[[], object]) -> None:
        status = PluginStatus(name, dist, version, "ok")
        added: list[tuple[str, str]] = []
        module: object | None = None
        try:
            module = load()
            if not isinstance(module, ModuleType):
                raise SpecError(f"entry point {name!r} must name a module, got {type(module).__name__}")
            if self.pm.is_registered(module):
                raise SpecError(f"module {module.__name__} is registered already under another name")
            self.pm.register(module, name=name)
            self._check_hook_names(module)
            for hook_name, (kind, spec_cls) in _KINDS.items():
                for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                    if impl.plugin is module:
                        register = self._register_callback(kind, spec_cls, status, added)
                        kwargs = {"register": register} if "register" in impl.argnames else {}
                        impl.function(**kwargs)
        except Exception as exc:  # a plugin may fail in any way; it must not take the harness down
            self.plugins.append(status)
            self._roll_back(status, module, added, "incompatible" if isinstance(exc, _Incompatible) else "broken",
                            _short_error(exc))
            if self.strict or name == "builtin":
                raise
            return
        self.plugins.append(status)
        if isinstance(module, ModuleType):
            self._modules[name] = module

    def _roll_back(self, status: PluginStatus, module: object, added: list[tuple[str, str]], state: Status,
                   error: str) -> None:
        """Forget everything a plugin registered and give it a failure status."""
        for kind, spec_name in added:
            self._forget(kind, spec_name)
            self.withdrawn[(kind, spec_name)] = status.name
        if isinstance(module, ModuleType) and self.pm.is_registered(module):
            self.pm.unregister(module)
        status.status, status.error = state, error
        status.registered = {"task": [], "dataset": [], "model": []}

    def _check_model_tasks(self) -> None:
        """A plugin with a model for a task that no plugin registers is broken (not 'ok' with a
        model that no task can run); repeated, since a broken plugin may take tasks with it."""
        changed = True
        while changed:
            changed = False
            for status in self.plugins:
                if status.status != "ok":
                    continue
                for name in status.registered["model"]:
                    task = self.specs["model"][name].task  # type: ignore[union-attr]
                    if task not in self.specs["task"]:
                        error = (f"SpecError: model {name!r} names the task {task!r}, which no plugin registers; "
                                 f"tasks: {', '.join(sorted(self.specs['task']))}")
                        added = [(kind, n) for kind, names in status.registered.items() for n in names]
                        self._roll_back(status, self._modules.get(status.name), added, "broken", error)
                        if self.strict:
                            raise SpecError(error)
                        changed = True
                        break

    def _check_hook_names(self, module: ModuleType) -> None:
        """A misspelled hook is an error, not a silent no-op (pluggy's check_pending)."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise SpecError(f"{exc}; known hooks: {', '.join(sorted(_KINDS))}") from exc

    def _register_callback(
        self, kind: str, spec_cls: type, status: PluginStatus, added: list[tuple[str, str]]
    ) -> Callable[[Spec], None]:
        def register(spec: Spec) -> None:
            if not isinstance(spec, spec_cls):
                raise SpecError(f"register() for {kind}s takes a {spec_cls.__name__}, got {type(spec).__name__}")
            try:
                spec = spec_cls.model_validate(spec.model_dump())
            except ValidationError as exc:
                raise SpecError(
                    f"invalid {kind} spec {getattr(spec, 'name', '?')!r}: {validation_problems(exc)}"
                ) from exc
            if getattr(spec, "requires_api", 1) > hookspecs.ECGBENCH_PLUGIN_API:
                raise _Incompatible(
                    f"{kind} {spec.name!r} needs plugin API {spec.requires_api}; this ecgbench has "
                    f"{hookspecs.ECGBENCH_PLUGIN_API}. Upgrade ecgbench-harness."
                )
            for taken in (spec.name, *spec.aliases):
                if taken in self.aliases[kind]:
                    owner_name = self.aliases[kind][taken]
                    if self.owner[(kind, owner_name)] == status.name:
                        raise SpecError(f"plugin {status.name!r} registers the {kind} name {taken!r} twice")
                    other = self.plugin_of(kind, owner_name)
                    self.contested.setdefault((kind, owner_name), []).append(status.name)
                    self.withdrawn.setdefault((kind, spec.name), status.name)
                    keeps = "the built-in plugin keeps it" if other.name == "builtin" else (
                        f"{other.name!r} registered it first and keeps it; the name cannot be used until "
                        f"one of the two is disabled (ECGBENCH_DISABLE_PLUGINS)"
                    )
                    raise SpecError(
                        f"{kind} name {taken!r} of plugin {status.name!r} ({status.dist} {status.version}) "
                        f"clashes with plugin {other.name!r} ({other.dist} {other.version}); {keeps}"
                    )
            self.specs[kind][spec.name] = spec
            for taken in (spec.name, *spec.aliases):
                self.aliases[kind][taken] = spec.name
            self.owner[(kind, spec.name)] = status.name
            added.append((kind, spec.name))
            status.registered[kind].append(spec.name)

        return register

    def _forget(self, kind: str, name: str) -> None:
        self.specs[kind].pop(name, None)
        self.aliases[kind] = {k: v for k, v in self.aliases[kind].items() if v != name}
        self.owner.pop((kind, name), None)

    # -- lookups ---------------------------------------------------------------------------

    def resolve(self, kind: str, name: str) -> Spec:
        """The spec registered under a name or alias.

        An unknown name gets suggestions; a name of a broken plugin says so; a name that two
        third-party plugins claim is refused (see the module docstring).
        """
        canonical = self.aliases[kind].get(name)
        if canonical is None:
            failed = [p for p in self.plugins if p.status in ("broken", "incompatible")]
            owner = self.withdrawn.get((kind, name))
            if owner is not None:
                raise BrokenPluginError(kind, name, next(p for p in failed if p.name == owner))
            known = sorted(self.aliases[kind])
            suggestions = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            raise UnknownNameError(kind, name, suggestions, sorted(self.specs[kind]), failed)
        rivals = self.contested.get((kind, canonical))
        owner = self.plugin_of(kind, canonical)
        if rivals and owner.name != "builtin":
            raise NameClashError(kind, canonical, owner, [p for p in self.plugins if p.name in rivals])
        return self.specs[kind][canonical]

    def model(self, name: str) -> ModelSpec:
        spec = self.resolve("model", name)
        assert isinstance(spec, ModelSpec)
        return spec

    def task(self, name: str) -> TaskSpec:
        spec = self.resolve("task", name)
        assert isinstance(spec, TaskSpec)
        return spec

    def dataset(self, name: str) -> DatasetSpec:
        spec = self.resolve("dataset", name)
        assert isinstance(spec, DatasetSpec)
        return spec

    def models(self, task: str | None = None) -> list[ModelSpec]:
        found = [s for s in self.specs["model"].values() if isinstance(s, ModelSpec)]
        return sorted((s for s in found if task is None or s.task == task), key=lambda s: s.name)

    def plugin_of(self, kind: str, name: str) -> PluginStatus:
        """The status entry of the plugin that registered a spec."""
        owner = self.owner[(kind, name)]
        return next(p for p in self.plugins if p.name == owner)

    def versions(self) -> dict[str, str]:
        """{distribution: version} of every plugin that loaded (for run records)."""
        return {p.dist: p.version for p in self.plugins if p.status == "ok"}
