"""Block masking: the published context share and contiguous masked blocks, by both samplers."""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_jepa.masking import (
    masked_runs,
    sample_batch_masks,
    sample_block_mask,
    sample_published_block_mask,
)

N_PATCHES = 200  # 10 s at 50 ms per patch


def _draws(n_batches: int = 300, batch: int = 4, seed: int = 0, sampler: str = "published"):
    rng = np.random.default_rng(seed)
    for _ in range(n_batches):
        yield sample_batch_masks(batch, N_PATCHES, min_keep_ratio=0.15, max_keep_ratio=0.25, min_block=10, rng=rng,
                                 sampler=sampler)


def test_context_keeps_15_to_25_percent_of_the_patches() -> None:
    shares = np.array([m.context.shape[1] / N_PATCHES for m in _draws()])
    assert shares.min() >= 0.15
    assert shares.max() <= 0.25 + 1 / N_PATCHES  # the count is rounded up
    assert shares.mean() == pytest.approx(0.20, abs=0.01)  # uniform ratio: mean in the middle
    assert shares.min() < 0.16 and shares.max() > 0.24  # and the whole range is used


def test_context_and_target_partition_the_patches() -> None:
    for masks in _draws(50):
        both = np.concatenate([masks.context, masks.target], axis=1)
        assert np.array_equal(np.sort(both, axis=1), np.broadcast_to(np.arange(N_PATCHES), both.shape))
        assert np.all(np.diff(masks.context, axis=1) > 0) and np.all(np.diff(masks.target, axis=1) > 0)


def _runs(sampler: str) -> list[int]:
    runs = []
    for masks in _draws(sampler=sampler):
        for row in masks.context:
            keep = np.zeros(N_PATCHES, dtype=bool)
            keep[row] = True
            runs.extend(masked_runs(keep))
    return runs


@pytest.mark.parametrize("sampler", ["published", "separated"])
def test_masked_patches_come_in_blocks_of_at_least_ten(sampler: str) -> None:
    runs = _runs(sampler)
    assert min(runs) >= 10
    assert len(set(runs)) > 20  # block lengths vary


def test_published_blocks_may_touch_so_runs_are_fewer_and_longer_than_separated_ones() -> None:
    published, separated = _runs("published"), _runs("separated")
    assert np.mean(published) > 1.1 * np.mean(separated)  # measured: 60 against 50 patches
    assert len(published) < 0.9 * len(separated)  # measured: 3,185 against 3,791 runs


def test_the_published_sampler_keeps_exactly_the_asked_count() -> None:
    rng = np.random.default_rng(1)
    for n_kept in (1, 2, 7, 30, 50, 199):
        assert sample_published_block_mask(N_PATCHES, n_kept, 10, rng).sum() == n_kept


def test_masks_vary_within_a_batch_and_repeat_for_a_seed() -> None:
    first, again = next(_draws(seed=3)), next(_draws(seed=3))
    assert np.array_equal(first.context, again.context)
    assert len({tuple(row) for row in first.context}) > 1


def test_too_many_blocks_for_the_kept_patches_are_merged() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        keep = sample_block_mask(30, 2, min_block=3, rng=rng)
        assert keep.sum() == 2
        assert min(masked_runs(keep)) >= 3
        assert len(masked_runs(keep)) <= 3


def test_masked_runs_counts_maximal_runs() -> None:
    keep = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
    assert masked_runs(keep) == [2, 3, 1]
