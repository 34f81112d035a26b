"""A tiny labelled cohort for generator tests: beat-like pulses whose rate and polarity follow
the label, so a conditional generator has something to learn in seconds.

``pulses`` is a session fixture: a plugin's ``conftest.py`` imports it to make it available.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset, empty_meta
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.leads import twelve_from_independent

#: An SSSD-ECG backbone small enough to train on the pulses in seconds on a CPU.
TINY_BACKBONE = dict(n_blocks=1, channels=8, s4_state=8, step_embed_dim=16, step_hidden_dim=16, label_embed_dim=8,
                     batch_size=8, lr=5e-3, normalise="global_std", checkpoint_every=1000, sample_batch_size=16)  # fmt: skip


def pulse_dataset(n: int = 24, length: int = 64, seed: int = 0) -> ECGDataset:
    """Half the records 'AFIB' (fast, negative pulses), half 'SR' (slow, positive)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    labels = np.zeros((n, 71), dtype=np.uint8)
    x8 = np.zeros((n, 8, length))
    for i in range(n):
        afib = i % 2 == 0
        labels[i, SCP_INDEX["AFIB" if afib else "SR"]] = 1
        period, sign = (8, -1.0) if afib else (16, 1.0)
        phase = rng.integers(period)
        beats = sum(np.exp(-0.5 * ((t - c) / 1.5) ** 2) for c in range(phase, length, period))
        x8[i] = sign * beats * rng.uniform(0.5, 1.0, (8, 1))
    return ECGDataset(
        name="pulses",
        signals=twelve_from_independent(x8).astype(np.float32),
        fs=100.0,
        record_ids=np.array([f"p{i}" for i in range(n)]),
        labels=labels,
        folds=np.ones(n, dtype=int),
        meta=empty_meta(n),
    )


def quiet_context(path: Path) -> RunContext:
    """A seed-0 RunContext whose cache and artifacts live under ``path``."""
    return RunContext(seed=0, cache_dir=path / "cache", artifacts_dir=path / "artifacts", quiet=True)


@pytest.fixture(scope="session")
def pulses() -> ECGDataset:
    return pulse_dataset()
