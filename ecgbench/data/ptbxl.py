"""PTB-XL from a local copy (v1.0.3 layout): signals, the 71 SCP statements, folds and metadata.

The copy may be partial: rows of ``ptbxl_database.csv`` whose header and signal file are both
absent are counted as missing (``info['n_missing']``) and left out. Anything else that is wrong
with a record (one of its two files missing, a truncated signal file, a header that disagrees with
the metadata or with PTB-XL's 12 leads, 10 s and the requested rate, invalid samples, a metadata
row whose ``scp_codes`` or ``strat_fold`` cannot be read) raises a DataError naming the record
and the problem, or, with ``skip_bad``, is listed in ``info['skipped']``. A metadata table with
an ``ecg_id`` that is not a whole number or appears twice stops the load whatever ``skip_bad``
says: which row is meant cannot be told. A flat lead (:mod:`ecgbench.data.flat_leads`) becomes a
missing lead (all-NaN) listed in ``info['flat_leads']``, or with ``skip_bad`` makes its record
skipped; a record whose every lead is flat is a bad record.

Facts used (Wagner et al. 2020, Sci Data 7:154, Table 2, and the v1.0.3 files): ``sex`` is coded
0 = male, 1 = female; ``scp_codes`` maps statement -> likelihood (0-100; form and rhythm
statements carry 0, which does not mean absent, so every key counts as a label, as in the PTB-XL
benchmark's 'all' task);
``strat_fold`` 1-10 with 9 and 10 the recommended validation and test folds.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ecgbench.data.cache import (
    DatasetCache,
    MemoryStore,
    PendingEntry,
    digest,
    files_state,
    sha256_file,
    start_entry,
)
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.flat_leads import FLAT_ADC_STEPS, flat_leads
from ecgbench.data.labels import SCP_CODES, SCP_INDEX, multi_hot
from ecgbench.data.leads import LEADS, canonical_lead
from ecgbench.data.resample import resample
from ecgbench.data.streaming import release, rows_per_chunk
from ecgbench.data.wfdb_record import mv_scale, read_header, read_record
from ecgbench.errors import DataError
from ecgbench.progress import Progress

#: Bumped whenever a change would change what the loader returns (part of the cache key).
READER_VERSION = 2
RECORD_SECONDS = 10
DATABASE = "ptbxl_database.csv"
STATEMENTS = "scp_statements.csv"
CHECKSUMS = "SHA256SUMS.txt"
_REQUIRED_COLUMNS = (
    "patient_id",
    "age",
    "sex",
    "report",
    "scp_codes",
    "strat_fold",
    "filename_lr",
    "filename_hr",
)
#: sha256 of the complete v1.0.3 ptbxl_database.csv, from the official SHA256SUMS.txt.
_OFFICIAL_DATABASE_SHA256 = {
    "cd9bf4e6445c5e022605857c4d6f90c90ff0e62df847da52efaebe94de786156": "1.0.3"
}
#: Row counts of the complete metadata table by release (v1.0.3 dropped 38 duplicates of v1.0.1).
_ROWS_BY_VERSION = {21799: "1.0.3", 21801: "1.0.2", 21837: "1.0.0 or 1.0.1"}
_PLAUSIBLE_AGE = (0.0, 120.0)


class PTBXLConfig(BaseModel):
    """How to read a local PTB-XL copy."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(
        description="the PTB-XL root: the folder holding ptbxl_database.csv and records100/ or records500/"
    )
    fs: Literal[100, 500] = Field(
        default=100, description="sampling rate in Hz: 100 reads filename_lr, 500 reads filename_hr"
    )
    skip_bad: bool = Field(
        default=False,
        description="leave out bad records and list them in info['skipped'] instead of raising",
    )
    verify_checksums: bool = Field(
        default=False,
        description="check the sha256 of every file read against SHA256SUMS.txt in the root, when that file exists",
    )
    cache: bool = Field(
        default=True,
        description="read from / write to the memmap cache under the ecgbench cache dir",
    )
    resample_from_500: bool = Field(
        default=False,
        description=(
            "SSSD-ECG's protocol: obtain 100 Hz by resampling the 500 Hz records (filename_hr) instead of "
            "reading filename_lr; ecgbench uses scipy.signal.resample_poly(up=1, down=5)"
        ),
    )

    @field_validator("fs", mode="before")
    @classmethod
    def _rate_from_text(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @model_validator(mode="after")
    def _resampling_needs_100(self) -> PTBXLConfig:
        if self.resample_from_500 and self.fs != 100:
            raise ValueError(
                "resample_from_500 only applies to fs=100 (the 500 Hz records are read as they are)"
            )
        return self


def load_ptbxl(config: PTBXLConfig) -> ECGDataset:
    """PTB-XL as an ECGDataset named "ptbxl".

    signals     float32[n, 12, 10·fs] in mV, leads in the harness order (PTB-XL's own order).
    record_ids  str(ecg_id).
    labels      uint8[n, 71]: every key of ``scp_codes`` whatever its likelihood.
    folds       ``strat_fold``.
    meta        sex ('M'/'F'), age (NaN when unknown or outside 0-120), patient_id, report, scp_codes
                (JSON with likelihoods) and the other metadata columns.
    info        path, version, n_rows, n_missing, skipped, checksums, cache.

    A cache hit costs reading the metadata table, hashing the two csv files and one ``stat`` per
    record file; the statements are parsed and the records read only when the cache misses.
    """
    root = _root(config.path)
    table = read_database(root)
    column = "filename_hr" if config.fs == 500 or config.resample_from_500 else "filename_lr"
    present, missing, broken, file_states = locate_records(root, table, column)
    if not present and not broken:
        raise DataError(
            f"PTB-XL at {root}: none of the {len(table)} records listed in {DATABASE} has its {column} "
            f"files under {root} (expected e.g. {root / str(table[column].iloc[0])}.hea)"
        )
    checksums = (
        verify_checksums(root, [rel for _, rel in present])
        if config.verify_checksums
        else {"status": "off"}
    )
    database_sha = sha256_file(root / DATABASE)
    info = {
        "source": "ptbxl",
        "path": str(root),
        **_version(root, len(table), database_sha),
        "n_rows": len(table),
        "n_missing": len(missing),
        "missing_examples": [str(i) for i in missing[:10]],
        "file_column": column,
        "resampled_from_500": config.resample_from_500,
        "reader_version": READER_VERSION,
        "checksums": checksums,
    }
    bad_files = set(checksums.get("mismatched_records", []))
    state = digest(
        {
            "database": database_sha,
            "statements": sha256_file(root / STATEMENTS) if (root / STATEMENTS).is_file() else None,
            "files": file_states,
            "checksum_mismatches": sorted(bad_files),
        }
    )
    cache = DatasetCache("ptbxl", _cache_settings(root, config)) if config.cache else None
    cached = cache.load(state) if cache is not None else None
    if cached is not None:
        cached.info["checksums"] = checksums
        return cached
    check_statements(root)
    table, bad_rows = check_rows(table, root / DATABASE, config.skip_bad)
    unreadable = {int(row["record"]) for row in bad_rows}
    present = [(i, rel) for i, rel in present if i not in unreadable]
    broken = [(i, rel) for i, rel in broken if i not in unreadable]
    store = start_entry(cache, state)
    try:
        dataset = _build(root, table, present, broken, bad_files, config, store, {**info, "skipped": bad_rows})
        if isinstance(store, MemoryStore):
            dataset.info["cache"] = store.status
            return dataset
        return store.commit(dataset)
    finally:
        if isinstance(store, PendingEntry):
            store.discard()


def read_database(root: Path) -> pd.DataFrame:
    """``ptbxl_database.csv`` indexed by ecg_id, with its required columns checked and every
    ecg_id a whole number that appears once (DataError naming the rows otherwise)."""
    path = root / DATABASE
    try:
        table = pd.read_csv(path, dtype={"ecg_id": str})
    except ValueError as exc:
        raise DataError(f"{path}: not a PTB-XL metadata table ({exc})") from exc
    absent = [c for c in ("ecg_id", *_REQUIRED_COLUMNS) if c not in table.columns]
    if absent:
        raise DataError(f"{path}: missing column(s) {absent}")
    ids = table["ecg_id"].fillna("").str.strip()
    bad = [i for i, text in enumerate(ids) if not text.isdigit()]
    if bad:
        raise DataError(
            f"{path}: row {bad[0] + 1}: ecg_id {table['ecg_id'].iloc[bad[0]]!r} is not a whole number"
            + (f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else "")
        )
    ids = ids.astype(np.int64)
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        first = int(repeated.iloc[0])
        rows = [i + 1 for i in np.flatnonzero(ids.to_numpy() == first)]
        more = repeated.nunique() - 1
        raise DataError(
            f"{path}: ecg_id {first} appears in rows {', '.join(map(str, rows))}"
            + (f" (and {more} more ecg_ids appear twice)" if more else "")
            + "; each record must have one row"
        )
    return table.drop(columns="ecg_id").set_index(pd.Index(ids, name="ecg_id"))


def check_rows(table: pd.DataFrame, source: Path, skip_bad: bool) -> tuple[pd.DataFrame, list[dict]]:
    """The table with ``scp_codes`` parsed (statement -> likelihood) and ``strat_fold`` as int,
    and the rows that cannot be read ({record, reason}: skipped with ``skip_bad``, else a
    DataError naming the first)."""
    codes: dict[int, dict[str, float]] = {}
    folds: dict[int, int] = {}
    skipped = []
    for row, (ecg_id, text, fold) in enumerate(zip(table.index, table["scp_codes"], table["strat_fold"], strict=True)):
        reason = _row_problem(text, fold)
        if reason:
            reason = f"{source}: ecg_id {ecg_id} (row {row + 1}): {reason}"
            if not skip_bad:
                raise DataError(reason)
            skipped.append({"record": str(ecg_id), "reason": reason})
            continue
        codes[ecg_id] = ast.literal_eval(text)
        folds[ecg_id] = int(float(fold))
    kept = table.loc[list(codes)].copy()
    kept["scp_codes"] = list(codes.values())
    kept["strat_fold"] = np.array(list(folds.values()), dtype=np.int64)
    return kept, skipped


def _row_problem(text: object, fold: object) -> str:
    """What is wrong with a row's scp_codes and strat_fold ('' when nothing)."""
    try:
        parsed = ast.literal_eval(text) if isinstance(text, str) else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        return f"scp_codes {text!r} is not a dictionary"
    unknown = [c for c in parsed if c not in SCP_INDEX]
    if unknown:
        return f"scp_codes {unknown} are not among the 71 SCP statements"
    try:
        number = float(fold)
    except (TypeError, ValueError):
        number = np.nan
    if not (number.is_integer() and 1 <= number <= 10):
        return f"strat_fold {fold!r} is not a fold number from 1 to 10"
    return ""


def check_statements(root: Path) -> None:
    """``scp_statements.csv`` must list exactly the 71 statements the harness knows."""
    path = root / STATEMENTS
    if not path.is_file():
        raise DataError(f"PTB-XL at {root}: {STATEMENTS} is missing")
    listed = set(pd.read_csv(path, index_col=0).index.astype(str))
    if listed != set(SCP_CODES):
        raise DataError(
            f"{path}: lists {len(listed)} statements; differs from the 71 of PTB-XL v1.0.3 "
            f"(extra {sorted(listed - set(SCP_CODES))}, absent {sorted(set(SCP_CODES) - listed)})"
        )


def locate_records(
    root: Path, table: pd.DataFrame, column: str
) -> tuple[list[tuple[int, str]], list[int], list[tuple[int, str]], list]:
    """Rows split into present (both files), missing (neither) and broken (one file, or no path),
    plus the (path, size, mtime_ns) of every file looked for (one ``stat`` each, for the cache key)."""
    present, missing, broken, states = [], [], [], []
    base = f"{root}{os.sep}"  # plain strings: pathlib costs more than the stat itself here
    for ecg_id, rel in table[column].items():
        if not isinstance(rel, str) or not rel.strip():
            broken.append((int(ecg_id), ""))
            continue
        pair = files_state([f"{base}{rel}.hea", f"{base}{rel}.dat"])
        states.extend(pair)
        found = [size is not None for _, size, _ in pair]
        if all(found):
            present.append((int(ecg_id), rel))
        elif any(found):
            broken.append((int(ecg_id), rel))
        else:
            missing.append(int(ecg_id))
    return present, missing, broken, states


def verify_checksums(root: Path, record_paths: list[str]) -> dict:
    """Compare the sha256 of the tables and of every record file read with ``SHA256SUMS.txt``.

    Returns {status: 'ok' | 'mismatch' | 'absent', n_checked, n_unlisted, mismatched (files),
    mismatched_records (record paths)}. A mismatch of a metadata table raises at once.
    """
    sums_file = root / CHECKSUMS
    if not sums_file.is_file():
        return {"status": "absent", "file": str(sums_file)}
    listed = {}
    for line in sums_file.read_text().splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2:
            listed[parts[1].lstrip("*").strip()] = parts[0].lower()
    n_checked = n_unlisted = 0
    mismatched: list[str] = []
    mismatched_records: set[str] = set()
    for rel in [DATABASE, STATEMENTS]:
        if rel in listed:
            n_checked += 1
            if sha256_file(root / rel) != listed[rel]:
                raise DataError(
                    f"{root / rel}: sha256 differs from {sums_file} (altered or a different release)"
                )
        else:
            n_unlisted += 1
    for rel in record_paths:
        for ext in (".hea", ".dat"):
            name = f"{rel}{ext}"
            if name not in listed:
                n_unlisted += 1
                continue
            n_checked += 1
            if sha256_file(root / name) != listed[name]:
                mismatched.append(name)
                mismatched_records.add(rel)
    return {
        "status": "mismatch" if mismatched else "ok",
        "file": str(sums_file),
        "n_checked": n_checked,
        "n_unlisted": n_unlisted,
        "mismatched": mismatched,
        "mismatched_records": sorted(mismatched_records),
    }


def read_ptbxl_record(root: Path, ecg_id: int, rel: str, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """float32[12, 10·fs] mV of one record, after checking its header against PTB-XL's layout,
    and one ADC step per lead in mV (1/gain: what :func:`flat_leads` measures spans in)."""
    rid = f"ecg_id {ecg_id} ({rel})"
    path = root / rel
    header = read_header(path, rid)
    if header.record_name != path.name:
        raise DataError(
            f"record {rid}: its header names record {header.record_name!r}, the metadata {path.name!r}"
        )
    leads = [canonical_lead(name) for name in header.sig_name]
    if header.n_sig != len(LEADS) or leads != list(LEADS):
        raise DataError(
            f"record {rid}: header leads {list(header.sig_name)} are not the 12 standard leads in the order "
            f"{list(LEADS)}"
        )
    if float(header.fs) != float(fs):
        raise DataError(f"record {rid}: header sampling rate {header.fs:g} Hz, expected {fs} Hz")
    if header.sig_len != RECORD_SECONDS * fs:
        raise DataError(
            f"record {rid}: header length {header.sig_len} samples, expected {RECORD_SECONDS * fs} "
            f"({RECORD_SECONDS} s at {fs} Hz)"
        )
    units = {str(u).lower() for u in header.units or ["mV"]}
    if units != {"mv"}:
        raise DataError(f"record {rid}: header units {sorted(units)}, expected mV")
    signals = read_record(path, rid, header).signals
    bad = np.isnan(signals)
    if bad.any():
        lead = LEADS[int(np.argmax(bad.any(axis=1)))]
        raise DataError(
            f"record {rid}: {int(bad.sum())} invalid (NaN) samples, first in lead {lead}"
        )
    steps = np.array([mv_scale(u) / g for u, g in zip(header.units, header.adc_gain, strict=True)])
    return signals, steps


def _flat_leads(x: np.ndarray, steps: np.ndarray, rid: str, skip_bad: bool) -> list[str]:
    """Names of the flat leads of a record, set to NaN in ``x``; DataError when every lead is flat,
    or when any is and ``skip_bad`` asks for such records to be left out."""
    flat = flat_leads(x, steps)
    if not flat.any():
        return []
    names = [LEADS[i] for i in np.flatnonzero(flat)]
    what = f"peak-to-peak at most {FLAT_ADC_STEPS} ADC steps"
    if flat.all():
        raise DataError(f"record {rid}: every lead is flat ({what}): nothing was recorded")
    if skip_bad:
        raise DataError(f"record {rid}: flat lead(s) {', '.join(names)} ({what})")
    x[flat] = np.nan
    return names


def _build(
    root: Path,
    table: pd.DataFrame,
    present: list[tuple[int, str]],
    broken: list[tuple[int, str]],
    bad_files: set[str],
    config: PTBXLConfig,
    store: PendingEntry | MemoryStore,
    info: dict,
) -> ECGDataset:
    file_fs = 500 if info["file_column"] == "filename_hr" else 100
    skipped = list(info.get("skipped", []))
    flat_records = []
    for ecg_id, rel in broken:
        if not rel:
            reason = f"record ecg_id {ecg_id}: {DATABASE} gives no file name"
        else:
            absent = ".dat" if (root / f"{rel}.hea").is_file() else ".hea"
            reason = f"record ecg_id {ecg_id} ({rel}): {absent} file is missing ({root / (rel + absent)})"
        if not config.skip_bad:
            raise DataError(reason)
        skipped.append({"record": str(ecg_id), "reason": reason})
    signals = store.allocate((len(present), len(LEADS), RECORD_SECONDS * config.fs))
    written_per_release = rows_per_chunk(signals)  # a memmap being filled keeps one chunk resident
    keep: list[int] = []
    rows = Progress(present, desc=f"reading PTB-XL {file_fs} Hz")
    for i, (ecg_id, rel) in enumerate(rows):
        try:
            if rel in bad_files:
                raise DataError(f"record ecg_id {ecg_id} ({rel}): sha256 differs from {CHECKSUMS}")
            x, steps = read_ptbxl_record(root, ecg_id, rel, file_fs)
            flat = _flat_leads(x, steps, f"ecg_id {ecg_id} ({rel})", config.skip_bad)
            signals[i] = resample(x, file_fs, config.fs) if file_fs != config.fs else x
            keep.append(i)
            if flat:
                flat_records.append({"record": str(ecg_id), "leads": flat})
        except DataError as exc:
            if not config.skip_bad:
                raise
            skipped.append({"record": str(ecg_id), "reason": str(exc)})
        if (i + 1) % written_per_release == 0:
            release(signals, slice(i + 1 - written_per_release, i + 1))
    if not keep:
        raise DataError(
            f"PTB-XL at {root}: every record present is bad; first: {skipped[0]['reason']}"
        )
    if len(keep) < len(present):
        signals = store.compact(signals, np.asarray(keep))
    rows_kept = table.loc[[present[i][0] for i in keep]]
    return ECGDataset(
        name="ptbxl",
        signals=signals,
        fs=float(config.fs),
        record_ids=np.array([str(i) for i in rows_kept.index], dtype=object),
        labels=multi_hot([list(codes) for codes in rows_kept["scp_codes"]]),
        folds=rows_kept["strat_fold"].to_numpy(dtype=np.int64),
        meta=_meta(rows_kept, [present[i][1] for i in keep]),
        info={**info, "skipped": skipped, "flat_leads": flat_records, "n_records": len(keep)},
    )


def _meta(rows: pd.DataFrame, files: list[str]) -> pd.DataFrame:
    """One row per record: sex 'M'/'F'/'' (PTB-XL: 0 = male, 1 = female), age, and the other columns."""
    meta = rows.drop(columns=["filename_lr", "filename_hr"]).reset_index()
    meta["sex"] = (
        pd.to_numeric(rows["sex"], errors="coerce").map({0: "M", 1: "F"}).fillna("").to_numpy()
    )
    age = pd.to_numeric(rows["age"], errors="coerce").to_numpy(dtype=float)
    age[(age < _PLAUSIBLE_AGE[0]) | (age > _PLAUSIBLE_AGE[1])] = np.nan
    meta["age"] = age
    meta["patient_id"] = pd.array(
        pd.to_numeric(rows["patient_id"], errors="coerce").round(), dtype="Int64"
    )
    meta["scp_codes"] = [json.dumps(codes) for codes in rows["scp_codes"]]
    meta["report"] = rows["report"].fillna("").astype(str).to_numpy()
    meta["filename"] = files
    leading = [
        "ecg_id",
        "patient_id",
        "sex",
        "age",
        "report",
        "scp_codes",
        "strat_fold",
        "filename",
    ]
    return meta[leading + [c for c in meta.columns if c not in leading]]


def _root(path: Path) -> Path:
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"PTB-XL path {root} is not a folder")
    if not (root / DATABASE).is_file():
        raise DataError(f"PTB-XL path {root} holds no {DATABASE}; pass the folder that contains it")
    return root


def _version(root: Path, n_rows: int, database_sha: str) -> dict:
    if database_sha in _OFFICIAL_DATABASE_SHA256:
        return {
            "version": _OFFICIAL_DATABASE_SHA256[database_sha],
            "version_evidence": f"sha256 of {DATABASE}",
        }
    named = re.search(r"(\d+\.\d+\.\d+)$", root.name)
    if named:
        return {"version": named.group(1), "version_evidence": "folder name"}
    if n_rows in _ROWS_BY_VERSION:
        return {
            "version": _ROWS_BY_VERSION[n_rows],
            "version_evidence": f"{n_rows} rows in {DATABASE}",
        }
    return {"version": "unknown", "version_evidence": f"partial copy: {n_rows} rows in {DATABASE}"}


def _cache_settings(root: Path, config: PTBXLConfig) -> dict:
    return {
        "reader_version": READER_VERSION,
        "path": str(root),
        "fs": config.fs,
        "resample_from_500": config.resample_from_500,
        "skip_bad": config.skip_bad,
    }
