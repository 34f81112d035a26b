"""The PhysioNet/CinC Challenge 2021 layout: ``.hea`` + ``.mat`` with SNOMED CT diagnoses.

The header comments carry ``# Age: 59``, ``# Sex: Female`` and ``# Dx: 164934002,426783006``
(SNOMED CT codes). ``wfdb`` reads the ``.mat`` signal file through the header, so the signals need
nothing special; this module reads the comments and maps the SNOMED codes to PTB-XL's SCP-ECG
statements with ``snomed_to_scp.json`` (how that table was made: its ``policy`` field and
docs/datasets.md).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from ecgbench.data.labels import SCP_CODES


@cache
def snomed_table() -> dict[str, dict]:
    """SNOMED code -> {abbreviation, name, scp (or None), relation, note} for the Challenge's 133 codes."""
    text = (
        resources.files("ecgbench.data").joinpath("snomed_to_scp.json").read_text(encoding="utf-8")
    )
    return {entry["snomed"]: entry for entry in json.loads(text)["codes"]}


def expressible_scp_codes() -> tuple[str, ...]:
    """The SCP statements some Challenge SNOMED code maps to, in :data:`SCP_CODES` order."""
    mapped = {entry["scp"] for entry in snomed_table().values() if entry["scp"]}
    return tuple(code for code in SCP_CODES if code in mapped)


def dx_codes(comments: tuple[str, ...] | list[str]) -> list[str] | None:
    """The SNOMED codes of the ``Dx:`` comment line, or None when the header has no such line."""
    for line in comments:
        key, sep, value = line.strip().partition(":")
        if sep and key.strip().lower() == "dx":
            return [code.strip() for code in value.split(",") if code.strip()]
    return None


def map_dx(codes: list[str]) -> tuple[list[str], list[str]]:
    """(SCP statements, SNOMED codes with no SCP statement) for one record's Dx codes."""
    table = snomed_table()
    scp, unmapped = [], []
    for code in codes:
        target = table.get(code, {}).get("scp")
        if target:
            if target not in scp:
                scp.append(target)
        else:
            unmapped.append(code)
    return scp, unmapped
