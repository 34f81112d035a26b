"""Test support for ``retrieve-report`` models, in the style of :mod:`ecgbench.testing`.

A retrieval model's test suite holds it to the task's clauses with one line::

    from ecgbench_more.testing import RetrieveReportContract

    class TestContract(RetrieveReportContract):
        model = "my-retriever"
"""

from __future__ import annotations

import numpy as np

from ecgbench.data.dataset import ECGDataset
from ecgbench.testing import TaskContract

TASK = "retrieve-report"


class RetrieveReportContract(TaskContract):
    """Registered by a loaded plugin, ci and paper configs valid, and ``ecgbench validate``
    passes on a tiny phantom cohort with reports (embeddings of the right shape, dtype and
    width, finite, repeatable)."""

    task = TASK


class DummyRetriever:
    """Embeds every ECG and every report as the same unit vector: valid output, chance-level
    ranking (every pair ties). The smallest thing that satisfies the contract."""

    def fit(self, train: ECGDataset, val: ECGDataset) -> DummyRetriever:
        return self

    def embed_ecgs(self, x: np.ndarray) -> np.ndarray:
        return np.ones((len(x), 1), dtype=np.float32)

    def embed_reports(self, reports: list[str]) -> np.ndarray:
        return np.ones((len(reports), 1), dtype=np.float32)


def create_dummy(config: object, ctx: object) -> DummyRetriever:
    return DummyRetriever()
