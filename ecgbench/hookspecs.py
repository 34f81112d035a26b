"""The whole plugin surface of ecgbench.

A plugin is a module named by an entry point in the group ``ecgbench``. It implements any of
the hooks below with ``@ecgbench.hookimpl``. Every hook receives a ``register`` callable and
calls it once per spec; the harness validates each spec, resolves name clashes and keeps
every plugin's failures to that plugin. An implementation may accept a subset of a hook's
arguments, so arguments can be added later without breaking plugins.

A plugin module must stay light: it imports ``ecgbench`` and pydantic only, and names its
heavy code by import strings (``"pkg.module:Class"``) that are loaded when a run needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ecgbench.specs import DatasetSpec, ModelSpec, TaskSpec

#: Bumped only on breaking changes to the hooks or the specs; a spec may require a newer API.
ECGBENCH_PLUGIN_API = 1

hookspec = pluggy.HookspecMarker("ecgbench")
hookimpl = pluggy.HookimplMarker("ecgbench")


@hookspec
def ecgbench_register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register models: call ``register(ModelSpec(...))`` once per model.

    :param register: takes a :class:`ecgbench.ModelSpec`; raises when the spec is invalid or its
        name or an alias is already taken.
    """


@hookspec
def ecgbench_register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Register datasets: call ``register(DatasetSpec(...))`` once per dataset.

    :param register: takes a :class:`ecgbench.DatasetSpec`.
    """


@hookspec
def ecgbench_register_tasks(register: Callable[[TaskSpec], None]) -> None:
    """Register tasks: call ``register(TaskSpec(...))`` once per task.

    The four built-in tasks register through this hook too.

    :param register: takes a :class:`ecgbench.TaskSpec`.
    """
