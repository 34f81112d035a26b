"""Exact ground truth per beat and per record, defined the way a delineator reports it.

A beat is listed when its whole QRS lies inside the record; a fiducial of a listed beat that
falls outside the record (e.g. the T wave of the last beat) is NaN. Record-level intervals
are medians over the listed conducted (non-PVC) beats of what is visible in the record, taken
from the generator's exact wave boundaries, never from the noisy signal, so they can be
recomputed from the beats table alone:

- PR  = QRS onset − P onset (NaN in AF, where there are no P waves)
- QRS = QRS offset − QRS onset (global: earliest onset and latest end over all leads)
- QT  = T offset − QRS onset
- RR  = interval between the QRS onsets of consecutive listed conducted beats (intervals that
  touch a PVC are left out); HR = 60000 / RR
- QTc = QT / sqrt(RR [s]) (Bazett) and QT / RR [s]^(1/3) (Fridericia).

The inclusion window ends 10 ms before the record does, so the same beats are listed at every
sampling rate >= 100 Hz.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ecgbench.data.phantom.assemble import FIDUCIALS
from ecgbench.data.phantom.rhythm import AF, KIND_CODES, NONE, SINUS

EDGE_S = 0.01


def listed_beats(fid: dict[str, np.ndarray], kind: np.ndarray, duration: float) -> np.ndarray:
    """bool[n, K]: beats whose whole QRS lies inside the record."""
    with np.errstate(invalid="ignore"):
        return (kind != NONE) & (fid["qrs_on"] >= 0.0) & (fid["qrs_off"] <= duration - EDGE_S)


def _inside(seconds: np.ndarray, duration: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (seconds >= 0.0) & (seconds <= duration - EDGE_S)


def windowed_fiducials(fid: dict[str, np.ndarray], kind: np.ndarray, duration: float) -> dict[str, np.ndarray]:
    """The fiducials a reader of the record can see: NaN for unlisted beats and outside the record."""
    listed = listed_beats(fid, kind, duration)
    return {name: np.where(listed & _inside(value, duration), value, np.nan) for name, value in fid.items()}


def beat_table(seen: dict[str, np.ndarray], kind: np.ndarray, fs: float, first_record: int) -> pd.DataFrame:
    """One row per listed beat: record (row index), kind, fiducials as float sample indices."""
    rec, beat = np.nonzero(np.isfinite(seen["qrs_on"]))
    table = {"record": rec + first_record, "kind": np.array(KIND_CODES)[kind[rec, beat]]}
    for name in FIDUCIALS:
        table[name] = seen[name][rec, beat] * fs
    return pd.DataFrame(table)


def _median(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=1)


def record_intervals(seen: dict[str, np.ndarray], kind: np.ndarray) -> pd.DataFrame:
    """Per record, from the visible fiducials of the conducted beats: pr, qrs, qt, rr (ms), hr
    (bpm), qtc_bazett, qtc_fridericia (ms) and rr_range (ms, longest minus shortest conducted
    RR: the sinus-arrhythmia criterion)."""
    conducted = (kind == SINUS) | (kind == AF)
    ms = 1000.0

    def span(start: str, end: str) -> np.ndarray:
        return _median(np.where(conducted, (seen[end] - seen[start]) * ms, np.nan))

    rr_all = np.diff(np.where(conducted, seen["qrs_on"], np.nan), axis=1) * ms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rr_range = np.nanmax(rr_all, axis=1) - np.nanmin(rr_all, axis=1)
    rr = _median(rr_all)
    qt = span("qrs_on", "t_off")
    rr_s = rr / ms
    return pd.DataFrame(
        {
            "pr": span("p_on", "qrs_on"),
            "qrs": span("qrs_on", "qrs_off"),
            "qt": qt,
            "rr": rr,
            "hr": 60.0 * ms / rr,
            "qtc_bazett": qt / np.sqrt(rr_s),
            "qtc_fridericia": qt / np.cbrt(rr_s),
            "rr_range": rr_range,
        }
    )
