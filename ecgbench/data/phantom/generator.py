"""Generate a phantom cohort: parameters -> beats -> heart vector -> 12 leads + ground truth.

Records are made in blocks of :data:`BLOCK` with their own random streams (seed, block), and
each record's noise has its own stream (seed, record), so the first k records of a cohort do
not depend on how many records were asked for, and the sampling rate changes only the
sampling, never the patient: the same seed gives the same parameters, labels and intervals at
100 and at 500 Hz.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import SCP_CODES
from ecgbench.data.phantom.assemble import beat_bumps, beat_fiducials, draw_f_waves, f_waves
from ecgbench.data.phantom.cohort import CONDUCTION, MI_SITES, ST_KINDS, Cohort, sample_cohort
from ecgbench.data.phantom.config import PHANTOM_VERSION, PhantomConfig
from ecgbench.data.phantom.folds import stratified_folds
from ecgbench.data.phantom.lead_field import leads_from_vcg
from ecgbench.data.phantom.measure import QRSMeasures, qrs_measures, resting_qrs, st_deviation
from ecgbench.data.phantom.morphology import build_templates
from ecgbench.data.phantom.noise import electrode_noise
from ecgbench.data.phantom.reports import REPORT_VERSION, phantom_reports
from ecgbench.data.phantom.rhythm import PVC, beat_train
from ecgbench.data.phantom.statements import EXPRESSED_CODES, derive_statements, label_matrix
from ecgbench.data.phantom.streams import Domain, stream
from ecgbench.data.phantom.truth import beat_table, record_intervals, windowed_fiducials
from ecgbench.data.phantom.waves import render

BLOCK = 256
#: Records x samples drawn at once; small enough for the temporaries to stay in cache-friendly,
#: reused memory (at 500 Hz: 24 records per chunk).
CHUNK_SAMPLES = 120_000
_PARAMS, _RHYTHM, _ATRIAL = 0, 1, 2
INTERVAL_COLUMNS = ("pr", "qrs", "qt", "rr", "hr", "qtc_bazett", "qtc_fridericia")


def generate(config: PhantomConfig) -> ECGDataset:
    """The cohort described by ``config`` (no caching here; see :func:`load_phantom`)."""
    n = config.n_records
    signals = np.empty((n, 12, config.n_samples), dtype=np.float32)
    parts = []
    for first, block, part in blocks(config):
        signals[first : first + len(block)] = block
        parts.append(part)
    labels = np.concatenate([p["labels"] for p in parts])
    meta = pd.concat([p["meta"] for p in parts], ignore_index=True)
    intervals = pd.concat([p["intervals"] for p in parts], ignore_index=True)
    meta["report"] = phantom_reports(labels, meta, intervals, config.seed)
    return ECGDataset(
        name="phantom",
        signals=signals,
        fs=float(config.fs),
        record_ids=record_ids(n),
        labels=labels,
        folds=cohort_folds(labels, config),
        meta=meta,
        expressed=EXPRESSED_CODES,
        intervals=intervals,
        beats=pd.concat([p["beats"] for p in parts], ignore_index=True),
        info={
            "generator": "phantom",
            "version": PHANTOM_VERSION,
            "report_version": REPORT_VERSION,
            "seed": config.seed,
            "config": config.model_dump(),
            "expressed": list(EXPRESSED_CODES),
            "absent": [code for code in SCP_CODES if code not in EXPRESSED_CODES],
        },
        generated_by=generated_by(config),
    )


def blocks(config: PhantomConfig) -> Iterator[tuple[int, np.ndarray, dict]]:
    """The cohort :data:`BLOCK` records at a time: (first record, float32[size, 12, T] signals
    in mV, the block's labels, meta, intervals and beats). What :func:`generate` assembles, for
    callers that write records out without holding the cohort in memory (``data export``); the
    free-text reports need the whole cohort (:func:`ecgbench.data.phantom.reports.phantom_reports`)."""
    n = config.n_records
    for b in range(-(-n // BLOCK)):
        first = b * BLOCK
        size = min(BLOCK, n - first)
        signals = np.empty((size, 12, config.n_samples), dtype=np.float32)
        part = _block(config, b, size, signals)
        yield first, signals, part


def record_ids(n: int) -> np.ndarray:
    """The phantom's record ids: ``phantom-000000`` ...."""
    return np.array([f"phantom-{i:06d}" for i in range(n)])


def cohort_folds(labels: np.ndarray, config: PhantomConfig) -> np.ndarray:
    """int[n] ``strat_fold`` 1-10 of the whole cohort, stratified on the expressed statements."""
    expressed = [SCP_CODES.index(code) for code in EXPRESSED_CODES]
    return stratified_folds(labels[:, expressed], 10, stream(config.seed, Domain.FOLDS))


def generated_by(config: PhantomConfig) -> dict:
    """What defines a phantom cohort: the generator, its version and every setting that shapes it."""
    return {"generator": "phantom", "version": PHANTOM_VERSION, "settings": config.model_dump(exclude={"cache"})}


def _block(config: PhantomConfig, block: int, size: int, out: np.ndarray) -> dict:
    """Records block*BLOCK .. block*BLOCK + size − 1: signals into ``out``, the rest returned."""
    def block_stream(kind: int) -> np.random.Generator:
        return stream(config.seed, Domain.BLOCK, block, kind)

    params = block_stream(_PARAMS)
    cohort = sample_cohort(params, BLOCK)
    templates = build_templates(cohort, params)
    train = beat_train(cohort, templates.pvc_qrs, templates.pvc_jt, block_stream(_RHYTHM), config.duration_s)
    atrial = draw_f_waves(block_stream(_ATRIAL), BLOCK)
    keep = slice(0, size)
    atrial = {k: v[keep] for k, v in atrial.items()}
    cohort, templates = cohort.take(keep), templates.take(keep)
    train = train.take(keep)
    first = block * BLOCK
    fs, duration = float(config.fs), config.duration_s
    _draw(config, cohort, templates, train, atrial, first, out)

    seen = windowed_fiducials(beat_fiducials(templates, train), train.kind, duration)
    intervals = record_intervals(seen, train.kind)
    rr_range = intervals.pop("rr_range").to_numpy()
    resting_jt = cohort.qtc * np.sqrt(60.0 / cohort.hr) - cohort.qrs
    leads, valid = resting_qrs(templates, cohort.qrs, resting_jt)
    measures = qrs_measures(leads, valid, 1000.0)
    pvcs = (np.isfinite(seen["qrs_on"]) & (train.kind == PVC)).sum(axis=1)
    statements = derive_statements(cohort, intervals, rr_range, measures, pvcs > 0)
    return {
        "labels": label_matrix(statements),
        "intervals": intervals.loc[:, list(INTERVAL_COLUMNS)],
        "beats": beat_table(seen, train.kind, fs, first),
        "meta": _meta(cohort, measures, st_deviation(templates), rr_range, pvcs),
    }


def _draw(config: PhantomConfig, cohort: Cohort, templates, train, atrial: dict, first: int,
          out: np.ndarray) -> None:
    """Signals float32[n, 12, T] of the given records into ``out``, a chunk at a time."""
    fs, n_samples, duration = float(config.fs), config.n_samples, config.duration_s
    step = max(1, CHUNK_SAMPLES // n_samples)
    for lo in range(0, len(cohort), step):
        rows = slice(lo, min(len(cohort), lo + step))
        c, t = cohort.take(rows), templates.take(rows)
        vcg = render(beat_bumps(t, train.take(rows), duration), len(c), fs, n_samples)
        vcg += f_waves({k: v[rows] for k, v in atrial.items()}, c.af, fs, n_samples)
        index = np.arange(first + rows.start, first + rows.stop)
        noise = electrode_noise(c, index, config.seed, fs, n_samples, config.noise)
        out[rows] = leads_from_vcg(vcg, noise)


def _meta(c: Cohort, m: QRSMeasures, st: np.ndarray, rr_range: np.ndarray, n_pvc: np.ndarray) -> pd.DataFrame:
    """sex, age and the hidden generator parameters (times in ms, voltages in mV)."""
    from ecgbench.data.leads import LEAD_INDEX

    not_avr = [i for name, i in LEAD_INDEX.items() if name != "aVR"]
    st_other = st[:, not_avr]
    extreme = st_other[np.arange(len(st_other)), np.abs(st_other).argmax(axis=1)]
    return pd.DataFrame(
        {
            "sex": c.sex.astype(object),
            "age": c.age.astype(np.float64),
            "rhythm": np.where(c.af, "AF", "sinus").astype(object),
            "conduction": np.array(CONDUCTION)[c.conduction].astype(object),
            "mi_site": np.array(MI_SITES)[c.mi].astype(object),
            "st_kind": np.array(ST_KINDS)[c.st].astype(object),
            "hr_target": c.hr,
            "pr_ms": c.pr * 1000.0,
            "p_ms": c.p_dur * 1000.0,
            "qrs_ms": c.qrs * 1000.0,
            "qtc_target_ms": c.qtc * 1000.0,
            "axis_deg": m.axis,
            "axis_param_deg": c.axis,
            "lvh_voltage": m.sokolow,
            "cornell_mv": m.cornell,
            "qrs_gain": c.qrs_gain,
            "lvh_gain": c.lvh_gain,
            "st_shift_mv": extreme,
            "n_pvc": n_pvc.astype(np.int64),
            "rr_range_ms": rr_range,
            "rsa": c.rsa,
            "resp_hz": c.resp_hz,
            "u_wave": c.u_wave,
            "noise_bw_mv": c.noise_bw,
            "noise_emg_mv": c.noise_emg,
            "noise_pl_mv": c.noise_pl,
        }
    )
