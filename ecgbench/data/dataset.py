"""ECGDataset: the one in-memory form of a cohort that every task and model reads."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ecgbench.data.labels import N_LABELS, SCP_CODES
from ecgbench.data.leads import LEADS
from ecgbench.data.streaming import RecordRows, every_record, is_mapped, iter_chunks
from ecgbench.errors import ConfigError, DataError

#: Reference interval columns, in ms (``hr`` in beats per minute). NaN where undefined
#: (no PR in atrial fibrillation) or unknown.
INTERVAL_FIELDS: tuple[str, ...] = ("pr", "qrs", "qt", "rr", "hr")
#: Quanta of the content check of a generated dataset (see :attr:`ECGDataset.fingerprint`):
#: per-lead moments in mV (1 µV, PTB-XL's ADC resolution) and reference intervals in ms (bpm).
SIGNAL_QUANTUM_MV = 1e-3
INTERVAL_QUANTUM = 1e-2
_ROWS_PER_SUM = 128  # float64 copies of 128 records: 6 MB at 500 Hz (the chunking fixes the rounding)


@dataclass(frozen=True)
class FoldSplit:
    """Which ``strat_fold`` values make the train, validation and test splits."""

    train: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    val: tuple[int, ...] = (9,)
    test: tuple[int, ...] = (10,)

    @classmethod
    def parse(cls, text: str) -> FoldSplit:
        """Parse ``"train=1-6,val=7,test=8"`` (ranges and comma-free lists like ``1-3+5``).

        A malformed override is a ConfigError (a usage error), found before any data is read.
        """
        parts: dict[str, tuple[int, ...]] = {}
        for item in filter(None, text.split(",")):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in ("train", "val", "test"):
                raise ConfigError(f"fold override {text!r}: expected items like train=1-6, val=7, test=8")
            if key in parts:
                raise ConfigError(f"fold override {text!r}: {key} is given twice")
            folds: list[int] = []
            for piece in value.split("+"):
                m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", piece)
                if not m:
                    raise ConfigError(f"fold override {text!r}: {piece!r} is not a fold number or range")
                lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
                if lo > hi:
                    raise ConfigError(f"fold override {text!r}: the range {piece.strip()!r} runs backwards; write {hi}-{lo}")
                folds.extend(range(lo, hi + 1))
            parts[key] = tuple(folds)
        if not parts:
            raise ConfigError(f"fold override {text!r}: expected items like train=1-6, val=7, test=8")
        split = replace(cls(), **parts)
        overlap = (set(split.train) & set(split.val)) | (set(split.train) & set(split.test)) | (
            set(split.val) & set(split.test)
        )
        if overlap:
            raise ConfigError(f"fold override {text!r}: folds {sorted(overlap)} are in two splits")
        return split

    def describe(self) -> str:
        def fmt(folds: tuple[int, ...]) -> str:
            return "+".join(map(str, folds))

        return f"train={fmt(self.train)},val={fmt(self.val)},test={fmt(self.test)}"


@dataclass(frozen=True, eq=False)
class ECGDataset:
    """A cohort of 10-s (or other fixed-length) 12-lead ECGs.

    signals     float32[n, 12, T], mV, leads in :data:`LEADS` order; a lead the source does
                not have is all-NaN (e.g. two-lead Holter records). An array in memory, a
                read-only memmap (a cached cohort), or a :class:`RecordRows` selection of one
                (a split of a cached cohort); :func:`iter_chunks` reads any of them a chunk of
                records at a time without keeping the pages resident.
    fs          sampling rate in Hz.
    record_ids  str[n], unique.
    labels      uint8[n, 71] over :data:`SCP_CODES`; ``expressed`` lists the codes the source
                can carry at all (the rest are structurally zero, not "absent").
    folds       int[n], ``strat_fold`` 1–10 (0 = none).
    meta        one row per record: at least ``sex`` ('M', 'F' or '') and ``age`` (NaN if unknown).
    intervals   reference intervals per record (columns :data:`INTERVAL_FIELDS`) or None.
    beats       per-beat ground-truth fiducials (sample indices; column ``record`` is the row
                index into the dataset) or None.
    info        provenance: source path, version, skipped records, fold override, generator seed.
    generated_by  for a cohort computed in floating point from settings (the phantom): what
                defines it (generator, version, settings with the seed). Its fingerprint is then
                derived from these and a quantised content check, not from the signal bytes.
    """

    name: str
    signals: np.ndarray | RecordRows
    fs: float
    record_ids: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    meta: pd.DataFrame
    expressed: tuple[str, ...] = SCP_CODES
    intervals: pd.DataFrame | None = None
    beats: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)
    generated_by: dict | None = None

    def __post_init__(self) -> None:
        n = len(self.record_ids)
        if self.signals.ndim != 3 or self.signals.shape[1] != len(LEADS):
            raise DataError(f"dataset {self.name!r}: signals must be [n, 12, T], got {self.signals.shape}")
        if self.signals.shape[0] != n or self.labels.shape != (n, N_LABELS) or len(self.folds) != n:
            raise DataError(
                f"dataset {self.name!r}: {n} record ids but signals {self.signals.shape}, "
                f"labels {self.labels.shape}, folds {len(self.folds)}"
            )
        if len(self.meta) != n or (self.intervals is not None and len(self.intervals) != n):
            raise DataError(f"dataset {self.name!r}: meta/intervals rows differ from {n} records")
        if len(set(self.record_ids.tolist())) != n:
            raise DataError(f"dataset {self.name!r}: record ids are not unique")

    def __len__(self) -> int:
        return len(self.record_ids)

    @property
    def n_samples(self) -> int:
        """T, the number of samples per lead."""
        return int(self.signals.shape[-1])

    @property
    def lead_present(self) -> np.ndarray:
        """bool[n, 12]: which leads hold a signal (a missing lead is all-NaN)."""
        return ~np.isnan(every_record(self.signals, slice(None), 0))

    def subset(self, index: np.ndarray | list[int] | slice, name: str | None = None) -> ECGDataset:
        """A dataset of the selected rows (boolean mask or integer indices), in that order.

        The signals of a cached (memmapped) cohort are not copied: the subset holds a
        :class:`RecordRows` selection that reads its records when they are used.
        """
        idx = np.arange(len(self))[index]
        if isinstance(self.signals, RecordRows) or is_mapped(self.signals):
            signals: np.ndarray | RecordRows = RecordRows.of(self.signals, idx)
        else:
            signals = np.asarray(self.signals[idx])
        beats = None
        if self.beats is not None:
            remap = -np.ones(len(self), dtype=np.int64)
            remap[idx] = np.arange(len(idx))
            kept = self.beats[np.isin(self.beats["record"].to_numpy(), idx)].copy()
            kept["record"] = remap[kept["record"].to_numpy()]
            beats = kept.sort_values(["record", "qrs_on"], kind="stable").reset_index(drop=True)
        return replace(
            self,
            name=name or self.name,
            signals=signals,
            record_ids=self.record_ids[idx],
            labels=self.labels[idx],
            folds=self.folds[idx],
            meta=self.meta.iloc[idx].reset_index(drop=True),
            intervals=None if self.intervals is None else self.intervals.iloc[idx].reset_index(drop=True),
            beats=beats,
            generated_by=None,  # a subset keys local caches only: its own bytes identify it
        )

    def loaded(self) -> ECGDataset:
        """This dataset with its signals as one numpy array, for code that needs every record at
        once (an evaluator comparing whole sets): a :class:`RecordRows` selection is read into
        memory; an array or memmap is kept as it is."""
        if not isinstance(self.signals, RecordRows):
            return self
        loaded = replace(self, signals=np.asarray(self.signals))
        if "fingerprint" in self.__dict__:
            loaded.__dict__["fingerprint"] = self.__dict__["fingerprint"]  # same records, same bytes
        return loaded

    def split(self, folds: FoldSplit | None = None) -> tuple[ECGDataset, ECGDataset, ECGDataset]:
        """(train, val, test) by ``strat_fold``; an empty split raises DataError naming it."""
        folds = folds or FoldSplit()
        parts = []
        for part in ("train", "val", "test"):
            mask = np.isin(self.folds, getattr(folds, part))
            if not mask.any():
                present = sorted(set(self.folds.tolist()))
                raise DataError(
                    f"dataset {self.name!r}: the {part} split (folds {getattr(folds, part)}) is empty; "
                    f"folds present: {present}. Pass a fold override, e.g. --folds train=1-6,val=7,test=8"
                )
            parts.append(self.subset(mask, name=f"{self.name}:{part}"))
        return parts[0], parts[1], parts[2]

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of the records actually used: rate, shape, ids, signals, labels and folds.

        A file dataset's signals are hashed byte for byte: they are the stored integers scaled by
        the header's gain, which IEEE arithmetic rounds the same way on every machine. A generated
        dataset (``generated_by`` set) is computed with sin, exp, BLAS products and filters whose
        last bits differ between CPUs and libraries, so its bytes are machine-dependent; it is
        identified instead by what defines it plus a content check that no last-bit difference
        moves: the per-lead mean and RMS over the cohort in whole :data:`SIGNAL_QUANTUM_MV` and
        the reference intervals in whole :data:`INTERVAL_QUANTUM` (docs/phantom.md gives the
        argument and the measured differences).
        """
        h = hashlib.sha256()
        h.update(f"{self.fs}|{self.signals.shape}".encode())
        h.update("\n".join(map(str, self.record_ids.tolist())).encode())
        if self.generated_by is None:
            for _, chunk in iter_chunks(self.signals):  # a memmapped cohort is never copied whole
                h.update(np.ascontiguousarray(chunk, dtype=np.float32).tobytes())
        else:
            h.update(json.dumps(self.generated_by, sort_keys=True, default=str).encode())
            h.update(quantised(lead_moments(self.signals), SIGNAL_QUANTUM_MV))
            if self.intervals is not None:
                h.update("|".join(map(str, self.intervals.columns)).encode())
                h.update(quantised(self.intervals.to_numpy(dtype=np.float64), INTERVAL_QUANTUM))
        h.update(np.ascontiguousarray(self.labels, dtype=np.uint8).tobytes())
        h.update(np.ascontiguousarray(self.folds, dtype=np.int64).tobytes())
        return h.hexdigest()

    def label_prevalence(self) -> dict[str, int]:
        """Positive count per expressed code."""
        counts = self.labels.sum(axis=0)
        return {code: int(counts[i]) for i, code in enumerate(SCP_CODES) if code in self.expressed}


