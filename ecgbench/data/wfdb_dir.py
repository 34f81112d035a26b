"""Any folder of WFDB records as an ECGDataset, cut into fixed windows, with wave marks where present.

Every ``*.hea`` under the folder (sub-folders included) is a record; its id is its path relative
to the folder without the extension. Each record is

1. read and mapped to the 12 standard leads by name (:func:`ecgbench.data.leads.canonical_lead`,
   case- and spelling-insensitive); a lead the record lacks is all-NaN. Channels whose name is no
   standard lead (QT Database ``record 30, signal 0``, European ST-T ``D3``) are, with
   ``unnamed_leads='fill'``, put in the first free slot of :data:`FILL_ORDER` and the mapping is
   recorded in ``meta['leads']``; Frank leads (vx, vy, vz) and non-voltage channels are never used;
2. resampled to ``fs`` (polyphase, :mod:`ecgbench.data.resample`);
3. cut into consecutive, non-overlapping windows of ``window_s`` seconds from its start (a tail
   shorter than a window is dropped); record ids are ``<record>:<start_s>``, or ``<record>`` when
   the window is the whole record;
4. given reference intervals when it has expert wave marks (``.q1c`` in the QT Database; see
   :mod:`ecgbench.data.wave_marks`): a beat belongs to the window that holds all its marks, and a
   window's PR, QRS, QT, RR and HR are the medians over its beats;
5. given labels when its header is in the Challenge 2021 layout (``# Dx:`` SNOMED codes, mapped to
   SCP statements by :mod:`ecgbench.data.cinc2021`).

Folds: each record gets fold ``1 + (first 8 hex digits of sha256(record id)) mod 10``, so all
windows of a record share one fold and the assignment never changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import wfdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ecgbench.data import cinc2021
from ecgbench.data.cache import DatasetCache, MemoryStore, digest, files_state, start_entry
from ecgbench.data.dataset import INTERVAL_FIELDS, ECGDataset
from ecgbench.data.flat_leads import FLAT_ADC_STEPS, flat_leads
from ecgbench.data.labels import N_LABELS, SCP_INDEX
from ecgbench.data.leads import LEAD_INDEX, LEADS, canonical_lead
from ecgbench.data.resample import filter_reach, resample
from ecgbench.data.wave_marks import (
    BEAT_SYMBOLS,
    FIDUCIALS,
    beat_intervals,
    beat_rr,
    beat_span,
    marked_beats,
)
from ecgbench.data.wfdb_record import Header, WFDBRecord, mv_scale, read_header, read_record
from ecgbench.errors import DataError
from ecgbench.progress import Progress

#: Bumped whenever a change would change what the loader returns (part of the cache key).
READER_VERSION = 2
#: Slots for channels with no standard lead name, in order: II and V5 first, the usual monitoring pair.
FILL_ORDER: tuple[str, ...] = (
    "II",
    "V5",
    "V1",
    "I",
    "III",
    "aVF",
    "V2",
    "V3",
    "V4",
    "V6",
    "aVR",
    "aVL",
)
#: Channel names that are ECG but never one of the 12 leads (Frank orthogonal leads).
_NEVER_FILLED = re.compile(r"^\s*v?[xyz]\s*$", re.IGNORECASE)
#: Reference beat annotations used for RR when present.
BEAT_ANNOTATOR = "atr"


class WFDBDirConfig(BaseModel):
    """How to read a folder of WFDB records."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="folder searched recursively for *.hea records")
    fs: float | None = Field(
        default=None,
        description="resample every record to this rate in Hz; None keeps the native rate, which all records must share",
    )
    window_s: float | None = Field(
        default=10.0,
        description="window length in s; None keeps whole records, which must then all be equally long",
    )
    annotator: str | None = Field(
        default="auto",
        description="extension of the wave-mark annotations ('q1c' for the QT Database); 'auto' uses q1c where present",
    )
    annotated_only: bool = Field(
        default=True,
        description="for records with wave marks, keep only the windows that hold a marked beat",
    )
    skip_bad: bool = Field(
        default=False, description="leave out bad records/windows and list them in info['skipped']"
    )
    cache: bool = Field(
        default=True,
        description="read from / write to the memmap cache under the ecgbench cache dir",
    )
    unnamed_leads: Literal["fill", "drop"] = Field(
        default="fill",
        description="channels with no standard lead name: put them in free slots (FILL_ORDER) or leave them out",
    )

    @field_validator("fs", "window_s")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("annotator")
    @classmethod
    def _no_dot(cls, value: str | None) -> str | None:
        return None if value in (None, "", "none") else value.lstrip(".")


