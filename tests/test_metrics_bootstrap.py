"""The record-level bootstrap: reproducible, redraws undefined resamples, centred intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgbench.metrics.bootstrap import (
    bootstrap_ci,
    bootstrap_indices,
    centred_percentile_ci,
    percentile_ci,
    percentile_p_value,
    resample_counts,
    rng_for,
)


def test_bootstrap_ci_is_the_percentile_interval_of_the_resampled_statistic():
    values = np.random.default_rng(0).normal(size=40)
    low, high = bootstrap_ci(lambda idx: values[idx].mean(), 40, n_boot=100, seed=3)
    idx = bootstrap_indices(40, 100, rng_for(3, "bootstrap"))
    expected = np.percentile(values[idx].mean(axis=1), [2.5, 97.5])
    assert (low, high) == pytest.approx(tuple(expected), abs=1e-12)


def test_bootstrap_ci_repeats_with_the_seed_and_changes_without_it():
    values = np.arange(30.0)
    stat = lambda idx: values[idx].mean()  # noqa: E731
    assert bootstrap_ci(stat, 30, seed=1) == bootstrap_ci(stat, 30, seed=1)
    assert bootstrap_ci(stat, 30, seed=1) != bootstrap_ci(stat, 30, seed=2)


def test_undefined_resamples_are_redrawn_until_enough_are_defined():
    calls = []

    def stat(idx):
        calls.append(1)
        return float("nan") if len(calls) % 2 else 1.0  # every other resample is undefined

    assert bootstrap_ci(stat, 10, n_boot=50) == (1.0, 1.0)
    assert len(calls) >= 100


def test_interval_is_nan_when_too_few_resamples_are_defined():
    assert np.isnan(bootstrap_ci(lambda idx: float("nan"), 10, n_boot=20)).all()


def test_resample_counts_count_the_indices():
    idx = bootstrap_indices(7, 5, np.random.default_rng(0))
    counts = resample_counts(idx, 7)
    assert counts.shape == (5, 7)
    np.testing.assert_array_equal(counts.sum(axis=1), 7)
    np.testing.assert_array_equal(counts[2], np.bincount(idx[2], minlength=7))


def test_centred_interval_keeps_the_spread_and_moves_to_the_value():
    boot = np.array([2.0, 3.0, 4.0, 5.0, 6.0])
    low, high = percentile_ci(boot)
    c_low, c_high = centred_percentile_ci(boot, point=1.0)
    assert c_high - c_low == pytest.approx(high - low)
    assert (c_low + c_high) / 2 == pytest.approx(1.0)
    assert centred_percentile_ci(boot, point=1.0, bounds=(0.0, None))[0] == 0.0


def test_streams_of_one_seed_are_independent():
    a = rng_for(0, "a").integers(0, 1000, 10)
    b = rng_for(0, "b").integers(0, 1000, 10)
    assert not np.array_equal(a, b)


resampled_differences = st.lists(
    st.one_of(st.integers(-5, 5).map(float), st.floats(-1, 1, allow_nan=False)), min_size=20, max_size=300
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(resampled_differences)
def test_the_95_interval_excludes_zero_exactly_when_p_is_below_005(values):
    low, high = percentile_ci(np.array(values))
    assert (low > 0 or high < 0) == (percentile_p_value(np.array(values)) < 0.05)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(resampled_differences, st.sampled_from([0.5, 0.8, 0.9, 0.99]))
def test_the_p_value_inverts_the_percentile_interval_at_every_level(values, level):
    low, high = percentile_ci(np.array(values), level)
    p = percentile_p_value(np.array(values))
    if p > 1 / (len(values) + 1):
        assert (low > 0 or high < 0) == (p < 1 - level)


def test_the_p_value_is_twice_the_smaller_tail_share():
    values = np.arange(1.0, 101.0) - 10.5  # 10 of 100 below 0
    assert percentile_p_value(values) == pytest.approx(0.2, abs=2 / 99)
    assert percentile_p_value(-values) == pytest.approx(percentile_p_value(values), abs=1e-12)
    assert percentile_p_value(np.zeros(50)) == 1.0
    assert percentile_p_value(np.linspace(1, 2, 99)) == 1 / 100  # nothing beyond 0: floored, never 0
