"""A JSON-ready description of a loaded dataset (what ``ecgbench data summary NAME --json`` prints)."""

from __future__ import annotations

import math

import numpy as np

from ecgbench.data.dataset import INTERVAL_FIELDS, ECGDataset
from ecgbench.data.leads import LEADS

#: info keys copied into the summary when the source sets them.
_INFO_KEYS = (
    "source",
    "path",
    "version",
    "version_evidence",
    "n_rows",
    "n_missing",
    "missing_examples",
    "file_column",
    "resampled_from_500",
    "checksums",
    "cache",
    "n_source_records",
    "n_records_used",
    "window_s",
    "native_fs",
    "resampled",
    "layout",
    "wave_marks",
    "leads_filled",
    "flat_leads",
    "unmapped_snomed",
    "fold_override",
    "seed",
)


def summarize(dataset: ECGDataset) -> dict:
    """Counts, rate, folds, label prevalence, skipped records, fingerprint and interval statistics.

    label_prevalence   positives per expressed code, codes with none left out (``absent_codes``
                       counts them), most frequent first.
    leads_present      records holding each lead (a lead is absent when all-NaN).
    intervals          per field: n (non-NaN), median, q1, q3, min, max; ms (hr: bpm).
    """
    prevalence = dataset.label_prevalence()
    positive = {
        code: n for code, n in sorted(prevalence.items(), key=lambda kv: (-kv[1], kv[0])) if n > 0
    }
    folds, counts = np.unique(np.asarray(dataset.folds), return_counts=True)
    present = dataset.lead_present.sum(axis=0)
    skipped = list(dataset.info.get("skipped", []))
    summary = {
        "name": dataset.name,
        "n_records": len(dataset),
        "fs": dataset.fs,
        "n_samples": dataset.n_samples,
        "duration_s": dataset.n_samples / dataset.fs,
        "leads_present": {lead: int(n) for lead, n in zip(LEADS, present, strict=True)},
        "folds": {str(int(f)): int(c) for f, c in zip(folds, counts, strict=True)},
        "n_expressed_codes": len(dataset.expressed),
        "label_prevalence": positive,
        "absent_codes": len(prevalence) - len(positive),
        "n_unlabelled_records": int((dataset.labels.sum(axis=1) == 0).sum()),
        "sex": _counts(dataset.meta["sex"]) if "sex" in dataset.meta else {},
        "age_median": _number(np.nanmedian(dataset.meta["age"]))
        if _has_values(dataset.meta, "age")
        else None,
        "n_skipped": len(skipped),
        "skipped": skipped,
        "fingerprint": dataset.fingerprint,
        "info": {key: _plain(dataset.info[key]) for key in _INFO_KEYS if key in dataset.info},
    }
    if dataset.intervals is not None:
        summary["intervals"] = {
            name: _distribution(dataset.intervals[name].to_numpy(dtype=float))
            for name in INTERVAL_FIELDS
            if name in dataset.intervals
        }
    if dataset.beats is not None:
        summary["n_beats"] = len(dataset.beats)
    return summary


def _distribution(values: np.ndarray) -> dict:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {"n": 0}
    q1, median, q3 = np.percentile(finite, [25, 50, 75])
    return {
        "n": int(finite.size),
        "median": _number(median),
        "q1": _number(q1),
        "q3": _number(q3),
        "min": _number(finite.min()),
        "max": _number(finite.max()),
    }


def _counts(column) -> dict[str, int]:
    values = column.fillna("").astype(str)
    return {(k or "unknown"): int(v) for k, v in values.value_counts().sort_index().items()}


def _has_values(meta, column: str) -> bool:
    return column in meta and bool(np.isfinite(meta[column].to_numpy(dtype=float)).any())


def _number(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 4)


def _plain(value: object) -> object:
    """numpy scalars and containers -> JSON types; NaN -> None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
