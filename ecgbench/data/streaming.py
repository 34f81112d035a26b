"""Signals read a chunk of records at a time, so that memory does not grow with the cohort.

A cached cohort's signals are a numpy memmap (:mod:`ecgbench.data.cache`). Reading a memmap
pages the file in, and Linux counts every page a process has touched in its resident set until
the mapping lets go of it: one pass over PTB-XL at 500 Hz (5.2 GB of float32) leaves the process
holding 5.2 GB. The functions here copy one chunk of records (:data:`CHUNK_BYTES`) out of the
mapping and then release the chunk's pages (``madvise(MADV_DONTNEED)``): the data stays in the
operating system's page cache, so reading it again costs no disk access, but it no longer counts
against the process. Only shared file mappings are released (numpy modes ``r``, ``r+`` and
``w+``), where the file, not the mapping, holds the data; an array in ordinary memory is never
touched.

:class:`RecordRows` is a selection of records of such an array (a split of a cached cohort)
that reads its rows only when asked, instead of copying the split into memory.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import Any

import numpy as np

#: Bytes of signal copied into memory at once by the chunked readers: 16 MiB, about 350
#: records of 12 x 1,000 float32 samples (10 s at 100 Hz) or 70 at 500 Hz; the consumers'
#: temporaries (float64 copies, filtered signals) cost a chunk's size several times over.
CHUNK_BYTES = 16 << 20
_SHARED_MODES = frozenset({"r", "r+", "w+"})


def rows_per_chunk(signals: Any, max_bytes: int = CHUNK_BYTES) -> int:
    """How many records of ``signals`` (``[n, ...]``) fit in ``max_bytes`` (at least one)."""
    per_row = int(np.prod(signals.shape[1:], dtype=np.int64)) * np.dtype(signals.dtype).itemsize
    return max(1, max_bytes // max(1, per_row))


def _shared_mapping(array: np.ndarray) -> mmap.mmap | None:
    """The shared file mapping that holds ``array``'s memory, or None (ordinary memory, a
    copy-on-write mapping, or a platform without ``madvise``)."""
    node: Any = array
    while node is not None:
        if isinstance(node, np.memmap):
            mapping = getattr(node, "_mmap", None)
            if node.mode in _SHARED_MODES and mapping is not None and hasattr(mapping, "madvise"):
                return mapping
            return None
        node = getattr(node, "base", None)
    return None


def is_mapped(array: Any) -> bool:
    """True when ``array`` is (a view of) a memmap whose pages :func:`release` can give back."""
    return isinstance(array, np.ndarray) and _shared_mapping(array) is not None


def release(array: np.ndarray, rows: slice | None = None) -> None:
    """Give back the pages of ``array[rows]`` (all of it when ``rows`` is None) if a shared
    memmap holds them; a no-op for anything else. The data stays in the file and page cache."""
    mapping = _shared_mapping(array)
    if mapping is None or mapping.closed:
        return
    part = array if rows is None else array[rows]
    if part.size == 0:
        return
    start_address = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
    first = part.ctypes.data - start_address
    if part.flags.c_contiguous:
        last = first + part.nbytes
    else:  # a strided view: release the span from its first to its last byte
        last = first + sum((extent - 1) * abs(stride) for extent, stride in zip(part.shape, part.strides, strict=True)) + part.itemsize
    begin = first // mmap.PAGESIZE * mmap.PAGESIZE
    length = min(last, len(mapping)) - begin
    if length > 0:
        mapping.madvise(mmap.MADV_DONTNEED, begin, length)


def iter_chunks(signals: Any, max_bytes: int = CHUNK_BYTES, rows: int | None = None) -> Iterator[tuple[slice, np.ndarray]]:
    """``(rows, copy of signals[rows])`` over consecutive chunks of records (``rows`` records
    each, or as many as fit in ``max_bytes``), each chunk's pages released once copied. Works
    for arrays, memmaps and :class:`RecordRows`."""
    n = len(signals)
    step = rows or rows_per_chunk(signals, max_bytes)
    for start in range(0, n, step):
        part = slice(start, min(n, start + step))
        if isinstance(signals, RecordRows):
            yield part, signals[part]
        else:
            chunk = np.array(signals[part])
            release(signals, part)
            yield part, chunk


def every_record(signals: Any, *rest: int | slice) -> np.ndarray:
    """``signals[:, *rest]`` (e.g. the first sample of every lead: ``every_record(x, slice(None), 0)``)
    read a chunk of records at a time; only the pages holding the selected samples are read."""
    if isinstance(signals, RecordRows):
        return signals[(slice(None), *rest)]
    if not is_mapped(signals):
        return np.array(signals[(slice(None), *rest)])
    step = rows_per_chunk(signals)
    parts = []
    for start in range(0, len(signals), step):
        part = slice(start, start + step)
        parts.append(np.array(signals[(part, *rest)]))
        release(signals, part)
    return np.concatenate(parts) if parts else np.array(signals[(slice(None), *rest)])


def take_rows(signals: np.ndarray | RecordRows, index: np.ndarray) -> np.ndarray:
    """A copy of ``signals[index]`` (any order, repeats allowed); a memmap's pages are released
    after the copy. For a random mini-batch drawn from a cached training set."""
    index = np.asarray(index, dtype=np.int64)
    if isinstance(signals, RecordRows):
        return signals[index]
    out = np.array(signals[index])
    if len(index) and is_mapped(signals):
        release(signals, slice(int(index.min()), int(index.max()) + 1))
    return out


class RecordRows:
    """Rows ``index`` of a (memmapped) ``float32[n, 12, T]`` array, read when indexed.

    ``rows[k]``, ``rows[a:b]``, ``rows[array]`` and ``rows[:, lead, sample]`` return ordinary
    numpy arrays of just those records (read in chunks, pages released); ``np.asarray(rows)``
    copies every selected record into memory, for code that needs the whole array.
    """

    def __init__(self, base: np.ndarray, index: np.ndarray):
        self.base = base
        self.index = np.asarray(index, dtype=np.int64)

    @classmethod
    def of(cls, signals: np.ndarray | RecordRows, index: Any) -> RecordRows:
        """Rows ``index`` (integers or a boolean mask) of an array or of another selection."""
        if isinstance(signals, RecordRows):
            return cls(signals.base, signals.index[index])
        return cls(signals, np.arange(len(signals))[index])

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.base.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    @property
    def ndim(self) -> int:
        return self.base.ndim

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return len(self.index)

    def _gather(self, rows: np.ndarray, rest: tuple = ()) -> np.ndarray:
        if not len(rows):
            return np.empty((0, *self.base.shape[1:]), dtype=self.dtype)[(slice(None), *rest)]
        step = rows_per_chunk(self.base)
        # ints and slices after the rows index as they would after a copy of the rows, and then
        # only the selected samples are read; an array among them must follow a copy
        direct = all(isinstance(k, int | np.integer | slice) for k in rest)
        out: np.ndarray | None = None
        for start in range(0, len(rows), step):
            part = rows[start: start + step]
            picked = np.asarray(self.base[(part, *rest)] if direct else self.base[part][(slice(None), *rest)])
            if out is None:  # the first chunk tells the selection's shape; the rest are copied in
                out = np.empty((len(rows), *picked.shape[1:]), dtype=picked.dtype)
            out[start: start + len(part)] = picked
            if is_mapped(self.base):
                release(self.base, slice(int(part.min()), int(part.max()) + 1))
        assert out is not None
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            at = next(i for i, k in enumerate(key) if k is Ellipsis)
            key = key[:at] + (slice(None),) * (self.ndim - len(key) + 1) + key[at + 1:]
        first, rest = (key[0], key[1:]) if key else (slice(None), ())
        if any(k is None or k is Ellipsis for k in key) or np.ndim(first) > 1:
            return np.asarray(self)[key]  # new axes, several ellipses, multi-dimensional rows: as numpy does
        if isinstance(first, int | np.integer):
            return self._gather(self.index[[first]], rest)[0]
        return self._gather(np.atleast_1d(self.index[first]), rest)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self._gather(self.index)
        return out if dtype is None else out.astype(dtype, copy=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        for _, chunk in iter_chunks(self):
            yield from chunk

    def astype(self, dtype: Any, copy: bool = True) -> np.ndarray:
        """Every selected record in memory as ``dtype``."""
        return np.asarray(self).astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"RecordRows({len(self)} of {len(self.base)} records, shape {self.shape}, {self.dtype})"
