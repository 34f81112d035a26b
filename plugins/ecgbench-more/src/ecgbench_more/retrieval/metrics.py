"""Retrieval metrics: recall@k and median rank of the first relevant item, with bootstrap CIs.

A query (an ECG, or a report) ranks every item of the gallery (every test report, or every
test ECG) by similarity. Its *rank* is that of the best-scored relevant item among the
irrelevant ones; ties are broken at random and the metrics take the expectation over the
draw, so a model that scores everything alike sits exactly at chance:

- ``rank = 1 + above + tied / 2`` (the expected rank), where ``above`` irrelevant items score
  higher than the best relevant one and ``tied`` score the same;
- ``hit@k = clip(k - above, 0, tied + 1) / (tied + 1)`` (the probability that it is in the top k).

Recall@k is the mean hit@k over queries; the median rank is the median of the ranks. Each
metric's ``params`` hold its chance level (a random ranking: recall 1 − C(n − p, k) / C(n, k),
expected rank (n + 1) / (p + 1) for p relevant among n items). The
bootstrap resamples queries (records) with the gallery held fixed. Pure numpy; checked against
a brute-force ranking and scikit-learn's ``top_k_accuracy_score`` in the tests.
"""

from __future__ import annotations

import numpy as np

from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import (
    MetricValue,
    bootstrap_indices,
    percentile_ci,
    resample_counts,
    rng_for,
)

KS: tuple[int, ...] = (1, 5, 10)
DIRECTIONS: tuple[str, ...] = ("ecg_to_report", "report_to_ecg")
CI_NOTE = "95% percentile bootstrap interval, queries (records) resampled, gallery fixed"


def first_relevant(similarity: np.ndarray, relevant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(above, tied) per query: irrelevant items scoring above / level with the best relevant one.

    ``similarity`` float[n_queries, n_items]; ``relevant`` bool of the same shape, at least one
    True per row.
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    relevant = np.asarray(relevant, dtype=bool)
    if similarity.shape != relevant.shape or similarity.ndim != 2:
        raise DataError(f"similarity {similarity.shape} and relevance {relevant.shape} must both be [queries, items]")
    if not relevant.any(axis=1).all():
        row = int(np.flatnonzero(~relevant.any(axis=1))[0])
        raise DataError(f"query {row} has no relevant item in the gallery")
    if not np.isfinite(similarity).all():
        raise DataError("similarities must be finite")
    best = np.where(relevant, similarity, -np.inf).max(axis=1, keepdims=True)
    irrelevant = ~relevant
    above = (irrelevant & (similarity > best)).sum(axis=1)
    tied = (irrelevant & (similarity == best)).sum(axis=1)
    return above.astype(np.float64), tied.astype(np.float64)


def expected_rank(above: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """float64[n]: the rank of the first relevant item, ties broken at random (expectation)."""
    return 1.0 + above + tied / 2.0


def hit_at(k: int, above: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """float64[n] in [0, 1]: probability that a relevant item is among the top k."""
    return np.clip(k - above, 0.0, tied + 1.0) / (tied + 1.0)


def chance_recall(k: int, relevant: np.ndarray) -> float:
    """Recall@k of a model that ranks at random: mean over queries of
    1 − C(n − p, k) / C(n, k), for p relevant among n items."""
    relevant = np.asarray(relevant, dtype=bool)
    n = relevant.shape[1]
    p = relevant.sum(axis=1)
    miss = np.ones(len(p))
    for j in range(min(k, n)):
        miss *= np.clip((n - p - j) / (n - j), 0.0, 1.0)
    return float(np.mean(1.0 - miss))


def _bootstrap_metrics(per_query: dict[str, np.ndarray], medians: dict[str, np.ndarray], n_boot: int,
                       seed: int) -> dict[str, tuple[float, float]]:
    """CI of every mean (``per_query``) and median (``medians``) on the same query resamples."""
    n = len(next(iter({**per_query, **medians}.values())))
    idx = bootstrap_indices(n, n_boot, rng_for(seed, "retrieval"))
    counts = resample_counts(idx, n)
    out = {name: percentile_ci(counts @ values / n) for name, values in per_query.items()}
    for name, ranks in medians.items():
        out[name] = percentile_ci(np.median(ranks[idx], axis=1))
    return out


def retrieval_suite(
    similarity: np.ndarray,
    same_report: np.ndarray,
    same_labels: np.ndarray | None = None,
    *,
    seed: int = 0,
    n_boot: int = 200,
) -> list[MetricValue]:
    """Every retrieval metric of one test split.

    ``similarity`` float[n, n]: row i is ECG i, column j is report j (the evaluator's dot
    products of the embeddings). ``same_report`` bool[n, n]: report j is record i's own report
    (its text equals it). ``same_labels`` bool[n, n] (optional): the records' label sets are
    equal; it gives the ``label_recall_at_<k>_<direction>`` metrics.

    Names: ``recall_at_<1|5|10>_<ecg_to_report|report_to_ecg>``,
    ``median_rank_<ecg_to_report|report_to_ecg>`` and, with labels,
    ``label_recall_at_<1|5|10>_<direction>``.
    """
    similarity = np.asarray(similarity, dtype=np.float64)
    n = similarity.shape[0]
    if similarity.shape != (n, n):
        raise DataError(f"similarity must be square [n ECGs, n reports], got {similarity.shape}")
    criteria = {"": np.asarray(same_report, dtype=bool)}
    if same_labels is not None:
        criteria["label_"] = np.asarray(same_labels, dtype=bool)
    per_query: dict[str, np.ndarray] = {}
    medians: dict[str, np.ndarray] = {}
    params: dict[str, dict] = {}
    for prefix, relevant in criteria.items():
        for direction, (s, r) in zip(DIRECTIONS, ((similarity, relevant), (similarity.T, relevant.T)), strict=True):
            above, tied = first_relevant(s, r)
            for k in KS:
                name = f"{prefix}recall_at_{k}_{direction}"
                per_query[name] = hit_at(k, above, tied)
                params[name] = {"k": k, "chance": chance_recall(k, r)}
            if not prefix:
                name = f"median_rank_{direction}"
                medians[name] = expected_rank(above, tied)
                items = s.shape[1]
                params[name] = {"gallery": int(items), "chance": float(np.median((items + 1) / (r.sum(axis=1) + 1)))}
    cis = _bootstrap_metrics(per_query, medians, n_boot, seed)
    metrics = []
    for name, values in {**per_query, **medians}.items():
        value = float(np.median(values)) if name in medians else float(values.mean())
        low, high = cis[name]
        metrics.append(MetricValue(name, value, low, high, n=n,
                                   params={**params[name], "ci": CI_NOTE, "n_boot": n_boot, "seed": seed}))
    order = {name: i for i, name in enumerate(metric_names(with_labels=True))}
    return sorted(metrics, key=lambda m: order[m.name])


def metric_names(with_labels: bool = True) -> list[str]:
    """Every metric name in report order: recall@10 (the main metric first), the median ranks,
    recall@1 and @5, then the label-set recalls; a table that shows only a task's first few
    metrics shows these."""
    names = []
    for prefix in ("", "label_") if with_labels else ("",):
        names += [f"{prefix}recall_at_10_{d}" for d in DIRECTIONS]
        if not prefix:
            names += [f"median_rank_{d}" for d in DIRECTIONS]
        names += [f"{prefix}recall_at_{k}_{d}" for k in KS if k != 10 for d in DIRECTIONS]
    return names
