"""The phantom's random streams: one domain per purpose, so no two purposes share draws.

numpy's ``SeedSequence`` pads a short entropy list with zeros, so ``[seed, 3]`` and
``[seed, 3, 0]`` are the same stream. Keys that only number things (block, record, kind) would
collide across purposes; every stream therefore starts with ``[seed, domain]`` and each domain
belongs to one purpose alone.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Domain(IntEnum):
    """What a stream is for; the values are part of the phantom's definition (PHANTOM_VERSION)."""

    BLOCK = 1  # per block of records and kind: cohort parameters, rhythm, atrial waves
    FOLDS = 2  # the stratified fold assignment
    NOISE = 3  # per record: electrode noise
    REPORT = 4  # per record: the wording of its free-text report


def stream(seed: int, domain: Domain, *keys: int) -> np.random.Generator:
    """The generator for ``domain`` and its keys (e.g. the record index) under ``seed``."""
    return np.random.default_rng([int(seed), int(domain), *(int(k) for k in keys)])
