"""The features baseline of ``classify-71-labels``: ecgbench's FeatureClassifier, with its
regularisation strength picked on the validation split."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.data.dataset import ECGDataset
from ecgbench.features import FeatureClassifier, extract_features
from ecgbench.metrics.classification import macro_auroc


class FeatureClassifierConfig(BaseModel):
    n_components: int = Field(default=64, ge=1, description="PCA components kept from the standardised features")
    c_grid: tuple[float, ...] = Field(default=(0.05, 0.5), description="inverse L2 strengths tried; the best on validation wins")


class FeatureBaseline:
    def __init__(self, config: FeatureClassifierConfig, seed: int):
        self.config, self.seed = config, seed

    def fit(self, train: ECGDataset, val: ECGDataset) -> FeatureBaseline:
        self.fs = train.fs
        train_features, val_features = extract_features(train.signals, train.fs), extract_features(val.signals, val.fs)
        best = -np.inf
        for c in self.config.c_grid:
            candidate = FeatureClassifier(self.config.n_components, C=c, seed=self.seed).fit_features(train_features, train.labels)
            score, _ = macro_auroc(val.labels, candidate.predict_features(val_features))
            if not np.isfinite(best) or score > best:
                best, self.classifier, self.c = score, candidate, c
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.classifier.predict_features(extract_features(x, self.fs))


def create(config: FeatureClassifierConfig, ctx) -> FeatureBaseline:
    return FeatureBaseline(config, ctx.seed)
