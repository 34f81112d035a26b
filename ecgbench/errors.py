"""Exception classes: each names the thing that failed and, where there is one, the fix."""

from __future__ import annotations

from typing import Any


class ECGBenchError(Exception):
    """Base class of every error ecgbench raises on purpose."""


def _plugin(status: Any) -> str:
    return f"{status.name!r} ({status.dist} {status.version})"


class UnknownNameError(ECGBenchError, KeyError):
    """A model, task or dataset name that nothing registered."""

    def __init__(self, kind: str, name: str, suggestions: list[str], available: list[str],
                 failed_plugins: list[Any] = ()):
        self.kind, self.name = kind, name
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        listed = ", ".join(available) if available else "(none registered)"
        failed = ""
        if failed_plugins:
            failed = (f" Plugins that failed to load, which may provide it: "
                      f"{'; '.join(f'{_plugin(p)} {p.status}: {p.error}' for p in failed_plugins)}"
                      " (see `ecgbench plugins`)")
        super().__init__(f"Unknown {kind} {name!r}.{hint} Available: {listed}.{failed}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class BrokenPluginError(UnknownNameError):
    """A name registered by a plugin that then failed to load (and was rolled back)."""

    def __init__(self, kind: str, name: str, plugin: Any):
        self.kind, self.name, self.plugin = kind, name, plugin
        KeyError.__init__(
            self,
            f"The {kind} {name!r} is not available: its plugin {_plugin(plugin)} is {plugin.status}: "
            f"{plugin.error}. `ecgbench plugins` shows every plugin's status.",
        )


class SpecError(ECGBenchError):
    """A plugin registered an invalid spec, or a name that another plugin already owns."""


class ConfigError(ECGBenchError):
    """A configuration value (from --set, a budget or a file) that the config model rejects."""


class NameClashError(ConfigError):
    """A name that two third-party plugins claim: which one is meant cannot be told."""

    def __init__(self, kind: str, name: str, owner: Any, rivals: list[Any]):
        self.kind, self.name = kind, name
        others = ", ".join(_plugin(p) for p in rivals)
        disable = " or ".join(f"ECGBENCH_DISABLE_PLUGINS={p.name}" for p in (owner, *rivals))
        super().__init__(
            f"The {kind} name {name!r} is claimed by plugin {_plugin(owner)}, which registered it first, "
            f"and by {others}, now broken. Which is meant cannot be told: disable one ({disable})."
        )


class ContractViolation(ECGBenchError):
    """A model's output broke a clause of its task contract."""

    def __init__(self, model: str, clause: str, detail: str):
        self.model, self.clause, self.detail = model, clause, detail
        super().__init__(f"model {model!r} broke the contract clause '{clause}': {detail}")


class DataError(ECGBenchError):
    """Bad input data: the message names the file, record or field and the problem."""


class RecordError(ECGBenchError):
    """A run record that cannot be written or read back."""
