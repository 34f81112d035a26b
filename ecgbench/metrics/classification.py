"""Classification metrics: ``float[n, L]`` scores against ``uint8[n, L]`` multi-hot labels.

AUROC is computed from ranks (ties count one half), which is what
``sklearn.metrics.roc_auc_score`` computes; the rank form also takes record weights, so a
bootstrap resample is a weight vector and no resample is ever materialised. Fmax is the
sample-centric (CAFA) definition with one global threshold. ``docs/metrics.md`` pins both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ecgbench.data.labels import SCP_CODES, SUBSETS, subset_view
from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import (
    MetricValue,
    bootstrap_indices,
    percentile_ci,
    resample_counts,
    rng_for,
)

DEFAULT_THRESHOLDS = np.linspace(0.0, 1.0, 101)
CI_NOTE = "95% percentile bootstrap interval, records resampled"


def _check(y_true: np.ndarray, y_score: np.ndarray, what: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.ndim != 2 or y_true.shape != y_score.shape:
        raise DataError(f"{what}: labels {y_true.shape} and scores {y_score.shape} must both be [n, n_labels]")
    if not np.isin(y_true, (0, 1)).all():
        raise DataError(f"{what}: labels must be multi-hot 0/1")
    if not np.isfinite(y_score).all():
        row = int(np.flatnonzero(~np.isfinite(y_score).all(axis=1))[0])
        raise DataError(f"{what}: record {row} has a NaN or infinite score")
    return y_true.astype(bool), y_score


# ------------------------------------------------------------------------------- AUROC


def _weighted_auroc(y: np.ndarray, s: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC of one label under record weights ``float[B, n]`` -> float64[B] (NaN where a
    weighting leaves no positive or no negative). Weights 1 give the usual AUROC.

    Each positive scores the weight of the negatives below it plus half of those tied with
    it (cumulative sums over the sorted negatives).
    """
    neg_order = np.argsort(s[~y], kind="stable")
    neg_scores = s[~y][neg_order]
    below = np.searchsorted(neg_scores, s[y], side="left")
    at_or_below = np.searchsorted(neg_scores, s[y], side="right")
    w_neg = weights[:, ~y][:, neg_order]
    cum = np.concatenate([np.zeros((len(weights), 1)), np.cumsum(w_neg, axis=1)], axis=1)
    w_pos = weights[:, y]
    wins = (w_pos * (0.5 * (cum[:, below] + cum[:, at_or_below]))).sum(axis=1)
    total_pos, total_neg = w_pos.sum(axis=1), cum[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = wins / (total_pos * total_neg)
    return np.where((total_pos > 0) & (total_neg > 0), auc, np.nan)


def _auroc_matrix(y_true: np.ndarray, y_score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``float64[B, L]``: every label's AUROC under every weighting."""
    return np.stack(
        [_weighted_auroc(y_true[:, j], y_score[:, j], weights) for j in range(y_true.shape[1])], axis=1
    )


def per_label_auroc(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """``float64[L]`` AUROC per label; NaN for a label without both classes."""
    y_true, y_score = _check(y_true, y_score)
    return _auroc_matrix(y_true, y_score, np.ones((1, len(y_true))))[0]


def macro_auroc(y_true: np.ndarray, y_score: np.ndarray) -> tuple[float, list[int]]:
    """Mean AUROC over the labels that have positives and negatives, and the dropped column
    indices. Equals ``roc_auc_score(y_true[:, kept], y_score[:, kept], average='macro')``."""
    per_label = per_label_auroc(y_true, y_score)
    dropped = [int(j) for j in np.flatnonzero(np.isnan(per_label))]
    value = float(np.nanmean(per_label)) if len(dropped) < len(per_label) else float("nan")
    return value, dropped


def _bootstrap_macro(y_true: np.ndarray, y_score: np.ndarray, counts: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Macro AUROC per resample over the ``kept`` labels that hold both classes in it."""
    per = _auroc_matrix(y_true[:, kept], y_score[:, kept], counts)
    defined = np.isfinite(per).sum(axis=1)
    with np.errstate(invalid="ignore"):
        return np.where(defined > 0, np.nansum(per, axis=1) / np.maximum(defined, 1), np.nan)


# -------------------------------------------------------------------------------- Fmax


def _sample_terms(y_true: np.ndarray, y_score: np.ndarray, thresholds: np.ndarray):
    """Per record and threshold: precision, whether it predicts anything, recall; and whether
    it has a true label. Prediction = score >= threshold."""
    n_true = y_true.sum(axis=1)
    precision = np.zeros((len(y_true), len(thresholds)))
    recall = np.zeros_like(precision)
    predicts = np.zeros_like(precision, dtype=bool)
    for k, t in enumerate(thresholds):
        pred = y_score >= t
        n_pred = pred.sum(axis=1)
        tp = (pred & y_true).sum(axis=1)
        predicts[:, k] = n_pred > 0
        precision[:, k] = np.divide(tp, n_pred, out=np.zeros(len(tp)), where=n_pred > 0)
        recall[:, k] = np.divide(tp, n_true, out=np.zeros(len(tp)), where=n_true > 0)
    return precision, predicts, recall, n_true > 0


def _f_curves(terms, weights: np.ndarray) -> np.ndarray:
    """``float64[B, K]`` sample-centric F per weighting and threshold (0 where undefined)."""
    precision, predicts, recall, has_true = terms
    n_predicting = weights @ predicts
    p = np.divide(weights @ (precision * predicts), n_predicting, out=np.zeros_like(n_predicting),
                  where=n_predicting > 0)
    n_with_labels = weights @ has_true.astype(np.float64)
    r = (weights @ (recall * has_true[:, None])) / np.where(n_with_labels > 0, n_with_labels, np.nan)[:, None]
    r = np.nan_to_num(r)
    return np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)


def fmax_threshold(
    y_true: np.ndarray, y_score: np.ndarray, thresholds: np.ndarray = DEFAULT_THRESHOLDS
) -> tuple[float, float]:
    """Sample-centric Fmax and the (smallest) threshold that reaches it.

    At threshold t a record predicts the labels with score >= t. Precision is averaged over
    the records that predict at least one label, recall over the records with at least one
    true label, F = 2PR / (P + R) (0 when nothing is predicted).
    """
    y_true, y_score = _check(y_true, y_score)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    curve = _f_curves(_sample_terms(y_true, y_score, thresholds), np.ones((1, len(y_true))))[0]
    best = int(np.argmax(curve))
    return float(curve[best]), float(thresholds[best])


def f_at_threshold(y_true: np.ndarray, y_score: np.ndarray, t: float) -> float:
    """The sample-centric F of :func:`fmax_threshold` at one fixed threshold."""
    y_true, y_score = _check(y_true, y_score)
    terms = _sample_terms(y_true, y_score, np.array([float(t)]))
    return float(_f_curves(terms, np.ones((1, len(y_true))))[0, 0])


# --------------------------------------------------------------------------- the suite


def _subset(y_true: np.ndarray, y_score: np.ndarray, subset: str):
    """Subset columns, keeping the records with at least one positive in the subset (the
    PTB-XL benchmark drops the others per task)."""
    t, names = subset_view(y_true.astype(np.uint8), subset)
    s, _ = subset_view(y_score, subset)
    rows = t.any(axis=1)
    return t[rows].astype(bool), s[rows], names, int((~rows).sum())


def _auroc_metric(name: str, y_true, y_score, names, dropped_records, seed, n_boot) -> MetricValue:
    per_label = _auroc_matrix(y_true, y_score, np.ones((1, len(y_true))))[0]
    kept = np.flatnonzero(np.isfinite(per_label))
    value = float(per_label[kept].mean()) if kept.size else float("nan")
    low = high = float("nan")
    if kept.size:
        counts = resample_counts(bootstrap_indices(len(y_true), n_boot, rng_for(seed, "classification_boot")),
                                 len(y_true))
        low, high = percentile_ci(_bootstrap_macro(y_true, y_score, counts, kept))
    return MetricValue(
        name=name,
        value=value,
        ci_low=low,
        ci_high=high,
        n=len(y_true),
        params={
            "definition": "mean per-label AUROC over the labels with positives and negatives",
            "n_labels_scored": int(kept.size),
            "dropped_labels": [names[j] for j in np.flatnonzero(np.isnan(per_label))],
            "dropped_records_without_subset_label": dropped_records,
            "per_label": {names[j]: (None if np.isnan(v) else float(v)) for j, v in enumerate(per_label)},
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE + "; a label without both classes in a resample is left out of its mean",
        },
    )


def _fmax_metrics(y_true, y_score, val_true, val_score, seed, n_boot) -> list[MetricValue]:
    counts = resample_counts(bootstrap_indices(len(y_true), n_boot, rng_for(seed, "classification_boot")),
                             len(y_true))
    common = {"definition": "sample-centric Fmax: precision over records predicting >= 1 label, recall over "
                            "records with >= 1 true label, prediction = score >= threshold",
              "seed": seed, "n_boot": n_boot}
    out = []
    if val_true is not None and val_score is not None:
        _, t = fmax_threshold(val_true, val_score)
        terms = _sample_terms(y_true, y_score, np.array([t]))
        low, high = percentile_ci(_f_curves(terms, counts)[:, 0])
        out.append(MetricValue(
            name="fmax", value=float(_f_curves(terms, np.ones((1, len(y_true))))[0, 0]), ci_low=low,
            ci_high=high, n=len(y_true),
            params={**common, "threshold": t, "threshold_source": "validation (Fmax threshold on val, applied to test)",
                    "n_val": len(val_true), "ci": CI_NOTE + "; threshold fixed"},
        ))
    terms = _sample_terms(y_true, y_score, DEFAULT_THRESHOLDS)
    curve = _f_curves(terms, np.ones((1, len(y_true))))[0]
    best = int(np.argmax(curve))
    low, high = percentile_ci(_f_curves(terms, counts).max(axis=1))
    out.append(MetricValue(
        name="fmax_test_threshold", value=float(curve[best]), ci_low=low, ci_high=high, n=len(y_true),
        params={**common, "threshold": float(DEFAULT_THRESHOLDS[best]),
                "threshold_source": "test set itself (as the PTB-XL benchmark paper; optimistic)",
                "ci": CI_NOTE + "; threshold re-chosen in each resample"},
    ))
    return out


def classification_suite(
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    val_true: np.ndarray | None = None,
    val_score: np.ndarray | None = None,
    seed: int = 0,
    n_boot: int = 200,
    codes: Sequence[str] = SCP_CODES,
) -> list[MetricValue]:
    """``macro_auroc`` (main), ``macro_auroc_<subset>`` for the six PTB-XL benchmark subsets
    (when the columns are the 71 SCP statements), ``fmax`` (threshold chosen on validation
    predictions, when given) and ``fmax_test_threshold`` (threshold chosen on the test set).

    Every subset score, ``macro_auroc`` included (it equals ``macro_auroc_all``), is computed
    on the records with at least one positive label in that subset. All intervals come from
    the same record resamples (same ``seed``).
    """
    y_true, y_score = _check(y_true, y_score, "test predictions")
    codes = tuple(codes)
    if len(codes) != y_true.shape[1]:
        raise DataError(f"test predictions have {y_true.shape[1]} columns but {len(codes)} codes were named")
    if val_true is not None and val_score is not None:
        val_true, val_score = _check(val_true, val_score, "validation predictions")
    out = []
    if codes == SCP_CODES:
        for subset in SUBSETS:
            t, s, names, dropped = _subset(y_true, y_score, subset)
            metric = _auroc_metric(f"macro_auroc_{subset}", t, s, names, dropped, seed, n_boot)
            if subset == "all":
                out.append(replace(metric, name="macro_auroc"))
            out.append(metric)
    else:
        rows = y_true.any(axis=1)
        out.append(_auroc_metric("macro_auroc", y_true[rows], y_score[rows], codes, int((~rows).sum()), seed, n_boot))
    out.extend(_fmax_metrics(y_true, y_score, val_true, val_score, seed, n_boot))
    return out


def paired_bootstrap(
    y_true: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Difference ``metric(a) - metric(b)`` on the same records, its percentile interval and a
    two-sided p-value, from record resamples shared by both models.

    ``metric`` defaults to macro AUROC (labels kept as on the full data). The p-value is the
    share of resampled differences at least as far from the observed one as the observed one
    is from 0 (the bootstrap distribution shifted to the null), ``(1 + count) / (1 + B)``.
    """
    y_true, score_a = _check(y_true, score_a, "model a")
    _, score_b = _check(y_true.astype(np.uint8), score_b, "model b")
    indices = bootstrap_indices(len(y_true), n_boot, rng_for(seed, "paired_bootstrap"))
    if metric is None:
        name = "macro_auroc"
        value_a, dropped = macro_auroc(y_true, score_a)
        value_b, _ = macro_auroc(y_true, score_b)
        kept = np.setdiff1d(np.arange(y_true.shape[1]), dropped)
        counts = resample_counts(indices, len(y_true))
        diffs = _bootstrap_macro(y_true, score_a, counts, kept) - _bootstrap_macro(y_true, score_b, counts, kept)
    else:
        name = getattr(metric, "__name__", "metric")
        value_a, value_b = float(metric(y_true, score_a)), float(metric(y_true, score_b))
        diffs = np.array([float(metric(y_true[i], score_a[i])) - float(metric(y_true[i], score_b[i])) for i in indices])
    diffs = diffs[np.isfinite(diffs)]
    observed = value_a - value_b
    low, high = percentile_ci(diffs)
    p_value = (1 + int(np.sum(np.abs(diffs - observed) >= abs(observed)))) / (1 + len(diffs))
    return {
        "metric": name,
        "value_a": value_a,
        "value_b": value_b,
        "difference": observed,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "n_boot": n_boot,
        "n_boot_defined": int(len(diffs)),
        "seed": seed,
    }
