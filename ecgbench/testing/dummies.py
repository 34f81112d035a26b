"""Dummy models, one per task: valid outputs, no learning. They exercise the harness (and show a
plugin author the smallest thing that satisfies a contract); they are never registered by
default."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from ecgbench.contracts.intervals import IntervalMeasurements, qtc
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import N_LABELS
from ecgbench.data.qa_types import ImageQASet


class DummyConfig(BaseModel):
    """No settings."""


class DummyGenerator:
    """Returns training records (resampled with replacement): valid output, not a model."""

    nfe = 0

    def fit(self, train: ECGDataset) -> DummyGenerator:
        self.signals = np.nan_to_num(train.signals)
        return self

    def sample(self, n: int, labels: np.ndarray | None = None, steps: int | None = None, seed: int = 0) -> np.ndarray:
        idx = np.random.default_rng(seed).integers(0, len(self.signals), n)
        return self.signals[idx].astype(np.float32)


class DummyClassifier:
    """Predicts the training prevalence of every label."""

    def fit(self, train: ECGDataset, val: ECGDataset) -> DummyClassifier:
        self.prevalence = train.labels.mean(axis=0).astype(np.float32)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile(self.prevalence, (len(x), 1)).reshape(len(x), N_LABELS)


class DummyMeasurer:
    """Measures nothing but heart rate's textbook default: abstains on PR, QRS and QT."""

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements:
        n = len(signals)
        nan = np.full(n, np.nan)
        return IntervalMeasurements(pr=nan, qrs=nan.copy(), qt=nan.copy(), qtc=qtc(nan, nan), hr=np.full(n, 70.0))


class DummyImageInterpreter:
    """Answers every question with the first option (or an empty string)."""

    def fit(self, train: ImageQASet) -> DummyImageInterpreter:
        self.options = {item.question: item.options for item in train.items}
        return self

    def answer(self, images: np.ndarray, questions: list[str]) -> list[str]:
        return [(self.options.get(q) or ("",))[0] for q in questions]


def create_generator(config: DummyConfig, ctx: object) -> DummyGenerator:
    return DummyGenerator()


def create_classifier(config: DummyConfig, ctx: object) -> DummyClassifier:
    return DummyClassifier()


def create_measurer(config: DummyConfig, ctx: object) -> DummyMeasurer:
    return DummyMeasurer()


def create_image_interpreter(config: DummyConfig, ctx: object) -> DummyImageInterpreter:
    return DummyImageInterpreter()
