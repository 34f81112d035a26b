"""The plugin manager: loads entry points one by one, isolates failures, resolves names.

Every plugin — the built-in one included — is a module implementing hooks from
:mod:`ecgbench.hookspecs`. Each entry point is loaded, registered and asked for its specs on
its own; a failure at any step rolls that plugin back and records why, and every other plugin
keeps working (one broken plugin never takes the harness down).

Environment switches (as pytest, llm and tox have them):

``ECGBENCH_LOAD_PLUGINS=a,b``     load only these entry points ('' loads none but the built-in)
``ECGBENCH_DISABLE_PLUGINS=a,b``  block these entry points (status ``blocked``)
``ECGBENCH_STRICT_PLUGINS=1``     re-raise the first plugin failure (for a plugin's own CI)
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
from ecgbench.errors import SpecError, UnknownNameError
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


def _short_error(exc: BaseException) -> str:
    """The exception and the last frame it passed through, without a long traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
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
        self.plugins: list[PluginStatus] = []
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
            for kind, spec_name in added:
                self._forget(kind, spec_name)
            if module is not None and isinstance(module, ModuleType) and self.pm.is_registered(module):
                self.pm.unregister(module)
            status.status = "incompatible" if isinstance(exc, _Incompatible) else "broken"
            status.error = _short_error(exc)
            status.registered = {"task": [], "dataset": [], "model": []}
            self.plugins.append(status)
            if self.strict or name == "builtin":
                raise
            return
        self.plugins.append(status)

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
                raise SpecError(f"invalid {kind} spec {getattr(spec, 'name', '?')!r}: {exc}") from exc
            if getattr(spec, "requires_api", 1) > hookspecs.ECGBENCH_PLUGIN_API:
                raise _Incompatible(
                    f"{kind} {spec.name!r} needs plugin API {spec.requires_api}; this ecgbench has "
                    f"{hookspecs.ECGBENCH_PLUGIN_API}. Upgrade ecgbench-harness."
                )
            for taken in (spec.name, *spec.aliases):
                if taken in self.aliases[kind]:
                    other = self.owner[(kind, self.aliases[kind][taken])]
                    raise SpecError(
                        f"{kind} name {taken!r} of plugin {status.name!r} ({status.dist} {status.version}) "
                        f"clashes with plugin {other!r}; the first registered keeps it"
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
        """The spec registered under a name or alias; unknown names get suggestions."""
        canonical = self.aliases[kind].get(name)
        if canonical is None:
            known = sorted(self.aliases[kind])
            suggestions = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            raise UnknownNameError(kind, name, suggestions, sorted(self.specs[kind]))
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