def lead_moments(signals: np.ndarray | RecordRows) -> np.ndarray:
    """float64[2, 12]: mean and RMS of each lead over every record and sample (NaN ignored).

    Accumulated in float64 chunk by chunk, so that a memmapped cohort is never copied whole.
    """
    total = np.zeros(signals.shape[1])
    squares = np.zeros(signals.shape[1])
    count = np.zeros(signals.shape[1])
    for _, chunk in iter_chunks(signals, rows=_ROWS_PER_SUM):
        chunk = chunk.astype(np.float64)
        valid = ~np.isnan(chunk)
        chunk = np.where(valid, chunk, 0.0)
        total += chunk.sum(axis=(0, 2))
        squares += (chunk * chunk).sum(axis=(0, 2))
        count += valid.sum(axis=(0, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([total / count, np.sqrt(squares / count)])


def quantised(values: np.ndarray, quantum: float) -> bytes:
    """Bytes of ``values`` in whole quanta (int64, rounded to nearest; NaN as the smallest int64)."""
    values = np.asarray(values, dtype=np.float64)
    steps = np.rint(np.where(np.isnan(values), 0.0, values) / quantum).astype(np.int64)
    return np.where(np.isnan(values), np.iinfo(np.int64).min, steps).tobytes()


def empty_meta(n: int) -> pd.DataFrame:
    """Metadata with unknown sex and age for n records."""
    return pd.DataFrame({"sex": [""] * n, "age": np.full(n, np.nan)})
