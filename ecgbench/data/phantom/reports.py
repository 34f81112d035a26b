"""Free-text reports of phantom records, written from each record's ground truth.

A report reads like a cardiologist's or an ECG machine's: the rhythm (with the rate, often),
sometimes the axis and the intervals, the findings, and a summary. The phrasing varies from
record to record — several wordings per finding, optional parts, the findings in any order,
three letter cases and four separators — and a finding is left out now and then, as real
reports leave findings out. So a report is not a lookup of the label set: a model that links
reports and signals has to read the findings and the numbers.

Each record's report comes from its own random stream (the report domain of
:mod:`ecgbench.data.phantom.streams`, keyed by record index), drawn after everything else: reports never change the signals, the labels or the
folds, and the first k reports of a cohort are the same for every cohort size.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom.streams import Domain, stream

#: Bumped whenever the wording rules change (the reports of a seed change with it); bump
#: PHANTOM_VERSION with it, since the dataset fingerprint hashes that version, not the reports.
REPORT_VERSION = "1"

#: How often an optional part appears.
P_RATE, P_AXIS, P_INTERVAL, P_SUMMARY_ABNORMAL = 0.7, 0.45, 0.4, 0.35
#: How often a finding the record carries is written down (the rest are left out).
P_FINDING = 0.9
#: How often a normal record's summary ("normal ECG") is written.
P_SUMMARY_NORMAL = 0.85

RHYTHM_WORDS: dict[str, tuple[str, ...]] = {
    "SR": ("sinus rhythm", "normal sinus rhythm", "regular sinus rhythm"),
    "SBRAD": ("sinus bradycardia", "slow sinus rhythm", "sinus brady"),
    "STACH": ("sinus tachycardia", "sinus tachy", "fast sinus rhythm"),
    "SARRH": ("sinus arrhythmia", "sinus rhythm with marked sinus arrhythmia", "respiratory sinus arrhythmia"),
    "AFIB": ("atrial fibrillation", "afib", "atrial fibrillation, irregularly irregular"),
}
FINDING_WORDS: dict[str, tuple[str, ...]] = {
    "1AVB": ("first degree AV block", "1st degree atrioventricular block", "AV block I", "prolonged PR interval"),
    "CLBBB": ("complete left bundle branch block", "left bundle branch block", "LBBB"),
    "CRBBB": ("complete right bundle branch block", "right bundle branch block", "RBBB"),
    "IRBBB": ("incomplete right bundle branch block", "incomplete RBBB", "rSR' in V1, incomplete RBBB"),
    "LAFB": ("left anterior fascicular block", "left anterior hemiblock", "LAFB"),
    "LVH": ("left ventricular hypertrophy", "voltage criteria for left ventricular hypertrophy", "LVH"),
    "IMI": ("inferior infarct, age undetermined", "old inferior myocardial infarction", "inferior Q waves, prior infarct"),
    "ASMI": ("anteroseptal infarct, age undetermined", "septal infarct", "anteroseptal myocardial infarction"),
    "AMI": ("anterior infarct, age undetermined", "anterior myocardial infarction", "anterior MI"),
    "LNGQT": ("prolonged QT interval", "long QT", "QTc prolongation"),
    "STE_": ("non-specific ST elevation", "ST elevation", "ST segment elevation"),
    "STD_": ("non-specific ST depression", "ST depression", "ST segment depression"),
}
PVC_WORDS = {
    1: ("a single premature ventricular complex", "one PVC", "isolated ventricular extrasystole"),
    2: ("premature ventricular complexes", "occasional PVCs", "ventricular extrasystoles"),
}
NORMAL_WORDS = ("normal ECG", "normal electrocardiogram", "within normal limits")
ABNORMAL_WORDS = ("abnormal ECG", "abnormal electrocardiogram", "borderline ECG")
SEPARATORS = (". ", "; ", ", ", " / ")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _rate(rng: np.random.Generator, hr: int) -> str:
    return _pick(rng, (f"{hr} bpm", f"rate {hr}/min", f"HR {hr}", f"at {hr} beats per minute", f"vent. rate {hr} bpm"))


def _af_response(hr: float) -> str:
    if hr > 100:
        return "with rapid ventricular response"
    if hr < 60:
        return "with slow ventricular response"
    return "with controlled ventricular response"


def _axis(rng: np.random.Generator, axis: float) -> str:
    if rng.random() < 0.5:
        return _pick(rng, (f"axis {axis:+.0f} deg", f"QRS axis {axis:.0f}°", f"frontal axis {axis:+.0f}"))
    if axis < -30:
        return _pick(rng, ("left axis deviation", "leftward axis", "marked left axis"))
    if axis > 90:
        return _pick(rng, ("right axis deviation", "rightward axis"))
    return _pick(rng, ("normal axis", "normal QRS axis", "axis within normal limits"))


def _intervals(rng: np.random.Generator, row: Mapping[str, float], af: bool) -> list[str]:
    parts = []
    if not af and np.isfinite(row["pr"]) and rng.random() < P_INTERVAL:
        pr = round(row["pr"])
        parts.append(_pick(rng, (f"PR {pr} ms", f"PR interval {pr / 1000:.2f} s", f"P-R {pr}")))
    if np.isfinite(row["qrs"]) and rng.random() < P_INTERVAL:
        qrs = round(row["qrs"])
        parts.append(_pick(rng, (f"QRS {qrs} ms", f"QRS duration {qrs} ms", f"QRSd {qrs}")))
    if np.isfinite(row["qt"]) and np.isfinite(row["qtc_bazett"]) and rng.random() < P_INTERVAL:
        qt, qtc = round(row["qt"]), round(row["qtc_bazett"])
        parts.append(_pick(rng, (f"QT/QTc {qt}/{qtc} ms", f"QTc {qtc} ms", f"QT {qt} ms")))
    return parts


def _findings(rng: np.random.Generator, codes: set[str], n_pvc: int) -> list[str]:
    parts = []
    for code, words in FINDING_WORDS.items():
        if code in codes and rng.random() < P_FINDING:
            parts.append(_pick(rng, words))
    if "PVC" in codes and rng.random() < P_FINDING:
        parts.append(_pick(rng, PVC_WORDS[min(max(n_pvc, 1), 2)]))
    order = rng.permutation(len(parts))
    return [parts[i] for i in order]


def _case(rng: np.random.Generator, text: str) -> str:
    style = int(rng.integers(3))
    if style == 0:
        return text.lower()
    if style == 1:
        return text.upper()
    return text[:1].upper() + text[1:]


def write_report(rng: np.random.Generator, codes: set[str], row: Mapping[str, float]) -> str:
    """One report from the record's statements (``codes``) and its ground truth (``row``: the
    ``meta`` columns ``axis_deg`` and ``n_pvc`` and the ``intervals`` columns)."""
    af = "AFIB" in codes
    rhythm_code = next((c for c in RHYTHM_WORDS if c in codes), "SR")
    hr = round(row["hr"])
    rhythm = _pick(rng, RHYTHM_WORDS[rhythm_code])
    if af and rng.random() < 0.5:
        rhythm = f"{rhythm} {_af_response(row['hr'])}"
    if rng.random() < P_RATE:
        rhythm = f"{rhythm} {_rate(rng, hr)}" if rng.random() < 0.5 else f"{rhythm}, {_rate(rng, hr)}"
    measured = _intervals(rng, row, af)
    if rng.random() < P_AXIS:
        measured.insert(int(rng.integers(len(measured) + 1)), _axis(rng, row["axis_deg"]))
    findings = _findings(rng, codes, int(row["n_pvc"]))
    parts = [rhythm]
    parts += measured + findings if rng.random() < 0.5 else findings + measured
    if "NORM" in codes:
        if rng.random() < P_SUMMARY_NORMAL:
            parts.append(("otherwise " if rhythm_code == "SARRH" and rng.random() < 0.5 else "") + _pick(rng, NORMAL_WORDS))
    elif rng.random() < P_SUMMARY_ABNORMAL:
        parts.append(_pick(rng, ABNORMAL_WORDS))
    text = _pick(rng, SEPARATORS).join(parts)
    return _case(rng, text) + ("." if rng.random() < 0.5 else "")


def phantom_reports(labels: np.ndarray, meta: pd.DataFrame, intervals: pd.DataFrame, seed: int) -> np.ndarray:
    """``str[n]``: the report of every record (row i is record index i of the cohort).

    ``labels`` uint8[n, 71]; ``meta`` needs ``axis_deg`` and ``n_pvc``; ``intervals`` needs
    ``pr``, ``qrs``, ``qt``, ``hr`` and ``qtc_bazett`` (ms, bpm).
    """
    codes_of = {i: code for code, i in SCP_INDEX.items()}
    rows = pd.concat(
        [meta[["axis_deg", "n_pvc"]].reset_index(drop=True),
         intervals[["pr", "qrs", "qt", "hr", "qtc_bazett"]].reset_index(drop=True)], axis=1,
    ).to_dict("records")
    reports = []
    for i, (label_row, row) in enumerate(zip(labels, rows, strict=True)):
        rng = stream(seed, Domain.REPORT, i)
        reports.append(write_report(rng, {codes_of[j] for j in np.flatnonzero(label_row)}, row))
    return np.array(reports, dtype=object)
