"""Interval metrics: measured PR, QRS, QT, QTc (ms) and HR (bpm) against reference values.

Inputs are ``float[n]`` per interval; NaN in a measurement means the measurer abstained, NaN
in a reference means the record has no reference for that interval (it is left out). Every
QTc number names its correction formula.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ecgbench.contracts.intervals import INTERVALS as INTERVAL_NAMES
from ecgbench.contracts.intervals import QTC_FORMULAS, qtc
from ecgbench.errors import ConfigError, DataError
from ecgbench.metrics.bootstrap import MetricValue, bootstrap_ci

#: Long-QT cut-offs on QTc (ms) by sex ('' = unknown): a QTc above the cut-off is long QT.
#: Defaults follow the common adult thresholds (AHA/ACCF/HRS 2009 recommendations: QTc
#: > 450 ms in men, > 460 ms in women); unknown sex takes the lower, male cut-off.
LQT_CUTOFFS_MS: dict[str, float] = {"M": 450.0, "F": 460.0, "": 450.0}
#: First-degree AV block: PR above this (ms).
AVB1_PR_MS = 200.0
CI_NOTE = "95% percentile bootstrap interval, records resampled"


def _pairs(reference: np.ndarray, measured: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    if reference.ndim != 1 or reference.shape != measured.shape:
        raise DataError(f"reference {reference.shape} and measured {measured.shape} must both be [n]")
    has_reference = np.isfinite(reference)
    both = has_reference & np.isfinite(measured)
    return reference, measured, both


def agreement(reference: np.ndarray, measured: np.ndarray) -> dict:
    """Agreement over the records where both values are finite.

    mae, pearson_r (``scipy.stats.pearsonr``; NaN with fewer than 2 pairs or a constant side),
    bias = mean(measured - reference), sd of the differences (ddof 1), Bland–Altman 95 %
    limits of agreement bias ± 1.96 sd, n_pairs, and abstain_rate = share of the records with
    a reference whose measurement is NaN.
    """
    from scipy.stats import pearsonr

    reference, measured, both = _pairs(reference, measured)
    n_reference = int(np.isfinite(reference).sum())
    diff = measured[both] - reference[both]
    n = int(both.sum())
    nan = float("nan")
    r = nan
    if n >= 2 and np.ptp(reference[both]) > 0 and np.ptp(measured[both]) > 0:
        r = float(pearsonr(reference[both], measured[both]).statistic)
    bias = float(diff.mean()) if n else nan
    sd = float(diff.std(ddof=1)) if n >= 2 else nan
    return {
        "mae": float(np.abs(diff).mean()) if n else nan,
        "pearson_r": r,
        "bias": bias,
        "sd": sd,
        "loa_low": bias - 1.96 * sd,
        "loa_high": bias + 1.96 * sd,
        "n_pairs": n,
        "abstain_rate": (n_reference - n) / n_reference if n_reference else nan,
    }


def detection(score: np.ndarray, positive: np.ndarray, threshold: float | np.ndarray) -> dict:
    """Detection of a condition from a continuous measurement.

    auroc: ``roc_auc_score(positive, score)`` (NaN with one class); accuracy, sensitivity and
    specificity of ``score > threshold`` (a scalar or one threshold per record). Records with
    a NaN score (abstentions) are left out and counted in ``n_abstained``.
    """
    from sklearn.metrics import roc_auc_score

    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if score.shape != positive.shape or score.ndim != 1:
        raise DataError(f"score {score.shape} and truth {positive.shape} must both be [n]")
    threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), score.shape)
    ok = np.isfinite(score)
    s, y, t = score[ok], positive[ok], threshold[ok]
    predicted = s > t
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    nan = float("nan")
    return {
        "auroc": float(roc_auc_score(y, s)) if n_pos and n_neg else nan,
        "accuracy": float((predicted == y).mean()) if len(y) else nan,
        "sensitivity": float(predicted[y].mean()) if n_pos else nan,
        "specificity": float((~predicted[~y]).mean()) if n_neg else nan,
        "n": int(len(y)),
        "n_positive": n_pos,
        "n_abstained": int((~ok).sum()),
    }


def lqt_cutoffs(sex: np.ndarray, cutoffs: Mapping[str, float] = LQT_CUTOFFS_MS) -> np.ndarray:
    """``float64[n]`` long-QT cut-off per record from its sex ('M', 'F', '')."""
    sex = np.asarray(sex).astype(str)
    unknown = sorted(set(sex.tolist()) - set(cutoffs))
    if unknown:
        raise DataError(f"sex values {unknown} have no long-QT cut-off; known: {sorted(cutoffs)}")
    return np.array([cutoffs[s] for s in sex], dtype=np.float64)


def _reference_rr(reference: Mapping[str, np.ndarray]) -> np.ndarray:
    if "rr" in reference:
        return np.asarray(reference["rr"], dtype=np.float64)
    if "hr" in reference:
        with np.errstate(divide="ignore"):
            return 60000.0 / np.asarray(reference["hr"], dtype=np.float64)
    raise DataError("reference intervals need 'rr' (ms) or 'hr' (bpm) to correct QT")


def _agreement_metrics(name: str, reference, measured, unit: str, extra: dict, seed: int, n_boot: int):
    ref, mea, both = _pairs(reference, measured)
    result = agreement(ref, mea)
    r, m = ref[both], mea[both]
    n = result["n_pairs"]

    def mae(idx):
        return float(np.abs(m[idx] - r[idx]).mean())

    def bias(idx):
        return float((m[idx] - r[idx]).mean())

    def corr(idx):
        a, b = r[idx], m[idx]
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            return float("nan")
        return float(np.corrcoef(a, b)[0, 1])

    ci = {}
    for key, stat in (("mae", mae), ("bias", bias), ("pearson_r", corr)):
        ci[key] = bootstrap_ci(stat, n, n_boot=n_boot, seed=seed) if n >= 2 else (float("nan"),) * 2
    common = {"unit": unit, "n_pairs": n, "abstain_rate": result["abstain_rate"], "seed": seed,
              "n_boot": n_boot, "ci": CI_NOTE + " (records with both values)", **extra}
    return [
        MetricValue(f"{name}_mae", result["mae"], *ci["mae"], n=n,
                    params={**common, "definition": "mean |measured - reference|"}),
        MetricValue(f"{name}_pearson_r", result["pearson_r"], *ci["pearson_r"], n=n,
                    params={**common, "definition": "Pearson r (scipy.stats.pearsonr)"}),
        MetricValue(f"{name}_bias", result["bias"], *ci["bias"], n=n,
                    params={**common, "definition": "mean(measured - reference), Bland-Altman",
                            "sd": result["sd"], "loa_low": result["loa_low"], "loa_high": result["loa_high"]}),
    ]


def _detection_metric(name, score, truth, threshold, params, seed, n_boot) -> MetricValue:
    from sklearn.metrics import roc_auc_score

    result = detection(score, truth, threshold)
    ok = np.isfinite(np.asarray(score, dtype=np.float64))
    s, y = np.asarray(score, dtype=np.float64)[ok], np.asarray(truth, dtype=bool)[ok]

    def auroc(idx):
        yy = y[idx]
        return float(roc_auc_score(yy, s[idx])) if yy.any() and not yy.all() else float("nan")

    low, high = (bootstrap_ci(auroc, len(s), n_boot=n_boot, seed=seed) if np.isfinite(result["auroc"])
                 else (float("nan"), float("nan")))
    return MetricValue(name, result["auroc"], low, high, n=result["n"], params={
        **params, **{k: result[k] for k in ("accuracy", "sensitivity", "specificity", "n_positive", "n_abstained")},
        "seed": seed, "n_boot": n_boot,
        "ci": CI_NOTE + "; a resample with one class only is redrawn",
    })


def interval_suite(
    reference: Mapping[str, np.ndarray],
    measured: Mapping[str, np.ndarray],
    *,
    sex: np.ndarray,
    qtc_formula: str = "bazett",
    avb1_truth: np.ndarray | None = None,
    lqt_truth: np.ndarray | None = None,
    lqt_cutoffs_ms: Mapping[str, float] = LQT_CUTOFFS_MS,
    avb1_pr_ms: float = AVB1_PR_MS,
    seed: int = 0,
    n_boot: int = 200,
) -> list[MetricValue]:
    """``<pr|qrs|qt|qtc|hr>_{mae,pearson_r,bias}``, ``avb1_auroc``, ``lqt_auroc`` and
    ``abstain_rate``.

    ``reference``: 'pr', 'qrs', 'qt' (ms), 'rr' (ms) and/or 'hr' (bpm). The reference QTc is
    computed from reference QT and RR with ``qtc_formula``, the formula of the measured QTc;
    without 'rr', a given reference 'qtc' (corrected with that same formula) is used, else
    RR = 60000 / HR. ``measured``: 'pr', 'qrs', 'qt', 'qtc' (ms), 'hr' (bpm). An interval
    missing on either side is skipped.

    First-degree AV block: truth = ``avb1_truth`` or reference PR > ``avb1_pr_ms``; score =
    measured PR. Long QT: truth = ``lqt_truth`` or reference QTc > the record's sex cut-off;
    score = measured QTc minus that cut-off (so one ranking respects both cut-offs; with a
    single cut-off it ranks as QTc itself). Accuracy, sensitivity and specificity at the
    clinical threshold are in the params.
    """
    if qtc_formula not in QTC_FORMULAS:
        raise ConfigError(f"unknown QTc formula {qtc_formula!r}; choose one of {', '.join(QTC_FORMULAS)}")
    reference = dict(reference)
    if "qt" in reference and ("rr" in reference or "qtc" not in reference):
        reference["qtc"] = qtc(reference["qt"], _reference_rr(reference), qtc_formula)
    if "hr" not in reference and "rr" in reference:
        with np.errstate(divide="ignore"):
            reference["hr"] = 60000.0 / np.asarray(reference["rr"], dtype=np.float64)
    out: list[MetricValue] = []
    counts: dict[str, tuple[int, int]] = {}  # interval -> (records with a reference, abstained)
    for name in INTERVAL_NAMES:
        if name not in reference or name not in measured:
            continue
        extra = {"qtc_formula": qtc_formula} if name == "qtc" else {}
        metrics = _agreement_metrics(name, reference[name], measured[name], "bpm" if name == "hr" else "ms",
                                     extra, seed, n_boot)
        ref, mea, both = _pairs(reference[name], measured[name])
        counts[name] = (int(np.isfinite(ref).sum()), int(np.isfinite(ref).sum() - both.sum()))
        out.extend(metrics)

    if "pr" in measured and (avb1_truth is not None or "pr" in reference):
        score = np.asarray(measured["pr"], dtype=np.float64)
        if avb1_truth is not None:
            truth, known, source = np.asarray(avb1_truth, dtype=bool), np.ones(len(score), bool), "given"
        else:
            ref_pr = np.asarray(reference["pr"], dtype=np.float64)
            truth, known, source = ref_pr > avb1_pr_ms, np.isfinite(ref_pr), f"reference PR > {avb1_pr_ms:g} ms"
        out.append(_detection_metric("avb1_auroc", score[known], truth[known], avb1_pr_ms, {
            "condition": "first-degree AV block", "score": "measured PR (ms)", "truth": source,
            "threshold_ms": avb1_pr_ms}, seed, n_boot))

    if "qtc" in measured and (lqt_truth is not None or "qtc" in reference):
        cut = lqt_cutoffs(sex, lqt_cutoffs_ms)
        if len(cut) != len(np.asarray(measured["qtc"])):
            raise DataError(f"sex has {len(cut)} records but measurements have {len(measured['qtc'])}")
        score = np.asarray(measured["qtc"], dtype=np.float64) - cut
        if lqt_truth is not None:
            truth, known, source = np.asarray(lqt_truth, dtype=bool), np.ones(len(score), bool), "given"
        else:
            truth, known = reference["qtc"] > cut, np.isfinite(reference["qtc"])
            source = "reference QTc > sex cut-off"
        out.append(_detection_metric("lqt_auroc", score[known], truth[known], 0.0, {
            "condition": "long QT", "score": "measured QTc minus the record's cut-off (ms)",
            "truth": source, "qtc_formula": qtc_formula, "cutoffs_ms": dict(lqt_cutoffs_ms)}, seed, n_boot))

    if counts:
        n_ref = sum(c[0] for c in counts.values())
        n_abstained = sum(c[1] for c in counts.values())
        out.append(MetricValue("abstain_rate", n_abstained / n_ref if n_ref else float("nan"), n=n_ref, params={
            "definition": "share of (record, interval) pairs with a reference whose measurement is NaN",
            "per_interval": {k: (c[1] / c[0] if c[0] else None) for k, c in counts.items()}}))
    return out
