"""Contract of the ``classify-71-labels`` task: multi-label scores for the 71 SCP statements.

A classifier is fitted on the training and validation splits and returns, for each test
record, one probability per statement in :data:`ecgbench.data.labels.SCP_CODES` order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ecgbench.contracts.checks import check_array, require
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import N_LABELS


@runtime_checkable
class Classifier(Protocol):
    """What a ``classify-71-labels`` model implements."""

    def fit(self, train: ECGDataset, val: ECGDataset) -> Classifier: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``x``: ``float32[n, 12, T]`` in mV at the training rate -> ``float32[n, 71]`` in [0, 1].

        The task calls it on consecutive chunks of a split (16 MiB of signal: about 350
        records at 100 Hz), so a record's probabilities must depend on that record alone."""
        ...


@runtime_checkable
class Explainer(Protocol):
    """Optional: a classifier that can say why (e.g. by prototypes)."""

    def explain(self, x: np.ndarray, record_ids: list[str], out_dir: Path) -> list[dict]:
        """One JSON-serialisable explanation per record; may write PNGs into ``out_dir`` and name
        them under the key ``"png"``."""
        ...


def check_probabilities(p: object, *, n: int, model: str) -> np.ndarray:
    """Validate ``predict_proba`` output against every clause of the contract."""
    p = check_array(p, model=model, what="predict_proba() output", shape=(n, N_LABELS), dtype=np.float32)
    lo, hi = (float(p.min()), float(p.max())) if p.size else (0.0, 1.0)
    require(lo >= 0.0 and hi <= 1.0, model, "probabilities lie in [0, 1]", f"range [{lo:.3g}, {hi:.3g}]")
    return p
