"""Which prototype branch classifies which of the 71 statements (`branches.csv`).

ProtoECGNet splits the statements by what a prototype has to look at: rhythm statements
(16) need the whole record and go to a 1-D ResNet with global prototypes; local morphology
statements (52) are visible in a short stretch and go to a 2-D ResNet with time-localised
prototypes; the three global statements (DIG, NORM, EL) are diffuse and go to a 2-D ResNet
with prototypes that span the record.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from ecgbench.data.labels import SCP_CODES, SCP_INDEX
from ecgbench.errors import DataError

#: Branch names in fusion order (the order of the concatenated prototype similarities).
BRANCHES: tuple[str, ...] = ("rhythm", "local", "global")


def load_branches(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Branch name -> its statement codes, in :data:`SCP_CODES` order.

    Reads the packaged ``branches.csv`` (columns ``code,branch``) unless a path is given.
    Every one of the 71 codes must appear exactly once with a known branch.
    """
    source = str(path) if path else "ecgbench_protoecgnet/branches.csv"
    if path is None:
        text = resources.files("ecgbench_protoecgnet").joinpath("branches.csv").read_text()
    else:
        text = Path(path).read_text()
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or set(rows[0]) != {"code", "branch"}:
        raise DataError(f"{source}: expected the columns 'code,branch'")
    assigned: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        code, branch = row["code"].strip(), row["branch"].strip()
        if code not in SCP_INDEX:
            raise DataError(f"{source}, line {line}: {code!r} is not one of the 71 SCP statements")
        if branch not in BRANCHES:
            raise DataError(f"{source}, line {line}: branch {branch!r} is not one of {BRANCHES}")
        if code in assigned:
            raise DataError(f"{source}, line {line}: {code!r} is assigned twice")
        assigned[code] = branch
    missing = [c for c in SCP_CODES if c not in assigned]
    if missing:
        raise DataError(f"{source}: no branch for {missing}")
    return {b: tuple(c for c in SCP_CODES if assigned[c] == b) for b in BRANCHES}


def branch_label_indices(branches: dict[str, tuple[str, ...]]) -> dict[str, list[int]]:
    """Branch name -> column indices of its codes in a ``[n, 71]`` label matrix."""
    return {b: [SCP_INDEX[c] for c in codes] for b, codes in branches.items()}
