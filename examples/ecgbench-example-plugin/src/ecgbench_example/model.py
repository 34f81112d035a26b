"""A k-nearest-neighbour classifier of the 71 SCP statements.

Signals are low-pass averaged to 10 Hz and compared by Euclidean distance; a label's
probability is the share of the k nearest training records that carry it.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field
from sklearn.neighbors import NearestNeighbors

from ecgbench.data.dataset import ECGDataset


class KNNConfig(BaseModel):
    k: int = Field(default=15, ge=1, description="neighbours that vote")
    rate_hz: float = Field(default=10.0, gt=0, description="rate the signals are averaged down to")


class KNNClassifier:
    def __init__(self, config: KNNConfig):
        self.config = config

    def _embed(self, x: np.ndarray) -> np.ndarray:
        step = max(1, int(round(self.fs / self.config.rate_hz)))
        t = x.shape[-1] // step * step
        return np.nan_to_num(x[..., :t]).reshape(len(x), 12, -1, step).mean(axis=-1).reshape(len(x), -1)

    def fit(self, train: ECGDataset, val: ECGDataset) -> KNNClassifier:
        self.fs = train.fs
        self.labels = train.labels.astype(np.float32)
        k = min(self.config.k, len(train))
        self.index = NearestNeighbors(n_neighbors=k).fit(self._embed(train.signals))
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        _, neighbours = self.index.kneighbors(self._embed(x))
        return self.labels[neighbours].mean(axis=1).astype(np.float32)


def create(config: KNNConfig, ctx) -> KNNClassifier:
    return KNNClassifier(config)
