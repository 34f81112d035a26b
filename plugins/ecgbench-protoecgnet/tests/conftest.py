"""Fixtures: a small synthetic cohort with known waveform parameters (fast, no phantom needed),
and a RunContext whose cache lives in the test's temporary folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import multi_hot

FS = 100.0
N_SAMPLES = 1000


def _beat_train(
    rng: np.random.Generator, hr: float, irregular: bool, qrs_s: float, p_wave: bool
) -> np.ndarray:
    """float32[12, T]: Gaussian P, QRS and T waves projected onto 12 leads, mV."""
    t = np.arange(N_SAMPLES) / FS
    rr = 60.0 / hr
    beats, at = [], rng.uniform(0, rr)
    while at < t[-1] + rr:
        beats.append(at)
        at += rr * (rng.uniform(0.6, 1.4) if irregular else rng.uniform(0.97, 1.03))
    p = np.zeros_like(t)
    qrs = np.zeros_like(t)
    tw = np.zeros_like(t)
    for b in beats:
        if p_wave:
            p += 0.15 * np.exp(-0.5 * ((t - b + 0.16) / 0.025) ** 2)
        qrs += np.exp(-0.5 * ((t - b) / (qrs_s / 5)) ** 2) - 0.25 * np.exp(
            -0.5 * ((t - b - qrs_s / 2) / (qrs_s / 6)) ** 2
        )
        tw += 0.3 * np.exp(-0.5 * ((t - b - 0.3) / 0.05) ** 2)
    gains = np.array([[0.2, 1.0, 0.4], [0.3, 1.2, 0.5], [0.1, 0.4, 0.2], [-0.2, -1.0, -0.4], [0.1, 0.5, 0.2],
                      [0.2, 0.8, 0.3], [0.1, -0.6, -0.2], [0.15, 0.3, 0.4], [0.15, 0.9, 0.5], [0.2, 1.3, 0.5],
                      [0.2, 1.1, 0.4], [0.2, 0.9, 0.3]])  # fmt: skip
    x = gains @ np.stack([p, qrs, tw]) + rng.normal(0, 0.02, (12, len(t)))
    return x.astype(np.float32)


def synthetic_cohort(n: int = 200, seed: int = 0) -> ECGDataset:
    """Five rhythm/morphology groups with labels SR/NORM, STACH, SBRAD, AFIB, CLBBB.

    ``meta['qrs_ms']`` is the hidden QRS width (CLBBB 120-180 ms, others 80-100 ms).
    """
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 5, n)
    signals, codes, qrs_ms = [], [], []
    for g in groups:
        qrs = rng.uniform(0.12, 0.18) if g == 4 else rng.uniform(0.08, 0.10)
        hr = {0: 70, 1: 115, 2: 48, 3: 95, 4: 72}[int(g)] * rng.uniform(0.93, 1.07)
        signals.append(_beat_train(rng, hr, irregular=g == 3, qrs_s=qrs, p_wave=g != 3))
        codes.append(
            {0: ["SR", "NORM"], 1: ["STACH"], 2: ["SBRAD"], 3: ["AFIB"], 4: ["SR", "CLBBB"]}[int(g)]
        )
        qrs_ms.append(qrs * 1000)
    meta = pd.DataFrame({"sex": [""] * n, "age": np.full(n, np.nan), "qrs_ms": qrs_ms})
    return ECGDataset(
        name="synthetic",
        signals=np.stack(signals),
        fs=FS,
        record_ids=np.array([f"syn{i:04d}" for i in range(n)]),
        labels=multi_hot(codes),
        folds=np.arange(n) % 10 + 1,
        meta=meta,
    )


TINY = {
    "widths": (8, 8, 8, 8),
    "blocks": (1, 1, 1, 1),
    "proto_dim": 8,
    "prototypes_rhythm": 2,
    "prototypes_local": 2,
    "prototypes_global": 2,
    "batch_size": 32,
    "lr": 3e-3,
    "lr_head": 1e-2,
    "epochs_feature": 1,
    "epochs_joint": 1,
    "epochs_last_layer": 2,
    "epochs_fusion": 2,
    "threads": 1,
}


@pytest.fixture(scope="session")
def cohort() -> ECGDataset:
    return synthetic_cohort()


@pytest.fixture
def ctx(tmp_path) -> RunContext:
    return RunContext(
        seed=0,
        device="cpu",
        artifacts_dir=tmp_path / "artifacts",
        cache_dir=tmp_path / "cache",
        quiet=True,
    )


@pytest.fixture(scope="session")
def tiny_model(cohort, tmp_path_factory):
    """A ProtoECGNet with tiny widths trained for one epoch per stage on the synthetic cohort."""
    from ecgbench_protoecgnet.config import ProtoECGNetConfig
    from ecgbench_protoecgnet.model import ProtoECGNet

    root = tmp_path_factory.mktemp("tiny")
    ctx = RunContext(
        seed=0, device="cpu", artifacts_dir=root / "artifacts", cache_dir=root / "cache", quiet=True
    )
    train, val, _ = cohort.split()
    return ProtoECGNet(ProtoECGNetConfig(**TINY), ctx).fit(train, val)
