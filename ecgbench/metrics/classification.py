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
    percentile_p_value,
    resample_counts,
    resamples_are_fixed,
    rng_for,
)

DEFAULT_THRESHOLDS = np.linspace(0.0, 1.0, 101)
CI_NOTE = "95% percentile bootstrap interval, records resampled"
RESAMPLE_RULE = ("every resample averages over the labels kept on the full data; a resample in which a kept "
                 "label lacks a class gets one record of that class added (drawn uniformly)")
#: Metric names of the subsets (``ecgbench.data.labels.SUBSETS``). The two aggregated subsets
#: max-aggregate the 71 statement scores, whereas the PTB-XL benchmark trains a model on the
#: 23 subclasses / 5 superclasses: their names say so, so that nobody reads them as the
#: benchmark's numbers. The others are the benchmark's statements and records.
SUBSET_METRICS: dict[str, str] = {
    "all": "macro_auroc_all",
    "diagnostic": "macro_auroc_diagnostic",
    "subdiagnostic": "macro_auroc_subdiagnostic_from71",
    "superdiagnostic": "macro_auroc_superdiagnostic_from71",
    "form": "macro_auroc_form",
    "rhythm": "macro_auroc_rhythm",
}
#: Names in records of ``classify-71-labels`` version 1 -> their names since version 2.
RENAMED_METRICS: dict[str, str] = {
    "macro_auroc_subdiagnostic": "macro_auroc_subdiagnostic_from71",
    "macro_auroc_superdiagnostic": "macro_auroc_superdiagnostic_from71",
}
AGGREGATION_NOTE = ("class score = max over its member statements' scores (target: any member present); not "
                    "comparable with the PTB-XL benchmark's {subset} task, which trains a model on the classes")


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


