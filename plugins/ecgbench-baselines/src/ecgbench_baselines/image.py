"""The image baseline of ``interpret-image``: simple ink features and one logistic regression per question.

An image becomes a fixed-length vector without any knowledge of where the leads are printed:

* the ink map — how dark and un-red each pixel is, so the red grid vanishes and the trace stays;
* a coarse thumbnail of the ink map (morphology, axis, amplitude, at low resolution);
* for each horizontal band of the page, the spectrum of its column ink profile: every QRS
  complex is a tall stroke, so the profile's periodicity is the heart rate and its peakedness
  the regularity of the rhythm.

The features are standardised and reduced to whitened principal components fitted on the
training images. Each distinct closed question of the training set (rhythm, yes/no per
statement, interval range) gets a logistic regression from them to its option text; the
free-text "List the findings" question gets one logistic regression per statement, and the
answer lists the statements predicted present, phrased exactly like the training targets (the
likeliest one when none passes the threshold).
A yes/no question that training never asked is answered from that statement's regression; a
question of no known form gets an empty answer (the evaluator counts it wrong).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ecgbench.context import RunContext
from ecgbench.data.labels import SCP_CODES
from ecgbench.data.qa import NO, YES, finding_question, labels_answer
from ecgbench.data.qa_types import ImageQASet


class ImageBaselineConfig(BaseModel):
    """Feature sizes and the regularisation of the per-question classifiers."""

    thumbnail: tuple[int, int] = Field(default=(24, 48), description="rows, columns of the ink thumbnail")
    bands: int = Field(default=8, ge=1, description="horizontal bands whose column profiles give rhythm features")
    profile_length: int = Field(default=1024, ge=64, description="columns each band profile is resampled to")
    spectrum_bins: int = Field(default=64, ge=4, description="low-frequency bins kept per band spectrum")
    components: int = Field(default=64, ge=2, description="whitened principal components the classifiers see")
    c: float = Field(default=0.05, gt=0, description="inverse L2 strength of every logistic regression")
    labels_threshold: float = Field(default=0.5, gt=0, lt=1, description="probability above which a statement is listed")
    min_positives: int = Field(default=3, ge=1, description="a statement needs this many positive training images to be listed")


#: ink of a pixel from its brightest channel: white paper and red grid lines (bright red
#: channel) are 0, the black trace is 1.
_INK = np.clip((1.0 - np.arange(256, dtype=np.float32) / 255.0 - 0.25) / 0.75, 0.0, 1.0)


def ink_map(image: np.ndarray) -> np.ndarray:
    """``uint8[H, W, 3]`` -> ``float32[H, W]`` in [0, 1]: dark, un-red pixels (the trace, labels)."""
    brightest = np.maximum(np.maximum(image[..., 0], image[..., 1]), image[..., 2])
    return _INK[brightest]


def _resize(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return np.asarray(Image.fromarray(array.astype(np.float32, copy=False)).resize((cols, rows), Image.Resampling.BOX))


def image_features(image: np.ndarray, config: ImageBaselineConfig) -> np.ndarray:
    """``uint8[H, W, 3]`` -> ``float32[d]``: ink thumbnail, then per-band profile spectra."""
    ink = ink_map(image)
    thumb = _resize(ink, *config.thumbnail).ravel()
    work = _resize(ink, 16 * config.bands, config.profile_length)
    spectra = []
    for band in np.split(work, config.bands, axis=0):
        profile = band.sum(axis=0)
        profile = profile - profile.mean()
        power = np.abs(np.fft.rfft(profile))[1: config.spectrum_bins + 1]
        spectra.append(power / (np.linalg.norm(power) + 1e-6))
        spectra.append([np.log1p(band.sum())])
    return np.concatenate([thumb, *map(np.ravel, spectra)]).astype(np.float32)


def features(images: Iterable[np.ndarray], config: ImageBaselineConfig) -> np.ndarray:
    """``uint8[n, H, W, 3]`` (or any iterable of ``uint8[H, W, 3]``) -> ``float32[n, d]``."""
    return np.stack([image_features(im, config) for im in images])


class _Constant:
    """The answer of a question whose training answers never varied."""

    def __init__(self, answer: str):
        self.answer = answer

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.answer, dtype=object)


class ImageBaseline:
    """Logistic regressions on ink features, one per closed question, one per listable statement."""

    def __init__(self, config: ImageBaselineConfig, ctx: RunContext):
        self.config, self.ctx = config, ctx
        self.closed: dict[str, LogisticRegression | _Constant] = {}
        self.statements: dict[str, LogisticRegression] = {}
        self.embedding: Pipeline | None = None
        self.labels_question: str | None = None
        self._finding_code = {finding_question(code): code for code in SCP_CODES}

    def _classifier(self) -> LogisticRegression:
        return LogisticRegression(C=self.config.c, max_iter=1000)

    def fit(self, train: ImageQASet) -> ImageBaseline:
        used = sorted({item.image_index for item in train.items})
        rows = dict(zip(used, range(len(used)), strict=True))
        raw = features(self.ctx.progress((train.images[i] for i in used), "image features", total=len(used)), self.config)
        n_components = min(self.config.components, len(used) - 1, raw.shape[1])
        self.embedding = make_pipeline(StandardScaler(), PCA(n_components, whiten=True, svd_solver="full"))
        x = self.embedding.fit_transform(raw)
        by_question: dict[str, list] = defaultdict(list)
        listed: dict[int, set[str]] = {}
        for item in train.items:
            if item.options:
                by_question[item.question].append(item)
            else:
                self.labels_question = item.question
                listed[rows[item.image_index]] = set(item.target_codes)
        with threadpool_limits(limits=1):  # tiny problems: thread start-up would dominate
            self._fit_classifiers(x, by_question, listed, rows)
        self.ctx.note("image_baseline_questions", len(self.closed))
        self.ctx.note("image_baseline_statements", len(self.statements))
        return self

    def _fit_classifiers(self, x: np.ndarray, by_question: dict[str, list], listed: dict[int, set[str]],
                         rows: dict[int, int]) -> None:
        for question, items in by_question.items():
            targets = np.array([item.target for item in items], dtype=object)
            if len(set(targets)) == 1:
                self.closed[question] = _Constant(str(targets[0]))
            else:
                self.closed[question] = self._classifier().fit(x[[rows[i.image_index] for i in items]], targets)
        if listed:
            index = np.array(sorted(listed))
            for code in SCP_CODES:
                y = np.array([code in listed[i] for i in index])
                if self.config.min_positives <= y.sum() < len(y):
                    self.statements[code] = self._classifier().fit(x[index], y)

    def _statement_probabilities(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {code: model.predict_proba(x)[:, 1] for code, model in self.statements.items()}

    def _list(self, probabilities: dict[str, np.ndarray], row: int) -> str:
        if not probabilities:
            return ""
        present = [c for c, p in probabilities.items() if p[row] >= self.config.labels_threshold]
        if not present:  # an ECG always shows something: name the likeliest statement
            present = [max(probabilities, key=lambda c: probabilities[c][row])]
        return labels_answer(present)

    def _embed(self, images: np.ndarray) -> np.ndarray:
        """Embeddings of a batch in which one image usually comes with several questions."""
        keys = [hashlib.blake2b(np.ascontiguousarray(im).data, digest_size=16).digest() for im in images]
        first = {key: k for k, key in reversed(list(enumerate(keys)))}
        unique = sorted(first.values())
        z = self.embedding.transform(features(images[unique], self.config))
        row = {keys[k]: r for r, k in enumerate(unique)}
        return z[[row[key] for key in keys]]

    def answer(self, images: np.ndarray, questions: list[str]) -> list[str]:
        """``uint8[n, H, W, 3]`` and n questions -> n answers (option text or listed statements)."""
        if self.embedding is None:
            raise RuntimeError("ImageBaseline.answer() before fit()")
        x = self._embed(images)
        answers = [""] * len(questions)
        probabilities = self._statement_probabilities(x) if self.statements else {}
        asked: dict[str, list[int]] = defaultdict(list)
        for k, question in enumerate(questions):
            asked[question].append(k)
        for question, ks in asked.items():
            if question in self.closed:
                for k, a in zip(ks, self.closed[question].predict(x[ks]), strict=True):
                    answers[k] = str(a)
            elif question == self.labels_question:
                for k in ks:
                    answers[k] = self._list(probabilities, k)
            elif question in self._finding_code:
                p = probabilities.get(self._finding_code[question])
                for k in ks:
                    answers[k] = YES if p is not None and p[k] >= self.config.labels_threshold else NO
        return answers


def create(config: ImageBaselineConfig, ctx: RunContext) -> ImageBaseline:
    return ImageBaseline(config, ctx)
