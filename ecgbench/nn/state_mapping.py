"""Mapping a foreign checkpoint's state dict onto a network here, key by key, with no silent gaps.

A converter reads the authors' checkpoint with :func:`load_foreign_checkpoint` (never
unpickling arbitrary objects), then takes every tensor it maps from a :class:`SourceState`,
which checks the shape it expects and remembers what was taken. Tensors that the original
derives from others (cached FFT nodes, a conjugate copy) are *verified* and accounted for, not
ignored. :meth:`SourceState.finish` fails when any key was never used or used twice, and
:func:`fill_target` fails unless every key of the target network is filled once with a tensor
of its shape: a conversion either maps everything or names what it could not.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import torch
from torch import nn

from ecgbench.weights import WeightsError


def load_foreign_checkpoint(path: Path | str) -> dict:
    """``torch.load(path, weights_only=True)`` with errors that name the file.

    Only tensors, numbers, strings and containers of them are accepted: a checkpoint that
    pickles other objects (a config class, an optimizer object) is refused, never executed.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such checkpoint file")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(
            f"{path}: the checkpoint holds objects other than tensors and plain values, which are not loaded "
            f"(weights_only): {first}"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable torch checkpoint ({exc})") from None
    if not isinstance(loaded, dict):
        raise WeightsError(f"{path}: expected a dict at the top of the checkpoint, found {type(loaded).__name__}")
    return loaded


def tensors_of(value: object, path: Path | str, where: str) -> dict[str, torch.Tensor]:
    """``value`` as a state dict (str -> tensor), or WeightsError naming ``where``."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in value.items()):
        raise WeightsError(f"{path}: {where} is not a state dict of named tensors")
    return dict(value)


class SourceState:
    """The tensors of a foreign state dict, each to be used exactly once.

    ``name`` (e.g. the checkpoint's file name) prefixes every error message.
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor], name: str):
        self.tensors = dict(tensors)
        self.name = name
        self.used: dict[str, str] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.tensors

    def __iter__(self) -> Iterator[str]:
        return iter(self.tensors)

    def take(self, key: str, shape: tuple[int, ...] | None = None, *, role: str = "mapped") -> torch.Tensor:
        """The tensor under ``key``, checked to have ``shape``; marks it used."""
        if key not in self.tensors:
            raise WeightsError(f"{self.name}: the checkpoint has no tensor {key!r}; it is needed for the conversion")
        if key in self.used:
            raise WeightsError(f"{self.name}: tensor {key!r} would be used twice (first {self.used[key]})")
        tensor = self.tensors[key]
        if shape is not None and tuple(tensor.shape) != tuple(shape):
            raise WeightsError(
                f"{self.name}: tensor {key!r} has shape {list(tensor.shape)}, the published architecture gives "
                f"{list(shape)}; the checkpoint was made with another configuration"
            )
        self.used[key] = role
        return tensor

    def verify(self, key: str, expected: torch.Tensor, what: str, *, rtol: float = 1e-5, atol: float = 1e-6) -> None:
        """Account for a tensor the original derives from others: it must equal ``expected``."""
        tensor = self.take(key, tuple(expected.shape), role=f"verified ({what})")
        if not torch.allclose(tensor.to(expected.dtype), expected, rtol=rtol, atol=atol):
            worst = float((tensor.to(expected.dtype) - expected).abs().max())
            raise WeightsError(f"{self.name}: tensor {key!r} should be {what}, but differs by up to {worst:.3g}")

    def finish(self) -> dict[str, int]:
        """Fail unless every tensor was used; returns counts of keys by role and parameters mapped."""
        unused = [k for k in self.tensors if k not in self.used]
        if unused:
            shown = ", ".join(repr(k) for k in unused[:8])
            more = f" and {len(unused) - 8} more" if len(unused) > 8 else ""
            raise WeightsError(
                f"{self.name}: {len(unused)} tensor(s) of the checkpoint have no place in the conversion: {shown}{more}; "
                "the checkpoint's architecture differs from the published one"
            )
        mapped = [k for k, role in self.used.items() if role == "mapped"]
        return {
            "source_keys": len(self.tensors),
            "source_keys_mapped": len(mapped),
            "source_keys_verified": len(self.tensors) - len(mapped),
            "source_parameters_mapped": int(sum(self.tensors[k].numel() for k in mapped)),
        }


def fill_target(network: nn.Module, values: Mapping[str, torch.Tensor], name: str,
                leave_out: Callable[[str], bool] | None = None) -> dict[str, torch.Tensor]:
    """``network``'s state dict with every entry replaced by ``values``; each key filled exactly
    once with a tensor of its shape (cast to its dtype), or WeightsError naming the key.
    ``leave_out`` names target keys the source cannot have (parts used only in training)."""
    target = {k: v for k, v in network.state_dict().items() if leave_out is None or not leave_out(k)}
    missing = [k for k in target if k not in values]
    extra = [k for k in values if k not in target]
    if missing or extra:
        raise WeightsError(
            f"{name}: the conversion leaves {len(missing)} key(s) of the target unfilled {missing[:5]} and "
            f"produces {len(extra)} unknown key(s) {extra[:5]}"
        )
    out = {}
    for key, reference in target.items():
        value = values[key]
        if tuple(value.shape) != tuple(reference.shape):
            raise WeightsError(
                f"{name}: target key {key!r} needs shape {list(reference.shape)}, the conversion gives {list(value.shape)}"
            )
        out[key] = value.detach().to(reference.dtype).clone().contiguous()
    return out
