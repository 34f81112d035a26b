"""``baseline-tfidf-cca``: the floor of ``retrieve-report`` — no network, no labels.

Reports become TF-IDF vectors of words and word pairs, reduced by a truncated SVD; ECGs
become the harness's hand-made features (:mod:`ecgbench.features`: rhythm, median beats,
amplitudes, spectra), standardised and reduced by PCA. Canonical correlation analysis, fitted
on the training pairs, maps both into the directions where they correlate most; an ECG and a
report are compared by the cosine of their canonical variates. How many directions to keep is
chosen on the validation split (the one with the best ECG→report recall@10), never on test.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.errors import DataError
from ecgbench.features import extract_features
from ecgbench_more.retrieval.metrics import first_relevant, hit_at
from ecgbench_more.retrieval.task import reports_of, same_text


class TfidfCCAConfig(BaseModel):
    """The sizes of the three linear maps; none is learned from labels."""

    model_config = ConfigDict(extra="forbid")

    text_components: int = Field(default=64, ge=1, description="SVD dimensions of the reports' TF-IDF vectors")
    ecg_components: int = Field(default=64, ge=1, description="PCA dimensions of the standardised ECG features")
    cca_candidates: tuple[int, ...] = Field(
        default=(4, 8, 16, 32, 64), description="numbers of canonical directions tried on the validation split"
    )
    ridge: float = Field(default=1e-3, ge=0, description="covariance regularisation of CCA, relative to the mean variance")
    max_ngram: int = Field(default=2, ge=1, description="longest word n-gram of the TF-IDF vocabulary")


def fit_cca(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regularised CCA in closed form: (Wx, Wy, correlations), canonical directions by columns,
    strongest first. ``x`` [n, p] and ``y`` [n, q] are centred here."""

    def inverse_sqrt(c: np.ndarray) -> np.ndarray:
        c = c + ridge * np.trace(c) / len(c) * np.eye(len(c))
        values, vectors = np.linalg.eigh(c)
        return (vectors / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T

    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    n = len(x) - 1
    kx, ky = inverse_sqrt(x.T @ x / n), inverse_sqrt(y.T @ y / n)
    u, s, vt = np.linalg.svd(kx @ (x.T @ y / n) @ ky)
    return kx @ u, ky @ vt.T, s


def _unit(z: np.ndarray) -> np.ndarray:
    return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class TfidfCCARetriever:
    """``fit(train, val)``; ``embed_ecgs(float32[n, 12, T]) -> float32[n, k]``;
    ``embed_reports(list[str]) -> float32[n, k]`` (unit vectors in the canonical space)."""

    def __init__(self, config: TfidfCCAConfig, ctx: RunContext):
        self.config, self.ctx = config, ctx

    def _ecg_features(self, x: np.ndarray) -> np.ndarray:
        return self.ecg_reduce.transform(extract_features(x, self.fs))

    def _text_features(self, reports: list[str]) -> np.ndarray:
        return self.text_reduce.transform(reports)

    def fit(self, train: ECGDataset, val: ECGDataset) -> TfidfCCARetriever:
        from sklearn.decomposition import PCA, TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        config = self.config
        reports = reports_of(train)
        keep = np.flatnonzero(reports != "")
        if len(keep) < 3:
            raise DataError(f"dataset {train.name!r}: {len(keep)} training records have a report; CCA needs more")
        self.fs = train.fs
        texts = reports[keep].tolist()
        tfidf = TfidfVectorizer(lowercase=True, ngram_range=(1, config.max_ngram), sublinear_tf=True)
        n_terms = len(tfidf.fit(texts).vocabulary_)
        k_text = max(1, min(config.text_components, n_terms - 1, len(keep) - 1))
        self.text_reduce = make_pipeline(tfidf, TruncatedSVD(k_text, random_state=self.ctx.seed)).fit(texts)
        features = extract_features(train.signals[keep], train.fs)
        k_ecg = max(1, min(config.ecg_components, features.shape[1], len(keep) - 1))
        self.ecg_reduce = make_pipeline(StandardScaler(), PCA(k_ecg, random_state=self.ctx.seed)).fit(features)
        x, y = self.ecg_reduce.transform(features), self.text_reduce.transform(texts)
        self.x_mean, self.y_mean = x.mean(axis=0), y.mean(axis=0)
        self.wx, self.wy, correlations = fit_cca(x, y, config.ridge)
        self.k = self._choose_directions(val, len(correlations))
        self.ctx.note("cca_directions", self.k)
        self.ctx.note("cca_top_correlations", [round(float(c), 4) for c in correlations[:5]])
        self.ctx.note("tfidf_terms", n_terms)
        return self

    def _choose_directions(self, val: ECGDataset, available: int) -> int:
        candidates = sorted({min(c, available) for c in self.config.cca_candidates})
        reports = reports_of(val)
        keep = np.flatnonzero(reports != "")
        if len(keep) < 2:
            return candidates[-1]
        x = (self._ecg_features(val.signals[keep]) - self.x_mean) @ self.wx
        y = (self._text_features(reports[keep].tolist()) - self.y_mean) @ self.wy
        relevant = same_text(reports[keep])
        scores = []
        for k in candidates:
            above, tied = first_relevant(_unit(x[:, :k]) @ _unit(y[:, :k]).T, relevant)
            scores.append(hit_at(10, above, tied).mean())
        self.ctx.note("val_recall_at_10_by_directions", {str(k): round(float(s), 4) for k, s in zip(candidates, scores, strict=True)})
        return candidates[int(np.argmax(scores))]

    def embed_ecgs(self, x: np.ndarray) -> np.ndarray:
        return _unit(((self._ecg_features(x) - self.x_mean) @ self.wx)[:, : self.k])

    def embed_reports(self, reports: list[str]) -> np.ndarray:
        return _unit(((self._text_features(list(reports)) - self.y_mean) @ self.wy)[:, : self.k])


def create(config: TfidfCCAConfig, ctx: RunContext) -> TfidfCCARetriever:
    return TfidfCCARetriever(config, ctx)
