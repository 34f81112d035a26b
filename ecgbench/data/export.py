"""Write the phantom cohort as a PTB-XL-shaped WFDB folder (``ecgbench data export phantom``).

So that the real-size path (the ``ptbxl`` reader, its memmap cache, the chunked evaluators) can
be exercised and benchmarked without PTB-XL: ``export_ptbxl_layout(PhantomConfig(n_records=21799,
fs=500), out)`` writes what PTB-XL v1.0.3 ships, for one rate:

- ``records100/`` or ``records500/``: one WFDB record per ECG in folders of 1,000
  (``records500/00000/00001_hr.hea`` / ``.dat``), 12 leads in PTB-XL's order and names, format 16,
  1,000 ADC units per mV (PTB-XL's gain: 1 µV resolution), 10 s;
- ``ptbxl_database.csv``: ``ecg_id`` (1-based record number), ``patient_id`` (one patient per
  record), ``age`` (whole years), ``sex`` (0 male, 1 female), ``report`` (the phantom's free-text
  report, written from its ground truth), ``scp_codes``
  (statement -> likelihood; 100 for diagnostic statements, 0 for form and rhythm statements, as
  PTB-XL writes them), ``strat_fold`` (the phantom's folds), ``filename_lr`` and ``filename_hr``
  (both columns, as in PTB-XL; only the exported rate's files exist), ``device`` = "phantom";
- ``scp_statements.csv``: the 71 statements with PTB-XL's flags and classes;
- ``PROVENANCE.md``: the generator, its version and settings, so nobody mistakes it for PTB-XL.

Records are generated and written a block at a time (:func:`ecgbench.data.phantom.generator.blocks`),
so memory stays at one block whatever the size. The folder is written under a temporary name
beside ``out`` and renamed into place when complete; an existing ``out`` is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecgbench.data.labels import SCP_CODES, statement
from ecgbench.data.leads import LEADS
from ecgbench.data.phantom.config import PHANTOM_VERSION, PhantomConfig
from ecgbench.data.phantom.generator import BLOCK, blocks, cohort_folds
from ecgbench.data.phantom.reports import phantom_reports
from ecgbench.data.ptbxl import DATABASE, RECORD_SECONDS, STATEMENTS
from ecgbench.errors import ConfigError, DataError

#: ADC units per mV (PTB-XL's gain) and the range of a format-16 sample; -32768 marks invalid.
ADC_GAIN = 1000.0
_ADC_LIMIT = 32767
#: PTB-XL's lead names in its headers (the harness order, upper-case augmented leads).
PTBXL_LEAD_NAMES = tuple(name.upper() if name.startswith("aV") else name for name in LEADS)
RATES = {100: ("records100", "lr"), 500: ("records500", "hr")}
_RECORDS_PER_FOLDER = 1000

Progress = Callable[[Iterable, str, int], Iterator]


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    n_records: int
    fs: int
    bytes_written: int


def record_path(ecg_id: int, fs: int) -> str:
    """``records500/00000/00001_hr``: PTB-XL's relative path of a record (without extension)."""
    folder, suffix = RATES[fs]
    return f"{folder}/{ecg_id // _RECORDS_PER_FOLDER * _RECORDS_PER_FOLDER:05d}/{ecg_id:05d}_{suffix}"


def to_adc(x: np.ndarray, record: str) -> np.ndarray:
    """float32[12, T] mV -> int16[12, T] ADC units (1 µV each, rounded); a sample beyond the
    format's range (±32.767 mV) or not finite is a DataError naming the record."""
    if not np.isfinite(x).all():
        raise DataError(f"record {record}: non-finite samples cannot be written as WFDB format 16")
    adc = np.rint(x.astype(np.float64) * ADC_GAIN)
    if np.abs(adc).max(initial=0) > _ADC_LIMIT:
        raise DataError(f"record {record}: a sample of {np.abs(x).max():.3f} mV is beyond format 16's ±32.767 mV")
    return adc.astype(np.int16)


def write_wfdb(base: Path, adc: np.ndarray, fs: int) -> int:
    """``<base>.hea`` and ``<base>.dat`` (format 16, interleaved frames) of int16[12, T] samples;
    returns the bytes written."""
    name = base.name
    frames = np.ascontiguousarray(adc.T).astype("<i2")
    base.with_suffix(".dat").write_bytes(frames.tobytes())
    checksums = adc.astype(np.int64).sum(axis=1) % 65536
    lines = [f"{name} {adc.shape[0]} {fs} {adc.shape[1]}"]
    for k, lead in enumerate(PTBXL_LEAD_NAMES):
        lines.append(f"{name}.dat 16 {ADC_GAIN:.1f}(0)/mV 16 0 {int(adc[k, 0])} {int(checksums[k])} 0 {lead}")
    header = "\n".join(lines) + "\n"
    base.with_suffix(".hea").write_text(header)
    return frames.nbytes + len(header)