def complete_resamples(counts: np.ndarray, y_kept: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Make every kept label hold both classes in every resample, by adding records.

    ``counts`` ``float[B, n]`` (records per resample), ``y_kept`` ``bool[n, K]`` (the labels
    kept on the full data, each with both classes there). For each kept label in turn, a
    resample that lacks its positives (or negatives) gets one more record drawn uniformly
    from that label's positives (negatives). Redrawing such a resample instead (the PTB-XL
    benchmark's rule) is infeasible with rare labels: with 19 labels of one positive in 400
    records, about one resample in 6,000 keeps them all. Returns the completed counts (a
    copy) and the number of records added.
    """
    counts = counts.copy()
    added = 0
    for j in range(y_kept.shape[1]):
        for members in (np.flatnonzero(y_kept[:, j]), np.flatnonzero(~y_kept[:, j])):
            missing = np.flatnonzero(counts[:, members].sum(axis=1) == 0)
            if missing.size:
                counts[missing, members[rng.integers(len(members), size=missing.size)]] += 1
                added += int(missing.size)
    return counts, added


def label_resamples(y_kept: np.ndarray, n_boot: int, seed: int, stream: str) -> tuple[np.ndarray, dict]:
    """``float[B, n]`` record counts of the resamples behind a macro AUROC interval, completed
    (:func:`complete_resamples`) so that every resample averages over the same labels as the
    point estimate; and how they were made, for ``params``.

    With fixed resamples (``ecgbench score --bootstrap-ids``) they are used as given, and a
    resample in which a kept label lacks a class is skipped instead.
    """
    n = len(y_kept)
    counts = resample_counts(bootstrap_indices(n, n_boot, rng_for(seed, stream)), n)
    if resamples_are_fixed(n):
        return counts, {"resample_rule": "fixed resamples as given; a resample in which a kept label lacks a "
                                          "class is skipped"}
    counts, added = complete_resamples(counts, y_kept, rng_for(seed, stream + "_completion"))
    return counts, {"resample_rule": RESAMPLE_RULE, "records_added_by_completion": added}


def _bootstrap_macro(y_true: np.ndarray, y_score: np.ndarray, counts: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Macro AUROC per resample over all ``kept`` labels (NaN where one of them is undefined)."""
    return _auroc_matrix(y_true[:, kept], y_score[:, kept], counts).mean(axis=1)


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


def macro_auroc_metric(
    name: str,
    y_true: np.ndarray,
    y_score: np.ndarray,
    names: Sequence[str],
    *,
    seed: int = 0,
    n_boot: int = 200,
    stream: str = "classification_boot",
    params: dict | None = None,
) -> MetricValue:
    """Macro AUROC over the labels with both classes in ``y_true`` (``bool[n, L]``), with its
    percentile interval over :func:`label_resamples` (the same labels in every resample)."""
    per_label = _auroc_matrix(y_true, y_score, np.ones((1, len(y_true))))[0]
    kept = np.flatnonzero(np.isfinite(per_label))
    value = float(per_label[kept].mean()) if kept.size else float("nan")
    low = high = float("nan")
    rule: dict = {}
    if kept.size:
        counts, rule = label_resamples(y_true[:, kept], n_boot, seed, stream)
        low, high = percentile_ci(_bootstrap_macro(y_true, y_score, counts, kept))
    return MetricValue(
        name=name,
        value=value,
        ci_low=low,
        ci_high=high,
        n=len(y_true),
        params={
            "definition": "mean per-label AUROC over the labels with positives and negatives",
            **(params or {}),
            "n_labels_scored": int(kept.size),
            "dropped_labels": [names[j] for j in np.flatnonzero(np.isnan(per_label))],
            "per_label": {names[j]: (None if np.isnan(v) else float(v)) for j, v in enumerate(per_label)},
            "seed": seed,
            "n_boot": n_boot,
            "ci": CI_NOTE,
            **rule,
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
    """``macro_auroc`` (main) and, when the columns are the 71 SCP statements, one macro AUROC
    per PTB-XL benchmark subset (:data:`SUBSET_METRICS`); ``fmax`` (threshold chosen on
    validation predictions, when given) and ``fmax_test_threshold`` (threshold chosen on the
    test set).

    Every subset score, ``macro_auroc`` included (it equals ``macro_auroc_all``), is computed
    on the records with at least one positive label in that subset, and its interval averages
    every resample over the labels kept on those records (:func:`label_resamples`). Fmax
    averages over records, not labels, so its resamples need no completion. All resamples of
    one suite come from one ``seed``.
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
            params = {"dropped_records_without_subset_label": dropped}
            if subset in ("subdiagnostic", "superdiagnostic"):
                params["aggregation"] = AGGREGATION_NOTE.format(subset=subset)
            metric = macro_auroc_metric(SUBSET_METRICS[subset], t, s, names, seed=seed, n_boot=n_boot, params=params)
            if subset == "all":
                out.append(replace(metric, name="macro_auroc"))
            out.append(metric)
    else:
        rows = y_true.any(axis=1)
        out.append(macro_auroc_metric("macro_auroc", y_true[rows], y_score[rows], codes, seed=seed, n_boot=n_boot,
                                      params={"dropped_records_without_subset_label": int((~rows).sum())}))
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
    """Difference ``metric(a) - metric(b)`` on the same records, its 95 % percentile interval
    and a two-sided p-value, both from the same record resamples shared by both models.

    The resamples are those of :func:`label_resamples` (every one holds both classes of each
    label kept on the full data). ``metric`` defaults to macro AUROC over those labels; any
    ``metric(y_true, score)`` can be given instead (computed on the materialised resamples).
    The p-value inverts the percentile interval (:func:`percentile_p_value`), so the interval
    excludes 0 exactly when p < 0.05.
    """
    y_true, score_a = _check(y_true, score_a, "model a")
    _, score_b = _check(y_true.astype(np.uint8), score_b, "model b")
    kept = np.flatnonzero(y_true.any(axis=0) & (~y_true).any(axis=0))
    counts, rule = label_resamples(y_true[:, kept], n_boot, seed, "paired_bootstrap")
    if metric is None:
        name = "macro_auroc"
        value_a, value_b = macro_auroc(y_true, score_a)[0], macro_auroc(y_true, score_b)[0]
        diffs = _bootstrap_macro(y_true, score_a, counts, kept) - _bootstrap_macro(y_true, score_b, counts, kept)
    else:
        name = getattr(metric, "__name__", "metric")
        value_a, value_b = float(metric(y_true, score_a)), float(metric(y_true, score_b))
        records = np.arange(len(y_true))
        diffs = np.array([
            float(metric(y_true[i], score_a[i])) - float(metric(y_true[i], score_b[i]))
            for i in (np.repeat(records, row.astype(np.int64)) for row in counts)
        ])
    diffs = diffs[np.isfinite(diffs)]
    low, high = percentile_ci(diffs)
    return {
        "metric": name,
        "value_a": value_a,
        "value_b": value_b,
        "difference": value_a - value_b,
        "ci_low": low,
        "ci_high": high,
        "ci_level": 0.95,
        "p_value": percentile_p_value(diffs),
        "test": "two-sided; p = largest alpha whose (1 - alpha) percentile interval of the paired differences "
                "contains 0, floored at 1/(B+1): the 95% interval excludes 0 exactly when p < 0.05",
        "n_boot": n_boot,
        "n_boot_defined": int(len(diffs)),
        "seed": seed,
        **rule,
    }
