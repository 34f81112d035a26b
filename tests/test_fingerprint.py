"""A dataset's fingerprint is its identity on every machine: records made anywhere meet in one
leaderboard section."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from shared_data import shared_sample, uses_shared_data

from ecgbench.data.phantom import PhantomConfig, load_phantom

#: The default phantom cohort (3000 records, 100 Hz, 10 s, seed 0, noise 1) of PHANTOM_VERSION 1.1.0.
DEFAULT_PHANTOM_FINGERPRINT = "b2c6ba62bc947a158f1187a97874a1498d5f5b038bbbf2e5492394c584500db6"

#: numpy's AVX-512 kernels off (its SVML sin/cos/exp/pow) and OpenBLAS's pre-FMA kernel: the
#: last bits of the phantom's signals change, as they do between machines.
_OTHER_KERNELS = {
    "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512VL AVX512BW AVX512DQ AVX512_SKX AVX512_CLX "
    "AVX512_CNL AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Prescott",
}


@pytest.fixture(scope="module")
def small():
    return load_phantom(PhantomConfig(n_records=120, cache=False))


def test_the_default_phantom_cohort_has_the_fingerprint_of_the_committed_records():
    assert load_phantom(PhantomConfig(cache=False)).fingerprint == DEFAULT_PHANTOM_FINGERPRINT


def test_a_cached_phantom_cohort_keeps_its_fingerprint():
    config = PhantomConfig(n_records=40)
    assert load_phantom(config).fingerprint == load_phantom(config).fingerprint == (
        load_phantom(config.model_copy(update={"cache": False})).fingerprint
    )


def test_last_bit_differences_in_every_sample_leave_the_fingerprint_unchanged(small):
    rng = np.random.default_rng(0)
    direction = np.where(rng.random(small.signals.shape) < 0.5, -np.inf, np.inf).astype(np.float32)
    nudged = np.nextafter(small.signals, direction)
    assert not np.array_equal(nudged, small.signals)
    intervals = small.intervals * (1 + 1e-13)
    assert replace(small, signals=nudged, intervals=intervals).fingerprint == small.fingerprint


def test_the_fingerprint_is_the_same_with_other_numeric_kernels():
    code = (
        "from ecgbench.data.phantom import PhantomConfig, load_phantom;"
        "print(load_phantom(PhantomConfig(n_records=300, cache=False)).fingerprint)"
    )
    here = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, **_OTHER_KERNELS},
    )
    assert other.stdout.split()[-1] == here.stdout.split()[-1]


def test_a_one_percent_change_in_one_lead_changes_the_fingerprint(small):
    signals = small.signals.copy()
    signals[:, 7] *= 1.01
    assert replace(small, signals=signals).fingerprint != small.fingerprint


def test_a_changed_interval_label_or_setting_changes_the_fingerprint(small):
    intervals = small.intervals.copy()
    intervals.loc[3, "qt"] += 0.05
    labels = small.labels.copy()
    labels[5, 0] ^= 1
    settings = {**small.generated_by, "version": "0.0.0"}
    assert replace(small, intervals=intervals).fingerprint != small.fingerprint
    assert replace(small, labels=labels).fingerprint != small.fingerprint
    assert replace(small, generated_by=settings).fingerprint != small.fingerprint


def test_another_seed_gives_another_fingerprint():
    a = load_phantom(PhantomConfig(n_records=40, seed=1, cache=False))
    b = load_phantom(PhantomConfig(n_records=40, seed=2, cache=False))
    assert a.fingerprint != b.fingerprint


def test_a_file_dataset_is_identified_by_its_signal_bytes(small):
    stored = replace(small, generated_by=None)
    signals = stored.signals.copy()
    signals[0, 0, 0] = np.nextafter(signals[0, 0, 0], np.float32(np.inf))
    assert replace(stored, signals=signals).fingerprint != stored.fingerprint


@uses_shared_data
def test_the_ptbxl_sample_keeps_the_fingerprint_of_the_committed_records():
    from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl

    dataset = load_ptbxl(PTBXLConfig(path=shared_sample("ptbxl-sample"), cache=False))
    assert dataset.fingerprint == "5ffa70848ceb19e261f8cc84233d4d82fbc535ab4f28dbed624c017eb6dedb9c"
