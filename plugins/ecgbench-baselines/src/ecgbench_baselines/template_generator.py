"""The template baseline of ``generate``: a mean beat per label vector, laid out on a jittered rhythm.

fit: every training record gives its R peaks (ecgbench.features) and its median beat in the 8
independent leads (I, aVF, V1–V6). Records are grouped by label vector; a group keeps the
mean of its members' median beats and the mean and SD of their RR intervals.

sample: for each requested label vector (the nearest training vector by Hamming distance when
it was never seen), RR intervals are drawn from the group's RR statistics, the group's mean
beat is placed at each R peak (overlap-add, tapered edges) with a small per-record amplitude
jitter, baseline wander and white noise are added, and the 4 remaining limb leads are derived
(so the limb identities hold exactly). No network: ``nfe`` is 0.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.leads import independent_from_twelve, twelve_from_independent
from ecgbench.features import r_peaks

BEFORE_S, AFTER_S = 0.30, 0.55


class TemplateGeneratorConfig(BaseModel):
    amplitude_jitter: float = Field(default=0.08, ge=0, description="SD of the per-record, per-lead gain around 1")
    noise_mv: float = Field(default=0.015, ge=0, description="SD of white noise added to each lead (mV)")
    wander_mv: float = Field(default=0.05, ge=0, description="amplitude of a 0.05–0.4 Hz baseline wander (mV)")
    min_group_size: int = Field(default=1, ge=1, description="label vectors with fewer training records are not used as templates")


class TemplateGenerator:
    nfe = 0

    def __init__(self, config: TemplateGeneratorConfig):
        self.config = config

    def fit(self, train: ECGDataset) -> TemplateGenerator:
        self.fs, self.n_samples = train.fs, train.n_samples
        before, after = int(BEFORE_S * self.fs), int(AFTER_S * self.fs)
        x8 = independent_from_twelve(np.nan_to_num(train.signals))
        groups: dict[bytes, list[int]] = {}
        for i, y in enumerate(train.labels):
            groups.setdefault(y.tobytes(), []).append(i)
        beats, rr_mean, rr_sd, vectors = [], [], [], []
        for key, members in groups.items():
            if len(members) < self.config.min_group_size:
                continue
            medians, rrs = [], []
            for i in members:
                peaks = r_peaks(train.signals[i], self.fs)
                inside = peaks[(peaks >= before) & (peaks + after <= self.n_samples)]
                if len(inside) < 2:
                    continue
                segments = np.stack([x8[i, :, p - before: p + after] for p in inside])
                median = np.median(segments, axis=0)
                medians.append(median - median[:, :1])
                rrs.append(np.diff(peaks) / self.fs)
            if not medians:
                continue
            all_rr = np.concatenate(rrs)
            beats.append(np.mean(medians, axis=0))
            rr_mean.append(float(np.median(all_rr)))
            rr_sd.append(float(np.mean([r.std() for r in rrs])))
            vectors.append(np.frombuffer(key, dtype=np.uint8))
        if not beats:
            raise ValueError("no training record had two R peaks to build a template from")
        taper = np.ones(before + after)
        edge = max(1, int(0.05 * self.fs))
        taper[:edge], taper[-edge:] = np.hanning(2 * edge)[:edge], np.hanning(2 * edge)[edge:]
        self.beats = np.stack(beats) * taper
        self.rr_mean, self.rr_sd = np.array(rr_mean), np.array(rr_sd)
        self.vectors = np.stack(vectors).astype(np.int16)
        self.before = before
        return self

    def _group(self, label: np.ndarray) -> int:
        distance = np.abs(self.vectors - label.astype(np.int16)).sum(axis=1)
        return int(np.argmin(distance))

    def sample(self, n: int, labels: np.ndarray | None = None, steps: int | None = None, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        t = np.arange(self.n_samples) / self.fs
        out = np.zeros((n, 8, self.n_samples))
        length = self.beats.shape[-1]
        for k in range(n):
            g = self._group(labels[k]) if labels is not None else int(rng.integers(len(self.beats)))
            beat = self.beats[g] * rng.normal(1.0, self.config.amplitude_jitter, (8, 1))
            peak = rng.uniform(0, self.rr_mean[g])
            while peak < self.n_samples / self.fs:
                start = int(round(peak * self.fs)) - self.before
                lo, hi = max(0, start), min(self.n_samples, start + length)
                if hi > lo:
                    out[k, :, lo:hi] += beat[:, lo - start: hi - start]
                peak += max(0.25, rng.normal(self.rr_mean[g], self.rr_sd[g]))
            wander_hz = rng.uniform(0.05, 0.4)
            out[k] += self.config.wander_mv * np.sin(2 * np.pi * wander_hz * t + rng.uniform(0, 2 * np.pi))
            out[k] += rng.normal(0, self.config.noise_mv, out[k].shape)
        return twelve_from_independent(out).astype(np.float32)


def create(config: TemplateGeneratorConfig, ctx) -> TemplateGenerator:
    return TemplateGenerator(config)