def _likelihoods(codes: list[str]) -> str:
    """PTB-XL's ``scp_codes`` text: diagnostic statements at 100, form and rhythm ones at 0."""
    return repr({code: 100.0 if statement(code)["diagnostic"] else 0.0 for code in codes})


def statements_table() -> pd.DataFrame:
    """``scp_statements.csv`` as PTB-XL lays it out (1.0 or empty for the flags)."""
    rows = []
    for code in SCP_CODES:
        s = statement(code)
        rows.append({
            "": code,
            "description": s["description"],
            "diagnostic": 1.0 if s["diagnostic"] else None,
            "form": 1.0 if s["form"] else None,
            "rhythm": 1.0 if s["rhythm"] else None,
            "diagnostic_class": s["diagnostic_class"],
            "diagnostic_subclass": s["diagnostic_subclass"],
        })
    return pd.DataFrame(rows)


def _provenance(config: PhantomConfig) -> str:
    settings = json.dumps(config.model_dump(exclude={"cache"}), sort_keys=True)
    return (
        "# A phantom cohort in the PTB-XL layout\n\n"
        "Not PTB-XL: simulated 12-lead ECGs from ecgbench's phantom generator "
        f"(version {PHANTOM_VERSION}), written by `ecgbench data export phantom --layout ptbxl`.\n\n"
        f"Settings: `{settings}`\n\n"
        "Labels, folds, age and sex are the phantom's own (docs/phantom.md); `scp_codes` carries "
        "likelihood 100 for diagnostic statements and 0 for form and rhythm statements; every "
        "record is its own patient.\n"
    )


def export_ptbxl_layout(config: PhantomConfig, out: Path, progress: Progress | None = None) -> ExportSummary:
    """Write the phantom cohort of ``config`` (rate 100 or 500 Hz, 10 s) as a PTB-XL folder at ``out``."""
    if config.fs not in RATES:
        raise ConfigError(f"--fs {config.fs}: PTB-XL ships 100 and 500 Hz records; export one of them")
    if config.duration_s != RECORD_SECONDS:
        raise ConfigError(f"PTB-XL records are {RECORD_SECONDS} s long; the phantom is set to {config.duration_s} s")
    out = Path(out)
    if out.exists():
        raise ConfigError(f"--out {out} exists; an export writes a new folder and never replaces one")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        written, rows, labels, metas, intervals = 0, [], [], [], []
        n_blocks = -(-config.n_records // BLOCK)
        steps = blocks(config)
        if progress is not None:
            steps = progress(steps, f"writing {config.n_records} phantom records at {config.fs} Hz", n_blocks)
        for first, signals, part in steps:
            meta = part["meta"]
            for k in range(len(signals)):
                ecg_id = first + k + 1
                rel = record_path(ecg_id, config.fs)
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                written += write_wfdb(tmp / rel, to_adc(signals[k], rel), config.fs)
                codes = [SCP_CODES[j] for j in np.flatnonzero(part["labels"][k])]
                rows.append({
                    "ecg_id": ecg_id,
                    "patient_id": float(ecg_id),
                    "age": float(np.round(meta["age"].iloc[k])),
                    "sex": 0 if meta["sex"].iloc[k] == "M" else 1,
                    "device": "phantom",
                    "scp_codes": _likelihoods(codes),
                    "filename_lr": record_path(ecg_id, 100),
                    "filename_hr": record_path(ecg_id, 500),
                })
            labels.append(part["labels"])
            metas.append(meta)
            intervals.append(part["intervals"])
        table = pd.DataFrame(rows)
        y = np.concatenate(labels)
        reports = phantom_reports(y, pd.concat(metas, ignore_index=True), pd.concat(intervals, ignore_index=True),
                                  config.seed)
        table.insert(table.columns.get_loc("scp_codes"), "report", reports)
        table.insert(table.columns.get_loc("filename_lr"), "strat_fold", cohort_folds(y, config))
        table.to_csv(tmp / DATABASE, index=False)
        statements_table().to_csv(tmp / STATEMENTS, index=False)
        (tmp / "PROVENANCE.md").write_text(_provenance(config))
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportSummary(path=out, n_records=config.n_records, fs=config.fs, bytes_written=written)
