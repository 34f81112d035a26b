"""Exception classes: each names the thing that failed and, where there is one, the fix."""

from __future__ import annotations


class ECGBenchError(Exception):
    """Base class of every error ecgbench raises on purpose."""


class UnknownNameError(ECGBenchError, KeyError):
    """A model, task or dataset name that nothing registered."""

    def __init__(self, kind: str, name: str, suggestions: list[str], available: list[str]):
        self.kind, self.name = kind, name
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        listed = ", ".join(available) if available else "(none registered)"
        super().__init__(f"Unknown {kind} {name!r}.{hint} Available: {listed}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class SpecError(ECGBenchError):
    """A plugin registered an invalid spec, or a name that another plugin already owns."""


class ConfigError(ECGBenchError):
    """A configuration value (from --set, a budget or a file) that the config model rejects."""


class ContractViolation(ECGBenchError):
    """A model's output broke a clause of its task contract."""

    def __init__(self, model: str, clause: str, detail: str):
        self.model, self.clause, self.detail = model, clause, detail
        super().__init__(f"model {model!r} broke the contract clause '{clause}': {detail}")


class DataError(ECGBenchError):
    """Bad input data: the message names the file, record or field and the problem."""


class RecordError(ECGBenchError):
    """A run record that cannot be written or read back."""