@dataclass
class _RecordPart:
    """What one source record contributes: one entry per kept window."""

    record: str
    signals: list[np.ndarray] = field(default_factory=list)
    starts_s: list[float] = field(default_factory=list)
    whole: bool = False
    intervals: list[dict] = field(default_factory=list)
    beats: list[pd.DataFrame] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    scp: list[str] = field(default_factory=list)
    unmapped_dx: list[str] = field(default_factory=list)
    has_dx: bool = False
    has_marks: bool = False
    skipped_windows: list[dict] = field(default_factory=list)
    flat_leads: list[dict] = field(default_factory=list)


def load_wfdb_dir(config: WFDBDirConfig) -> ECGDataset:
    """The records under ``config.path`` as an ECGDataset named "wfdb-dir".

    signals     float32[n, 12, window_s·fs] mV; leads the record lacks are all-NaN.
    labels      SCP statements mapped from Challenge ``# Dx:`` codes, else all zero with
                ``expressed=()``.
    intervals   pr, qrs, qt, rr (ms), hr (bpm) per window when any record has wave marks, else None.
    beats       marked beats: :data:`ecgbench.data.wave_marks.FIDUCIALS` as sample indices within
                the window at ``fs``, ``symbol``, and ``record`` (row index).
    """
    root = Path(config.path).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"WFDB folder {root} does not exist or is not a folder")
    records = find_records(root)
    if not records:
        raise DataError(f"WFDB folder {root} holds no records (*.hea files)")
    all_files = sorted(p for p in root.rglob("*") if p.is_file())
    state = digest(files_state(all_files))
    cache = DatasetCache("wfdb-dir", _cache_settings(root, config)) if config.cache else None
    if cache is not None:
        cached = cache.load(state)
        if cached is not None:
            return cached
    dataset = _build(root, records, config)
    store = start_entry(cache, state)
    if isinstance(store, MemoryStore):
        dataset.info["cache"] = store.status
        return dataset
    try:
        return store.commit(dataset)
    finally:
        store.discard()


def find_records(root: Path) -> list[str]:
    """Record ids (paths relative to ``root`` without '.hea'), sorted."""
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.hea"))


def record_fold(record: str) -> int:
    """Fold 1-10 of a record, from the sha256 of its id (stable across runs and machines)."""
    return 1 + int(hashlib.sha256(record.encode()).hexdigest()[:8], 16) % 10


def header_age_sex(comments: tuple[str, ...] | list[str]) -> tuple[float, str]:
    """(age in years or NaN, 'M'/'F'/'') from header comments.

    Understands ``Age: 59`` / ``Sex: Female`` (Challenge, PTB Diagnostic, European ST-T, any case)
    and the MIT-BIH comment ``69 M 1085 1629 x1`` (age, sex, ...).
    """
    text = " ; ".join(comments)
    age, sex = np.nan, ""
    m = re.search(r"\bage\s*:\s*(\d+(?:\.\d+)?)", text, re.IGNORECASE)
    if m:
        age = float(m.group(1))
    m = re.search(r"\bsex\s*:\s*(male|female|m|f)\b", text, re.IGNORECASE)
    if m:
        sex = m.group(1)[0].upper()
    if np.isnan(age) and not sex:
        for line in comments:
            m = re.match(r"^\s*(\d{1,3})\s+([MF])\b", line)
            if m:
                return float(m.group(1)), m.group(2)
    return age, sex


def map_leads(sig_name: tuple[str, ...], units: tuple[str, ...], fill: bool) -> dict[int, str]:
    """Channel index -> standard lead for the channels used; first come first served per lead."""
    used: dict[int, str] = {}
    taken: set[str] = set()
    unnamed = []
    for k, (name, unit) in enumerate(zip(sig_name, units, strict=True)):
        if mv_scale(unit) is None:
            continue
        lead = canonical_lead(name)
        if lead is None:
            if not _NEVER_FILLED.match(name):
                unnamed.append(k)
        elif lead not in taken:
            used[k] = lead
            taken.add(lead)
    if fill:
        free = [lead for lead in FILL_ORDER if lead not in taken]
        for k, lead in zip(unnamed, free, strict=False):
            used[k] = lead
    return used


