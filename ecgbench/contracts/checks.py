"""The shared clause checks used by every task contract."""

from __future__ import annotations

from typing import Any

import numpy as np

from ecgbench.errors import ContractViolation


def require(condition: bool, model: str, clause: str, detail: str) -> None:
    """Raise ContractViolation(model, clause, detail) unless condition holds."""
    if not condition:
        raise ContractViolation(model, clause, detail)


def check_array(
    value: Any, *, model: str, what: str, shape: tuple[int, ...], dtype: type, allow_nan: bool = False
) -> np.ndarray:
    """An ndarray of the given shape and dtype whose values are finite (or NaN where allowed)."""
    require(isinstance(value, np.ndarray), model, f"{what} is a numpy array", f"got {type(value).__name__}")
    require(value.shape == shape, model, f"{what} has shape {list(shape)}", f"got {list(value.shape)}")
    require(value.dtype == np.dtype(dtype), model, f"{what} has dtype {np.dtype(dtype).name}", f"got {value.dtype}")
    bad = ~np.isfinite(value) if not allow_nan else np.isinf(value)
    if bad.any():
        where = np.argwhere(bad)[0].tolist()
        kind = "infinite values" if allow_nan else "NaN or infinite values"
        require(False, model, f"{what} is finite", f"{int(bad.sum())} {kind}, first at index {where}")
    return value
