"""Contract of the ``retrieve-report`` task: embed ECGs and free-text reports in one space.

A retriever is fitted on the training and validation splits (signals, labels and the
``report`` column of their metadata) and then embeds test ECGs and test reports separately,
each into ``float32[n, d]`` with the same d. The evaluator, not the model, scores every
(ECG, report) pair by the dot product of their embeddings (normalise them to get cosine
similarity) and ranks.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ecgbench.contracts.checks import check_array, require
from ecgbench.data.dataset import ECGDataset


@runtime_checkable
class ReportRetriever(Protocol):
    """What a ``retrieve-report`` model implements."""

    def fit(self, train: ECGDataset, val: ECGDataset) -> ReportRetriever: ...

    def embed_ecgs(self, x: np.ndarray) -> np.ndarray:
        """``x``: ``float32[n, 12, T]`` in mV at the training rate -> ``float32[n, d]``."""
        ...

    def embed_reports(self, reports: list[str]) -> np.ndarray:
        """n free-text reports -> ``float32[n, d]`` (the same d as the ECG embeddings)."""
        ...


def check_embeddings(e: object, *, n: int, model: str, what: str, dim: int | None = None) -> np.ndarray:
    """Validate one embedding matrix: ``float32[n, d]``, finite, d >= 1 (and d == ``dim``)."""
    require(isinstance(e, np.ndarray) and e.ndim == 2, model, f"{what} is a 2-D numpy array",
            f"got {type(e).__name__} with shape {getattr(e, 'shape', None)}")
    assert isinstance(e, np.ndarray)
    require(e.shape[1] >= 1, model, f"{what} has at least one dimension", f"got shape {list(e.shape)}")
    if dim is not None:
        require(e.shape[1] == dim, model, "ECG and report embeddings have the same width",
                f"ECGs {dim}, {what} {e.shape[1]}")
    return check_array(e, model=model, what=what, shape=(n, e.shape[1]), dtype=np.float32)