def _build(root: Path, records: list[str], config: WFDBDirConfig) -> ECGDataset:
    skipped: list[dict] = []
    headers: dict[str, Header] = {}
    for rid in records:
        try:
            headers[rid] = read_header(root / rid, rid)
        except DataError as exc:
            if not config.skip_bad:
                raise
            skipped.append({"record": rid, "reason": str(exc)})
    if not headers:
        raise DataError(
            f"WFDB folder {root}: no readable record; first problem: {skipped[0]['reason']}"
        )
    fs = config.fs if config.fs is not None else _common_rate(headers)
    parts: list[_RecordPart] = []
    for rid in Progress(list(headers), desc="reading WFDB records"):
        try:
            part = _read_part(root, rid, headers[rid], fs, config)
        except DataError as exc:
            if not config.skip_bad:
                raise
            skipped.append({"record": rid, "reason": str(exc)})
            continue
        skipped.extend(part.skipped_windows)
        if part.signals:
            parts.append(part)
    if not parts:
        detail = f"; first problem: {skipped[0]['reason']}" if skipped else ""
        raise DataError(f"WFDB folder {root}: no window to keep{detail}")
    if config.window_s is None:
        lengths = {p.record: p.signals[0].shape[-1] for p in parts}
        if len(set(lengths.values())) > 1:
            raise DataError(
                f"WFDB folder {root}: with window_s=None all records must be equally long; lengths in samples: "
                + ", ".join(f"{r}={n}" for r, n in sorted(lengths.items()))
            )
    return _assemble(root, len(records), headers, parts, fs, config, skipped)


def _common_rate(headers: dict[str, Header]) -> float:
    by_rate: dict[float, list[str]] = {}
    for rid, header in headers.items():
        by_rate.setdefault(float(header.fs), []).append(rid)
    if len(by_rate) > 1:
        listing = "; ".join(
            f"{rate:g} Hz: {', '.join(rids[:5])}{' ...' if len(rids) > 5 else ''}"
            for rate, rids in sorted(by_rate.items())
        )
        raise DataError(
            f"records have different sampling rates ({listing}); pass fs (--fs on the command line) to resample them to one rate"
        )
    return next(iter(by_rate))


def _read_part(
    root: Path, rid: str, header: Header, fs: float, config: WFDBDirConfig
) -> _RecordPart:
    path = root / rid
    rec = read_record(path, rid, header)
    part = _RecordPart(record=rid)
    native, steps = _twelve_leads(rec, rid, config.unnamed_leads == "fill", part)
    invalid = np.isnan(native) & ~np.isnan(native).all(axis=1, keepdims=True)
    x, margin = native, 0
    if rec.fs != fs:
        # Invalid samples are bridged before filtering so that they cannot spread over the whole
        # lead; every window within the filter's reach of one is rejected below.
        x = resample(_bridge_gaps(native, invalid) if invalid.any() else native, rec.fs, fs)
        margin = filter_reach(rec.fs, fs)
    beats, marks_ext = _marks(path, rid, rec, config.annotator)
    part.has_marks = beats is not None
    n = x.shape[-1]
    width = n if config.window_s is None else _window_samples(config.window_s, fs)
    if n < width:
        raise DataError(
            f"record {rid}: {n / fs:g} s long, shorter than one window of {config.window_s:g} s"
        )
    part.whole = width == n
    for start in range(0, n - width + 1, width):
        lo, hi = start / fs * rec.fs, (start + width) / fs * rec.fs
        window_beats = _beats_in(beats, lo, hi) if beats is not None else None
        if (
            part.has_marks
            and config.annotated_only
            and (window_beats is None or window_beats.empty)
        ):
            continue
        wid = _window_id(rid, start / fs, part.whole)
        bad_leads = invalid[:, max(0, int(lo) - margin) : int(np.ceil(hi)) + margin].any(axis=1)
        if bad_leads.any():
            reason = f"record {wid}: invalid (NaN) samples in lead(s) " + ", ".join(
                LEADS[i] for i in np.flatnonzero(bad_leads)
            )
            if not config.skip_bad:
                raise DataError(reason)
            part.skipped_windows.append({"record": wid, "reason": reason})
            continue
        segment = x[:, start : start + width]
        flat = flat_leads(segment, steps)
        if flat.any():
            names = [LEADS[i] for i in np.flatnonzero(flat)]
            what = f"peak-to-peak at most {FLAT_ADC_STEPS} ADC steps"
            if flat.sum() == (~np.isnan(segment).all(axis=1)).sum():
                reason = f"record {wid}: every lead is flat ({what}): nothing was recorded"
            elif config.skip_bad:
                reason = f"record {wid}: flat lead(s) {', '.join(names)} ({what})"
            else:
                reason = ""
                segment = segment.copy()
                segment[flat] = np.nan
                part.flat_leads.append({"record": wid, "leads": names})
            if reason and not config.skip_bad:
                raise DataError(reason)
            if reason:
                part.skipped_windows.append({"record": wid, "reason": reason})
                continue
        part.signals.append(segment)
        part.starts_s.append(start / fs)
        if window_beats is not None:
            part.intervals.append(_window_intervals(window_beats))
            part.beats.append(_to_window_samples(window_beats, start, rec.fs, fs))
    age, sex = header_age_sex(rec.comments)
    dx = cinc2021.dx_codes(rec.comments)
    if dx is not None:
        part.has_dx = True
        part.scp, part.unmapped_dx = cinc2021.map_dx(dx)
    part.meta.update(
        {
            "sex": sex,
            "age": age,
            "record": rid,
            "fs_native": rec.fs,
            "annotator": marks_ext or "",
            "dx": ",".join(dx or []),
        }
    )
    return part


