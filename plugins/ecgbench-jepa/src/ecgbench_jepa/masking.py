"""JEPA block masking: which patches the context encoder sees and which the predictor fills in.

Per batch one keep ratio is drawn uniformly from ``[min_keep_ratio, max_keep_ratio]`` and the
context keeps ``ceil(ratio * n)`` patches of every example (one count per batch, so the index
arrays stack). The other patches are masked in contiguous blocks of at least
``min_block_patches``, by one of two samplers:

``published`` (the reference's ``MaskCollator``): the kept patches start as one interval; until
enough are masked, an interval is chosen with probability proportional to its length and a
block of uniform length between the minimum and what is still to be masked is cut out of it at
a uniform position (a block at least as long as the interval masks all of it). A remainder
shorter than the minimum is attached to a border of the chosen interval that touches an
existing block. Blocks may touch, so masked runs are often longer than one drawn block.

``separated``: block lengths are drawn one after another the same way (a remainder shorter
than the minimum joins the last block) and placed at random among the kept patches with at
least one kept patch between two blocks, so every maximal masked run is one drawn block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockMasks:
    """``context``: int64[b, k] kept patch indices, ``target``: int64[b, n - k] masked ones;
    both sorted ascending per row."""

    context: np.ndarray
    target: np.ndarray


def _block_lengths(n_masked: int, min_block: int, rng: np.random.Generator) -> list[int]:
    lengths: list[int] = []
    left = n_masked
    while left >= min_block:
        length = int(rng.integers(min_block, left + 1))
        lengths.append(length)
        left -= length
    if left:
        if lengths:
            lengths[-1] += left
        else:  # fewer patches to mask than one block: a single short block
            lengths.append(left)
    return lengths


def _merge_to_fit(lengths: list[int], n_kept: int) -> list[int]:
    """k blocks need k - 1 separating kept patches; merge the shortest neighbours until they fit."""
    while len(lengths) > 1 and len(lengths) - 1 > n_kept:
        i = int(np.argmin([a + b for a, b in zip(lengths[:-1], lengths[1:], strict=True)]))
        lengths[i : i + 2] = [lengths[i] + lengths[i + 1]]
    return lengths


def sample_block_mask(n_patches: int, n_kept: int, min_block: int, rng: np.random.Generator) -> np.ndarray:
    """bool[n_patches], True where the patch is kept in the context."""
    if not 0 < n_kept < n_patches:
        raise ValueError(f"the context must keep between 1 and {n_patches - 1} patches, got {n_kept}")
    lengths = _merge_to_fit(_block_lengths(n_patches - n_kept, min_block, rng), n_kept)
    rng.shuffle(lengths)
    k = len(lengths)
    # gaps g_0..g_k sum to n_kept with the k - 1 inner gaps >= 1: a uniform composition
    free = n_kept - (k - 1)
    bars = np.sort(rng.choice(free + k, size=k, replace=False))
    gaps = np.diff(np.concatenate([[-1], bars, [free + k]])) - 1
    gaps[1:-1] += 1
    keep = np.ones(n_patches, dtype=bool)
    position = 0
    for gap, length in zip(gaps[:-1], lengths, strict=True):
        position += int(gap)
        keep[position : position + length] = False
        position += length
    return keep


def sample_published_block_mask(n_patches: int, n_kept: int, min_block: int, rng: np.random.Generator) -> np.ndarray:
    """bool[n_patches], True where the patch is kept: the published interval-cutting sampler."""
    if not 0 < n_kept < n_patches:
        raise ValueError(f"the context must keep between 1 and {n_patches - 1} patches, got {n_kept}")
    intervals = [(0, n_patches)]  # kept stretches [start, end)
    to_mask, masked = n_patches - n_kept, 0
    while masked < to_mask:
        sizes = np.array([end - start for start, end in intervals], dtype=float)
        start, end = intervals.pop(int(rng.choice(len(intervals), p=sizes / sizes.sum())))
        left = to_mask - masked
        block = int(rng.integers(min_block, left + 1)) if left >= min_block else left
        if end - start <= block:  # the block swallows the whole interval
            masked += end - start
            continue
        if left >= min_block:
            cut = int(rng.integers(start, end - block + 1))
        else:  # too short to stand alone: attach it to a neighbouring block
            borders = ([start] if start > 0 else []) + ([end - block] if end < n_patches else [])
            cut = int(rng.choice(borders)) if borders else start
        intervals += [(start, cut), (cut + block, end)]
        masked += block
    keep = np.zeros(n_patches, dtype=bool)
    for start, end in intervals:
        keep[start:end] = True
    return keep


SAMPLERS = {"published": sample_published_block_mask, "separated": sample_block_mask}


def sample_batch_masks(
    batch_size: int,
    n_patches: int,
    *,
    min_keep_ratio: float,
    max_keep_ratio: float,
    min_block: int,
    rng: np.random.Generator,
    sampler: str = "published",
) -> BlockMasks:
    """Context and target indices for one batch (one keep count shared by the batch)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"mask sampler {sampler!r}: use one of {sorted(SAMPLERS)}")
    ratio = rng.uniform(min_keep_ratio, max_keep_ratio)
    n_kept = min(max(math.ceil(ratio * n_patches), 1), n_patches - 1)
    keep = np.stack([SAMPLERS[sampler](n_patches, n_kept, min_block, rng) for _ in range(batch_size)])
    positions = np.broadcast_to(np.arange(n_patches), keep.shape)
    context = positions[keep].reshape(batch_size, n_kept)
    target = positions[~keep].reshape(batch_size, n_patches - n_kept)
    return BlockMasks(context=context.astype(np.int64), target=target.astype(np.int64))


def masked_runs(keep: np.ndarray) -> list[int]:
    """Lengths of the maximal runs of masked patches in a bool[n] keep mask."""
    padded = np.concatenate([[True], keep, [True]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return (edges[1::2] - edges[0::2]).tolist()
