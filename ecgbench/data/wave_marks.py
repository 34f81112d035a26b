"""Expert wave boundaries (QT Database ``.q1c`` style) -> per-beat fiducials and reference intervals.

In these annotation files a wave is a peak mark with its boundaries next to it: ``(`` right before
the peak mark is the wave's onset and ``)`` right after it is the offset. The peak mark says which
wave: ``p`` (P wave), ``t`` (T wave), ``u`` (U wave) or a beat label such as ``N`` or ``V`` (QRS).
A beat is a QRS mark with the P wave marked just before it (if any) and the T wave marked just
after it (if any), in annotation order. Any boundary may be unmarked (QTDB often marks no T onset).

Reference intervals of one beat, from the marks (ms):

    PR  = QRS onset - P onset          QRS = QRS offset - QRS onset        QT = T offset - QRS onset
    RR  = time from the previous beat to this one (see :func:`beat_rr`)     HR = 60000 / RR (bpm)

An interval is NaN when a boundary it needs is unmarked. :func:`reference_beats` turns a
dataset's beat table (these marks, or the phantom's exact fiducials) into the beat-level
reference the ``measure-intervals`` evaluator scores beat fiducials against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ecgbench.contracts.intervals import FIDUCIAL_NAMES

if TYPE_CHECKING:
    from ecgbench.data.dataset import ECGDataset

#: WFDB beat labels (normal, bundle branch block, atrial/nodal/ventricular premature, paced, fusion...).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
#: Peak marks of the other waves: P, T and U.
_WAVE_PEAKS = frozenset("ptu")
#: Per-beat fiducial columns, sample indices (NaN where not marked).
FIDUCIALS: tuple[str, ...] = (
    "p_on",
    "p_peak",
    "p_off",
    "qrs_on",
    "qrs_peak",
    "qrs_off",
    "t_on",
    "t_peak",
    "t_off",
)
#: Beat kind of ventricular beats in a beat table's ``kind`` column (the phantom's): no reference
#: interval is taken from them, so no boundary of theirs is scored either.
VENTRICULAR = "V"
#: A reference beat annotation within this distance of a marked QRS peak is the same beat.
MATCH_TOLERANCE_S = 0.15
#: Without reference beat annotations, two marked beats count as consecutive when their gap is
#: below this multiple of the median gap between marked beats (a skipped beat makes it about 2).
CONSECUTIVE_GAP_FACTOR = 1.5


def parse_waves(
    samples: Sequence[int], symbols: Sequence[str]
) -> list[tuple[str, str, float, float, float]]:
    """(kind, peak symbol, onset, peak, offset) per marked wave in annotation order.

    kind is 'p', 'qrs', 't' or 'u'; onset/offset are NaN where unmarked.
    """
    waves = []
    n = len(symbols)
    for i, symbol in enumerate(symbols):
        if symbol not in BEAT_SYMBOLS and symbol not in _WAVE_PEAKS:
            continue
        kind = "qrs" if symbol in BEAT_SYMBOLS else symbol
        onset = float(samples[i - 1]) if i > 0 and symbols[i - 1] == "(" else np.nan
        offset = float(samples[i + 1]) if i + 1 < n and symbols[i + 1] == ")" else np.nan
        waves.append((kind, symbol, onset, float(samples[i]), offset))
    return waves


def marked_beats(samples: Sequence[int], symbols: Sequence[str]) -> pd.DataFrame:
    """One row per marked QRS: :data:`FIDUCIALS` (sample indices, NaN where unmarked) and ``symbol``."""
    waves = parse_waves(samples, symbols)
    unmarked = ("", "", np.nan, np.nan, np.nan)
    rows, beat_symbols = [], []
    for j, (kind, symbol, on, peak, off) in enumerate(waves):
        if kind != "qrs":
            continue
        p = waves[j - 1] if j > 0 and waves[j - 1][0] == "p" else unmarked
        t = waves[j + 1] if j + 1 < len(waves) and waves[j + 1][0] == "t" else unmarked
        rows.append((*p[2:], on, peak, off, *t[2:]))
        beat_symbols.append(symbol)
    table = pd.DataFrame(rows, columns=list(FIDUCIALS), dtype=float)
    table["symbol"] = pd.Series(beat_symbols, dtype=object)
    return table


def beat_rr(qrs_peaks: np.ndarray, fs: float, reference_beats: np.ndarray | None) -> np.ndarray:
    """RR in ms before each marked beat (NaN when unknown).

    With reference beat annotations (``.atr``): the marked beat is the reference beat nearest its
    QRS peak (within :data:`MATCH_TOLERANCE_S`), and RR is the time since the reference beat
    before it. Without them: the time since the previous marked beat, when the two are consecutive
    (gap below :data:`CONSECUTIVE_GAP_FACTOR` times the median gap between marked beats).
    """
    peaks = np.asarray(qrs_peaks, dtype=float)
    rr = np.full(len(peaks), np.nan)
    if reference_beats is not None and len(reference_beats) > 1:
        ref = np.sort(np.asarray(reference_beats, dtype=float))
        nearest = np.clip(np.searchsorted(ref, peaks), 1, len(ref) - 1)
        nearest = np.where(
            np.abs(ref[nearest - 1] - peaks) < np.abs(ref[nearest] - peaks), nearest - 1, nearest
        )
        matched = np.abs(ref[nearest] - peaks) <= MATCH_TOLERANCE_S * fs
        has_previous = nearest > 0
        ok = matched & has_previous & np.isfinite(peaks)
        rr[ok] = (ref[nearest[ok]] - ref[nearest[ok] - 1]) / fs * 1000.0
        return rr
    if len(peaks) > 1:
        gaps = np.diff(peaks)
        consecutive = gaps < CONSECUTIVE_GAP_FACTOR * np.nanmedian(gaps)
        rr[1:][consecutive] = gaps[consecutive] / fs * 1000.0
    return rr


def beat_intervals(beats: pd.DataFrame, fs: float) -> pd.DataFrame:
    """pr, qrs, qt (ms) per beat from the fiducials of :func:`marked_beats` at rate ``fs``."""
    ms = 1000.0 / fs
    return pd.DataFrame(
        {
            "pr": (beats["qrs_on"] - beats["p_on"]) * ms,
            "qrs": (beats["qrs_off"] - beats["qrs_on"]) * ms,
            "qt": (beats["t_off"] - beats["qrs_on"]) * ms,
        }
    )


def beat_span(beats: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """First and last marked sample of each beat (P onset ... T offset, whichever are marked)."""
    values = beats[list(FIDUCIALS)].to_numpy(dtype=float)
    return np.nanmin(values, axis=1), np.nanmax(values, axis=1)


def reference_beats(data: ECGDataset) -> dict[str, np.ndarray] | None:
    """The dataset's beat-level reference marks in seconds from the record's start, in the
    form :func:`ecgbench.metrics.intervals.fiducial_errors` takes; None without any.

    A beat's time is its QRS peak mark (``qrs_peak`` of wave marks, ``r_peak`` of the phantom),
    or its QRS onset where the peak is unmarked. Beats the dataset lists as ventricular
    (``kind`` "V": premature ventricular beats of the phantom) are left out, as they are from
    its reference intervals; every marked beat of wave-mark files counts."""
    if data.beats is None or data.beats.empty:
        return None
    beats = data.beats
    if "kind" in beats.columns:
        beats = beats[beats["kind"].astype(str) != VENTRICULAR]
    peak = "qrs_peak" if "qrs_peak" in beats.columns else "r_peak"
    time = beats[peak].fillna(beats["qrs_on"]).to_numpy(dtype=np.float64)
    known = np.isfinite(time)
    out = {"record": beats["record"].to_numpy(dtype=np.int64)[known], "time": time[known] / data.fs}
    for name in FIDUCIAL_NAMES:
        out[name] = beats[name].to_numpy(dtype=np.float64)[known] / data.fs
    return out