def _bridge_gaps(x: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """Copy of x with invalid samples replaced by straight lines between their valid neighbours."""
    out = x.copy()
    for k in np.flatnonzero(invalid.any(axis=1)):
        good = ~invalid[k]
        t = np.arange(x.shape[-1])
        out[k, ~good] = np.interp(t[~good], t[good], x[k, good]) if good.any() else 0.0
    return out


def _twelve_leads(rec: WFDBRecord, rid: str, fill: bool, part: _RecordPart) -> tuple[np.ndarray, np.ndarray]:
    """float32[12, T] mV in the harness's lead order (NaN where absent) and one ADC step per lead
    in mV (NaN where absent)."""
    used = map_leads(rec.sig_name, rec.units, fill)
    if not used:
        raise DataError(
            f"record {rid}: no channel maps to a standard lead (signal names {list(rec.sig_name)}, units {list(rec.units)})"
        )
    x = np.full((len(LEADS), rec.signals.shape[-1]), np.nan, dtype=np.float32)
    steps = np.full(len(LEADS), np.nan)
    for k, lead in used.items():
        x[LEAD_INDEX[lead]] = rec.signals[k]
        steps[LEAD_INDEX[lead]] = mv_scale(rec.units[k]) / rec.header.adc_gain[k]
    part.meta["leads"] = ";".join(
        f"{lead}={rec.sig_name[k]}"
        for k, lead in sorted(used.items(), key=lambda kv: LEAD_INDEX[kv[1]])
    )
    part.meta["leads_filled"] = any(canonical_lead(rec.sig_name[k]) is None for k in used)
    return x, steps


def _marks(
    path: Path, rid: str, rec: WFDBRecord, annotator: str | None
) -> tuple[pd.DataFrame | None, str | None]:
    """Marked beats (native sample indices, with rr and hr) and the annotator used, or (None, None)."""
    if annotator is None:
        return None, None
    ext = "q1c" if annotator == "auto" else annotator
    file = path.with_name(f"{path.name}.{ext}")
    if not file.is_file():
        if annotator == "auto":
            return None, None
        raise DataError(
            f"record {rid}: annotation file {file} is missing (annotator={annotator!r})"
        )
    ann = _read_annotation(path, rid, ext)
    beats = marked_beats(ann.sample, ann.symbol)
    if beats.empty:
        raise DataError(f"record {rid}: {file.name} marks no QRS complex")
    reference = None
    if (path.with_name(f"{path.name}.{BEAT_ANNOTATOR}")).is_file() and ext != BEAT_ANNOTATOR:
        atr = _read_annotation(path, rid, BEAT_ANNOTATOR)
        reference = np.array(
            [s for s, sym in zip(atr.sample, atr.symbol, strict=True) if sym in BEAT_SYMBOLS]
        )
    peaks = beats["qrs_peak"].fillna(beats["qrs_on"]).to_numpy()
    beats = pd.concat([beats, beat_intervals(beats, rec.fs)], axis=1)
    beats["rr"] = beat_rr(peaks, rec.fs, reference)
    beats["hr"] = 60000.0 / beats["rr"]
    return beats, ext


def _read_annotation(path: Path, rid: str, ext: str) -> wfdb.Annotation:
    try:
        return wfdb.rdann(str(path), ext)
    except Exception as exc:  # wfdb raises bare struct/index errors on damaged files
        raise DataError(
            f"record {rid}: annotation file {path.name}.{ext} cannot be read ({exc})"
        ) from exc


def _beats_in(beats: pd.DataFrame, lo: float, hi: float) -> pd.DataFrame:
    first, last = beat_span(beats)
    return beats[(first >= lo) & (last < hi)]


def _window_intervals(beats: pd.DataFrame) -> dict:
    return {
        name: float(np.nanmedian(beats[name])) if beats[name].notna().any() else np.nan
        for name in INTERVAL_FIELDS
    }


def _to_window_samples(
    beats: pd.DataFrame, start: int, fs_native: float, fs: float
) -> pd.DataFrame:
    out = pd.DataFrame(
        {name: np.round(beats[name].to_numpy() * fs / fs_native - start) for name in FIDUCIALS}
    )
    out["symbol"] = beats["symbol"].to_numpy()
    return out


def _window_samples(window_s: float, fs: float) -> int:
    width = window_s * fs
    if abs(width - round(width)) > 1e-6:
        raise DataError(
            f"window_s={window_s:g} s at {fs:g} Hz is not a whole number of samples ({width:g})"
        )
    return int(round(width))


def _window_id(record: str, start_s: float, whole: bool) -> str:
    """``<record>`` for a whole record, else ``<record>:<start in s>`` (up to ms, no trailing zeros)."""
    return record if whole else f"{record}:{f'{start_s:.3f}'.rstrip('0').rstrip('.')}"


def _assemble(
    root: Path,
    n_source_records: int,
    headers: dict[str, Header],
    parts: list[_RecordPart],
    fs: float,
    config: WFDBDirConfig,
    skipped: list[dict],
) -> ECGDataset:
    ids, meta_rows, label_rows, folds, interval_rows, beat_tables = [], [], [], [], [], []
    any_marks = any(p.has_marks for p in parts)
    any_dx = any(p.has_dx for p in parts)
    unmapped: dict[str, int] = {}
    for part in parts:
        for code in part.unmapped_dx:
            unmapped[code] = unmapped.get(code, 0) + 1
        for w, start in enumerate(part.starts_s):
            row = len(ids)
            ids.append(_window_id(part.record, start, part.whole))
            meta_rows.append({**part.meta, "window_start_s": start})
            label_rows.append(part.scp)
            folds.append(record_fold(part.record))
            if any_marks:
                interval_rows.append(
                    part.intervals[w] if part.has_marks else dict.fromkeys(INTERVAL_FIELDS, np.nan)
                )
                if part.has_marks:
                    beat_tables.append(part.beats[w].assign(record=row))
    labels = np.zeros((len(ids), N_LABELS), dtype=np.uint8)
    for i, codes in enumerate(label_rows):
        labels[i, [SCP_INDEX[c] for c in codes]] = 1
    meta = pd.DataFrame(meta_rows)
    leading = ["sex", "age", "record", "window_start_s"]
    meta = meta[leading + [c for c in meta.columns if c not in leading]]
    beats = None
    if any_marks:
        columns = ["record", *FIDUCIALS, "symbol"]
        beats = (
            pd.concat(beat_tables, ignore_index=True)[columns]
            if beat_tables
            else pd.DataFrame(columns=columns)
        )
    native = pd.Series([float(h.fs) for rid, h in headers.items()]).value_counts().sort_index()
    info = {
        "source": "wfdb-dir",
        "path": str(root),
        "reader_version": READER_VERSION,
        "n_source_records": n_source_records,
        "n_records_used": len(parts),
        "n_windows": len(ids),
        "window_s": config.window_s,
        "native_fs": {f"{rate:g}": int(count) for rate, count in native.items()},
        "resampled": any(float(h.fs) != fs for h in headers.values()),
        "layout": "cinc2021" if any_dx else "wfdb",
        "wave_marks": sorted({p.record for p in parts if p.has_marks}),
        "leads_filled": sorted({p.record for p in parts if p.meta.get("leads_filled")}),
        "unmapped_snomed": dict(sorted(unmapped.items())),
        "flat_leads": [entry for p in parts for entry in p.flat_leads],
        "skipped": skipped,
    }
    return ECGDataset(
        name="wfdb-dir",
        signals=np.stack([s for p in parts for s in p.signals]).astype(np.float32, copy=False),
        fs=float(fs),
        record_ids=np.array(ids, dtype=object),
        labels=labels,
        folds=np.array(folds, dtype=np.int64),
        meta=meta,
        expressed=cinc2021.expressible_scp_codes() if any_dx else (),
        intervals=pd.DataFrame(interval_rows, columns=list(INTERVAL_FIELDS)) if any_marks else None,
        beats=beats,
        info=info,
    )


def _cache_settings(root: Path, config: WFDBDirConfig) -> dict:
    return {
        "reader_version": READER_VERSION,
        "path": str(root),
        **config.model_dump(exclude={"path", "cache"}),
        "snomed_table": digest(cinc2021.snomed_table()),
    }
