"""On-disk cache of loaded datasets: a numpy memmap of the signals plus small metadata files.

Layout: ``<cache dir>/datasets/<source>/<slot>-<state>/`` where

- ``slot``  = sha256 of the settings that shape the result (reader version, resolved source path,
  the config fields that change what is read), so each way of reading a source has its own slot;
- ``state`` = sha256 of the state of the files read: the size and ``mtime_ns`` of every signal and
  header file, and the full sha256 of the small metadata files (csv). Hashing every signal file
  would cost as much as reading it, which is what the cache avoids; a changed file changes its
  size or mtime, and a changed metadata table changes its hash.

An entry holds ``signals.npy`` (``float32[n, 12, T]``, opened with ``mmap_mode='r'``),
``arrays.npz`` (record ids, labels, folds), ``meta.npz`` / ``intervals.npz`` / ``beats.npz`` (one
array per column plus a missing-value mask, so column types survive; no pickle, no parquet) and
``dataset.json`` (name, fs, expressed codes, info, and the dataset's fingerprint, computed once
when the entry is written: hashing PTB-XL's 5 GB of 500 Hz signals on every run would cost more
than reading them).
Signals are written and read a chunk of records at a time with the pages released
(:mod:`ecgbench.data.streaming`), so building or scanning an entry keeps only a chunk resident.
It is written to a temporary folder and renamed into place, so a reader never sees half an entry.
Writing an entry removes the other entries of the same slot: they describe files that changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ecgbench.context import default_cache_dir
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.streaming import release

#: Bumped when the entry layout changes; part of every slot key.
CACHE_FORMAT = 2
_ROWS_PER_COPY = 512


def digest(obj: object) -> str:
    """sha256 of a JSON-serialisable object (keys sorted)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_state(paths: Iterable[str | Path]) -> list[tuple[str, int | None, int | None]]:
    """(path, size, mtime_ns) of each path; (path, None, None) for one that does not exist."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.append((str(path), None, None))
        else:
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return out


class MemoryStore:
    """Signals kept in memory: the cache is off, or its folder cannot be written (``reason``)."""

    def __init__(self, reason: str = ""):
        self.reason = reason

    @property
    def status(self) -> dict:
        return {"status": "off", "reason": self.reason} if self.reason else {"status": "off"}

    def allocate(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.empty(shape, dtype=np.float32)

    def compact(self, signals: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return signals[keep]


class PendingEntry:
    """A cache entry being written; signals go straight into a memmap in its temporary folder."""

    def __init__(self, final: Path, slot_prefix: str):
        self.final = final
        self.slot_prefix = slot_prefix
        self.tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.tmp.mkdir(parents=True)

    def allocate(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.lib.format.open_memmap(
            self.tmp / "signals.npy", mode="w+", dtype=np.float32, shape=shape
        )

    def compact(self, signals: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Rows ``keep`` of ``signals`` in a fresh memmap, copied in chunks (no full copy in memory)."""
        out = np.lib.format.open_memmap(
            self.tmp / "signals.kept.npy",
            mode="w+",
            dtype=np.float32,
            shape=(len(keep), *signals.shape[1:]),
        )
        for start in range(0, len(keep), _ROWS_PER_COPY):
            rows = keep[start : start + _ROWS_PER_COPY]
            out[start : start + len(rows)] = signals[rows]
            release(out, slice(start, start + len(rows)))
            release(signals, slice(int(rows.min()), int(rows.max()) + 1))
        out.flush()
        del signals
        os.replace(self.tmp / "signals.kept.npy", self.tmp / "signals.npy")
        return np.load(self.tmp / "signals.npy", mmap_mode="r+")

    def commit(self, dataset: ECGDataset) -> ECGDataset:
        """Write the rest of the entry, move it into place and return the dataset read back from it."""
        signals_file = self.tmp / "signals.npy"
        if _backed_by(dataset.signals, signals_file):
            dataset.signals.flush()
        else:
            np.save(signals_file, np.ascontiguousarray(dataset.signals, dtype=np.float32))
        _write_parts(self.tmp, dataset)
        try:
            self.tmp.rename(self.final)
        except OSError:  # another process wrote the same entry first; theirs is as good as ours
            self.discard()
        for sibling in self.final.parent.glob(f"{self.slot_prefix}-*"):
            if sibling != self.final:
                shutil.rmtree(sibling, ignore_errors=True)
        loaded = read_entry(self.final, status="miss")
        if loaded is None:
            raise OSError(
                f"the dataset cache entry {self.final} could not be read back after writing"
            )
        return loaded

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class DatasetCache:
    """The cache slot of one source read with one set of settings."""

    def __init__(self, source: str, settings: Mapping[str, object], root: Path | None = None):
        self.source = source
        self.slot = digest({"cache_format": CACHE_FORMAT, "source": source, **settings})[:16]
        self.dir = (root if root is not None else default_cache_dir()) / "datasets" / source

    def entry_dir(self, state: str) -> Path:
        return self.dir / f"{self.slot}-{state[:16]}"

    def load(self, state: str) -> ECGDataset | None:
        """The cached dataset for this file state, or None (absent or unreadable; the latter is removed)."""
        entry = self.entry_dir(state)
        if not (entry / "dataset.json").is_file():
            return None
        dataset = read_entry(entry, status="hit")
        if dataset is None:
            shutil.rmtree(entry, ignore_errors=True)
        return dataset

    def begin(self, state: str) -> PendingEntry:
        self.dir.mkdir(parents=True, exist_ok=True)
        return PendingEntry(self.entry_dir(state), self.slot)


