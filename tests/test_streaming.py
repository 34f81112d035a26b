"""Signals read a chunk of records at a time: what is read is exactly what numpy would give, and a
pass over a memmapped cohort does not leave the cohort resident."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ecgbench.data.dataset import ECGDataset, empty_meta
from ecgbench.data.labels import N_LABELS
from ecgbench.data.streaming import (
    RecordRows,
    every_record,
    is_mapped,
    iter_chunks,
    release,
    take_rows,
)


def saved(tmp_path: Path, array: np.ndarray) -> np.memmap:
    np.save(tmp_path / "signals.npy", array)
    return np.load(tmp_path / "signals.npy", mmap_mode="r")


@pytest.fixture
def signals() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(50, 12, 30)).astype(np.float32)


KEYS = [3, -1, slice(5, 17), slice(None, None, 4), np.array([7, 2, 2, 40]), (slice(None), slice(None), 0),
        (slice(2, 9), 5), (np.array([1, 0]), slice(None), slice(3, 6)), (slice(None), np.array([0, 11])),
        (Ellipsis, slice(0, 4)), (Ellipsis, np.array([2, 0]), slice(None)), (3, Ellipsis), (None, 2)]


@pytest.mark.parametrize("key", KEYS, ids=repr)
@pytest.mark.parametrize("mapped", [False, True])
def test_a_selection_of_records_indexes_like_the_copied_array(tmp_path, signals, key, mapped):
    base = saved(tmp_path, signals) if mapped else signals
    index = np.concatenate([np.random.default_rng(1).permutation(50), [33, 33]])  # shuffled, repeats
    rows = RecordRows(base, index)
    assert np.array_equal(rows[key], signals[index][key])


def test_a_selection_of_a_selection_keeps_one_index_into_the_base(signals):
    outer = RecordRows.of(signals, np.arange(50) % 2 == 0)
    inner = RecordRows.of(outer, [3, 1])
    assert inner.base is signals and inner.index.tolist() == [6, 2]
    assert np.array_equal(np.asarray(inner), signals[[6, 2]])
    assert inner.shape == (2, 12, 30) and len(inner) == 2 and inner.dtype == np.float32


@pytest.mark.parametrize("as_rows", [False, True])
def test_chunks_cover_every_record_in_order(signals, as_rows):
    source = RecordRows(signals, np.arange(50)) if as_rows else signals
    chunks = list(iter_chunks(source, max_bytes=7 * 12 * 30 * 4))
    assert [c.shape[0] for _, c in chunks] == [7] * 7 + [1]
    assert np.array_equal(np.concatenate([c for _, c in chunks]), signals)


def test_every_record_reads_the_selected_samples(tmp_path, signals):
    mapped = saved(tmp_path, signals)
    assert np.array_equal(every_record(mapped, slice(None), 0), signals[:, :, 0])
    assert np.array_equal(every_record(RecordRows(mapped, [5, 1]), 2), signals[[5, 1], 2])


def test_release_leaves_an_array_in_memory_alone(signals):
    before = signals.copy()
    release(signals)
    assert not is_mapped(signals) and np.array_equal(signals, before)


def test_released_pages_of_a_written_memmap_keep_their_data(tmp_path, signals):
    out = np.lib.format.open_memmap(tmp_path / "w.npy", mode="w+", dtype=np.float32, shape=signals.shape)
    out[:] = signals
    release(out)
    out.flush()
    del out
    assert np.array_equal(np.load(tmp_path / "w.npy"), signals)


def test_take_rows_copies_a_batch_in_any_order(tmp_path, signals):
    batch = take_rows(saved(tmp_path, signals), np.array([9, 3, 9]))
    assert not is_mapped(batch) and np.array_equal(batch, signals[[9, 3, 9]])


def _resident_file_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the resident set from /proc")
def test_a_pass_over_a_memmapped_cohort_keeps_about_one_chunk_resident(tmp_path):
    n, chunk = 400, 2 << 20  # 400 records of 12 x 5000 float32: 96 MB on disk, 2 MB chunks
    out = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float32, shape=(n, 12, 5000))
    for rows, _ in iter_chunks(out, chunk):
        out[rows] = 1.0
        release(out, rows)
    out.flush()
    del out
    mapped = np.load(tmp_path / "big.npy", mmap_mode="r")
    before, peak, total = _resident_file_kib(), 0, 0.0
    for _, block in iter_chunks(mapped, chunk):
        total += float(block.sum())
        peak = max(peak, _resident_file_kib() - before)
    assert total == n * 12 * 5000
    assert peak < 16 << 10  # KiB: a few chunks, not the 96 MB file


def test_a_subset_of_a_memmapped_cohort_reads_its_records_lazily(tmp_path, signals):
    n = len(signals)
    dataset = ECGDataset(
        name="mapped", signals=saved(tmp_path, signals), fs=100.0,
        record_ids=np.array([f"r{i}" for i in range(n)]), labels=np.zeros((n, N_LABELS), dtype=np.uint8),
        folds=np.arange(n) % 10 + 1, meta=empty_meta(n),
    )
    in_memory = replace(dataset, signals=signals)
    part, copied = dataset.subset(dataset.folds == 3), in_memory.subset(in_memory.folds == 3)
    assert isinstance(part.signals, RecordRows) and isinstance(copied.signals, np.ndarray)
    assert part.fingerprint == copied.fingerprint
    assert np.array_equal(part.lead_present, copied.lead_present)
    assert np.array_equal(part.subset([1, 0]).signals[:], copied.signals[[1, 0]])
