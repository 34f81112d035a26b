"""The 71 PTB-XL SCP-ECG statements, their subsets and class aggregations.

The statement table (`scp_statements.json`) holds the codes with their diagnostic / form /
rhythm flags and diagnostic (super)classes, from PTB-XL v1.0.3's `scp_statements.csv`. Label
matrices in ecgbench are always ``uint8[n, 71]`` with columns in :data:`SCP_CODES` order
(alphabetical, as a scikit-learn MultiLabelBinarizer orders them in the PTB-XL benchmark).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np

SUBSETS: tuple[str, ...] = ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm")


@cache
def _statements() -> tuple[dict, ...]:
    text = resources.files("ecgbench.data").joinpath("scp_statements.json").read_text()
    return tuple(json.loads(text)["statements"])


SCP_CODES: tuple[str, ...] = tuple(s["code"] for s in _statements())
SCP_INDEX: dict[str, int] = {code: i for i, code in enumerate(SCP_CODES)}
N_LABELS = len(SCP_CODES)


def statement(code: str) -> dict:
    """The row of the statement table for one code (description, flags, classes)."""
    return _statements()[SCP_INDEX[code]]


def codes_in(subset: str) -> tuple[str, ...]:
    """The statements of a flag subset: 'all', 'diagnostic', 'form' or 'rhythm'."""
    if subset == "all":
        return SCP_CODES
    if subset not in ("diagnostic", "form", "rhythm"):
        raise KeyError(f"{subset!r} is not a statement subset; aggregated sets use aggregation()")
    return tuple(s["code"] for s in _statements() if s[subset])


def aggregation(level: str) -> dict[str, tuple[str, ...]]:
    """Diagnostic classes ('superdiagnostic', 5) or subclasses ('subdiagnostic', 23) -> members."""
    key = {"superdiagnostic": "diagnostic_class", "subdiagnostic": "diagnostic_subclass"}[level]
    groups: dict[str, list[str]] = {}
    for s in _statements():
        if s["diagnostic"] and s[key]:
            groups.setdefault(s[key], []).append(s["code"])
    return {name: tuple(members) for name, members in sorted(groups.items())}


def subset_view(y: np.ndarray, subset: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Columns of a ``[n, 71]`` matrix for one subset; aggregated subsets take the max of members.

    For targets the max is "any member present"; for scores it is the common choice of
    scoring a class by its most probable member. Returns the matrix and its column names.
    """
    if subset in ("superdiagnostic", "subdiagnostic"):
        groups = aggregation(subset)
        cols = [y[:, [SCP_INDEX[c] for c in members]].max(axis=1) for members in groups.values()]
        return np.stack(cols, axis=1), tuple(groups)
    codes = codes_in(subset)
    return y[:, [SCP_INDEX[c] for c in codes]], codes


def multi_hot(codes_per_record: list[list[str]] | list[tuple[str, ...]]) -> np.ndarray:
    """``uint8[n, 71]`` from lists of codes; an unknown code raises KeyError naming it."""
    y = np.zeros((len(codes_per_record), N_LABELS), dtype=np.uint8)
    for i, codes in enumerate(codes_per_record):
        for code in codes:
            if code not in SCP_INDEX:
                raise KeyError(f"record {i}: {code!r} is not one of the 71 SCP statements")
            y[i, SCP_INDEX[code]] = 1
    return y