def start_entry(cache: DatasetCache | None, state: str) -> PendingEntry | MemoryStore:
    """Where a reader puts what it builds: a new entry of ``cache``, or memory when there is no
    cache or its folder cannot be written (the load still succeeds, uncached)."""
    if cache is None:
        return MemoryStore()
    try:
        return cache.begin(state)
    except OSError as exc:
        return MemoryStore(f"cannot write {cache.dir}: {exc}")


def read_entry(entry: Path, status: str) -> ECGDataset | None:
    """Load an entry (signals as a read-only memmap); None when any part is missing or damaged."""
    try:
        head = json.loads((entry / "dataset.json").read_text())
        if head.get("cache_format") != CACHE_FORMAT:
            return None
        arrays = np.load(entry / "arrays.npz", allow_pickle=False)
        info = dict(head["info"])
        info["cache"] = {"status": status, "dir": str(entry)}
        dataset = ECGDataset(
            name=head["name"],
            signals=np.load(entry / "signals.npy", mmap_mode="r"),
            fs=float(head["fs"]),
            record_ids=arrays["record_ids"].astype(object),
            labels=arrays["labels"],
            folds=arrays["folds"],
            meta=read_table(entry / "meta.npz"),
            expressed=tuple(head["expressed"]),
            intervals=read_table(entry / "intervals.npz"),
            beats=read_table(entry / "beats.npz"),
            info=info,
        )
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None
    if isinstance(head.get("fingerprint"), str):
        dataset.__dict__["fingerprint"] = head["fingerprint"]  # the cached_property's slot
    return dataset


def _backed_by(array: np.ndarray, file: Path) -> bool:
    filename = getattr(array, "filename", None)
    return bool(filename) and file.exists() and os.path.samefile(filename, file)


def _write_parts(folder: Path, dataset: ECGDataset) -> None:
    np.savez(
        folder / "arrays.npz",
        record_ids=np.asarray(dataset.record_ids, dtype=str),
        labels=np.asarray(dataset.labels, dtype=np.uint8),
        folds=np.asarray(dataset.folds, dtype=np.int64),
    )
    for name, table in (
        ("meta", dataset.meta),
        ("intervals", dataset.intervals),
        ("beats", dataset.beats),
    ):
        if table is not None:
            write_table(folder / f"{name}.npz", table)
    info = {k: v for k, v in dataset.info.items() if k != "cache"}
    head = {
        "cache_format": CACHE_FORMAT,
        "name": dataset.name,
        "fs": dataset.fs,
        "expressed": list(dataset.expressed),
        "info": info,
        "fingerprint": dataset.fingerprint,
    }
    (folder / "dataset.json").write_text(json.dumps(head, indent=1, default=str))


def write_table(path: Path, table: pd.DataFrame) -> None:
    """A data frame as one array per column plus missing-value masks (see :func:`_encode`)."""
    arrays: dict[str, np.ndarray] = {}
    kinds = []
    for i, name in enumerate(table.columns):
        kind, values, missing = _encode(table[name])
        kinds.append(kind)
        arrays[f"v{i}"] = values
        if missing is not None:
            arrays[f"m{i}"] = missing
    arrays["columns"] = np.array([str(c) for c in table.columns], dtype=str)
    arrays["kinds"] = np.array(kinds, dtype=str)
    arrays["n_rows"] = np.array(len(table))
    np.savez(path, **arrays)


def _encode(column: pd.Series) -> tuple[str, np.ndarray, np.ndarray | None]:
    """(kind, values, missing mask): b bool, I nullable int, i int, f float (NaN kept), s text."""
    dtype = column.dtype
    if isinstance(dtype, pd.Int64Dtype):
        return "I", column.fillna(0).to_numpy(dtype=np.int64), column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
        return "b", column.to_numpy(dtype=bool), None
    if pd.api.types.is_integer_dtype(dtype):
        return "i", column.to_numpy(dtype=np.int64), None
    if pd.api.types.is_float_dtype(dtype):
        return "f", column.to_numpy(dtype=np.float64), None
    missing = column.isna().to_numpy()
    text = np.array(["" if m else str(v) for v, m in zip(column, missing, strict=True)], dtype=str)
    return "s", text, missing


def read_table(path: Path) -> pd.DataFrame | None:
    """The data frame :func:`write_table` wrote, or None when the file does not exist."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as arrays:
        data = {}
        for i, (name, kind) in enumerate(zip(arrays["columns"], arrays["kinds"], strict=True)):
            values = arrays[f"v{i}"]
            if kind == "I":
                data[str(name)] = pd.arrays.IntegerArray(values, arrays[f"m{i}"])
            elif kind == "s":
                column = values.astype(object)
                column[arrays[f"m{i}"]] = np.nan
                data[str(name)] = column
            else:
                data[str(name)] = values
        return pd.DataFrame(data, index=pd.RangeIndex(int(arrays["n_rows"])))
