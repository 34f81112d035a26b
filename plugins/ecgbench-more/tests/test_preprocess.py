"""MoRE's ECG input and augmentations, against scipy and hand-made signals."""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_more.preprocess import (
    augment,
    permute_segments,
    preprocess,
    remove_baseline,
    scale_leads,
    time_warp,
)
from scipy.signal import medfilt


def test_baseline_removal_is_two_median_filters_as_scipy_medfilt_computes_them():
    x = np.random.default_rng(0).normal(size=(2, 3, 500)).astype(np.float32)
    reference = np.stack([[lead - medfilt(medfilt(lead.astype(np.float64), 21), 61) for lead in rec] for rec in x])
    np.testing.assert_allclose(remove_baseline(x, 100.0), reference, atol=1e-5)


def test_baseline_removal_takes_out_a_slow_drift_and_keeps_the_spikes():
    t = np.arange(1000) / 100.0
    drift = 0.5 * np.sin(2 * np.pi * 0.1 * t)
    spikes = np.zeros(1000)
    spikes[::80] = 1.0
    out = remove_baseline((drift + spikes)[None, None].astype(np.float32), 100.0)[0, 0]
    inner = slice(100, 900)  # away from the zero padding at the ends
    np.testing.assert_allclose(out[inner][spikes[inner] == 0], 0.0, atol=0.02)
    assert out[inner][spikes[inner] == 1].min() > 0.95


def test_each_lead_is_scaled_onto_minus_one_to_one():
    x = np.random.default_rng(1).normal(size=(3, 12, 200)).astype(np.float32) * 3 + 1
    y = scale_leads(x)
    np.testing.assert_allclose(y.min(axis=-1), -1.0, atol=1e-6)
    np.testing.assert_allclose(y.max(axis=-1), 1.0, atol=1e-6)


def test_preprocess_brings_500_hz_records_to_100_hz_and_zeroes_missing_leads():
    x = np.random.default_rng(2).normal(size=(2, 12, 5000)).astype(np.float32)
    x[1, 3] = np.nan
    y = preprocess(x, 500.0)
    assert y.shape == (2, 12, 1000) and np.isfinite(y).all()
    assert y[1, 3].max() == y[1, 3].min()  # a missing lead is flat


def test_time_warp_keeps_the_length_and_warps_half_of_the_segments_of_each_lead():
    ramp = np.tile(np.arange(1000, dtype=np.float32), (12, 1))
    warped = time_warp(ramp, np.random.default_rng(3))
    assert warped.shape == ramp.shape
    np.testing.assert_allclose(warped[:, 0], 0.0)
    # a ramp stays increasing, and each segment's end value is where the segment ended
    assert (np.diff(warped, axis=1) >= -1e-3).all()
    for lead in warped:
        slopes = np.round(np.diff(lead)[[10, 400, 600, 900]], 2)
        assert len(set(slopes.tolist())) > 1  # stretched and shrunk segments have different slopes


def test_permutation_reorders_whole_segments_per_lead():
    x = np.tile(np.arange(1000, dtype=np.float32), (12, 1))
    out = permute_segments(x, np.random.default_rng(4))
    for lead in out:
        starts = sorted(lead[::250].tolist())
        assert starts == [0.0, 250.0, 500.0, 750.0]
        np.testing.assert_array_equal(np.sort(lead), np.arange(1000))
    assert len({tuple(lead[::250]) for lead in out}) > 1  # leads are shuffled independently


@pytest.mark.parametrize("seed", [0, 1])
def test_augment_warps_permutes_or_keeps_about_a_third_each(seed):
    x = np.random.default_rng(seed).normal(size=(300, 12, 100)).astype(np.float32)
    out = augment(x, np.random.default_rng(seed))
    kept = np.all(out == x, axis=(1, 2)).mean()
    assert 0.25 < kept < 0.42


def test_augment_draws_only_the_chosen_augmentations():
    x = np.random.default_rng(2).normal(size=(50, 12, 100)).astype(np.float32)
    assert np.array_equal(augment(x, np.random.default_rng(0), ("none",)), x)
    permuted = augment(x, np.random.default_rng(0), ("permutation",))
    np.testing.assert_array_equal(np.sort(permuted, axis=-1), np.sort(x, axis=-1))
    with pytest.raises(ValueError, match="augmentations"):
        augment(x, np.random.default_rng(0), ("flip",))
