"""Retrieval metrics against hand-computed cases, a brute-force ranking and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_more.retrieval.metrics import (
    chance_recall,
    expected_rank,
    first_relevant,
    hit_at,
    retrieval_suite,
)
from ecgbench_more.retrieval.task import same_label_set, same_text
from sklearn.metrics import top_k_accuracy_score

from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import fixed_resamples


def _suite(similarity, relevant, **kwargs):
    return {m.name: m for m in retrieval_suite(similarity, relevant, **kwargs)}


def test_a_hand_computed_case():
    # ECG 0 ranks its report first; ECG 1 ranks it third; ECG 2 second.
    s = np.array([[0.9, 0.1, 0.2],
                  [0.8, 0.3, 0.5],
                  [0.1, 0.7, 0.6]])
    m = _suite(s, np.eye(3, dtype=bool), n_boot=20)
    assert m["recall_at_1_ecg_to_report"].value == pytest.approx(1 / 3)
    assert m["median_rank_ecg_to_report"].value == 2.0
    # reports as queries (columns): report 0 -> ECG 0 first; report 1 -> ECG 2 above ECG 1; report 2 -> ECG 2 first
    assert m["recall_at_1_report_to_ecg"].value == pytest.approx(2 / 3)
    assert m["median_rank_report_to_ecg"].value == 1.0


def test_recall_matches_scikit_learn_top_k_accuracy_without_ties():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(40, 40))
    m = _suite(s, np.eye(40, dtype=bool), n_boot=10)
    for k in (1, 5, 10):
        reference = top_k_accuracy_score(np.arange(40), s, k=k, labels=np.arange(40))
        assert m[f"recall_at_{k}_ecg_to_report"].value == pytest.approx(reference)
        reference_t = top_k_accuracy_score(np.arange(40), s.T, k=k, labels=np.arange(40))
        assert m[f"recall_at_{k}_report_to_ecg"].value == pytest.approx(reference_t)


def test_ranks_match_a_brute_force_ranking_with_several_relevant_items():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(30, 25))
    relevant = rng.random((30, 25)) < 0.1
    relevant[np.arange(30), rng.integers(0, 25, 30)] = True
    above, tied = first_relevant(s, relevant)
    for i in range(30):
        order = np.argsort(-s[i], kind="stable")
        first = int(np.flatnonzero(relevant[i][order])[0]) + 1
        assert expected_rank(above, tied)[i] == first
        for k in (1, 3, 10):
            assert hit_at(k, above, tied)[i] == float(first <= k)


def test_ties_count_as_the_expectation_of_a_random_order():
    """A model that scores everything alike is exactly at chance."""
    n = 20
    m = _suite(np.zeros((n, n)), np.eye(n, dtype=bool), n_boot=10)
    for k in (1, 5, 10):
        assert m[f"recall_at_{k}_ecg_to_report"].value == pytest.approx(k / n)
        assert m[f"recall_at_{k}_ecg_to_report"].params["chance"] == pytest.approx(k / n)
    assert m["median_rank_ecg_to_report"].value == pytest.approx((n + 1) / 2)


def test_chance_recall_is_the_hypergeometric_miss_probability():
    relevant = np.zeros((1, 10), dtype=bool)
    relevant[0, :3] = True
    # P(no relevant among 2 random picks of 10 with 3 relevant) = 7/10 * 6/9
    assert chance_recall(2, relevant) == pytest.approx(1 - 7 / 10 * 6 / 9)
    rng = np.random.default_rng(2)
    hits = [bool(rng.permutation(10)[:2].min() < 3) for _ in range(20000)]
    assert chance_recall(2, relevant) == pytest.approx(np.mean(hits), abs=0.01)


def test_identical_report_texts_are_the_same_report():
    reports = np.array(["sinusrhythmus normales ekg", "vorhofflimmern", "sinusrhythmus normales ekg"])
    relevant = same_text(reports)
    assert relevant.tolist() == [[True, False, True], [False, True, False], [True, False, True]]
    s = np.array([[0.1, 0.0, 0.9], [0.0, 1.0, 0.0], [0.9, 0.0, 0.1]])
    m = _suite(s, relevant, n_boot=10)
    assert m["recall_at_1_ecg_to_report"].value == 1.0


def test_label_recall_counts_any_record_with_the_same_label_set():
    labels = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.uint8)
    s = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.5, 0.5, 0.0]])
    m = _suite(s, np.eye(3, dtype=bool), same_labels=same_label_set(labels), n_boot=10)
    assert m["recall_at_1_ecg_to_report"].value == 0.0
    assert m["label_recall_at_1_ecg_to_report"].value == pytest.approx(2 / 3)


def test_the_interval_comes_from_the_resamples_and_covers_the_value():
    rng = np.random.default_rng(3)
    s = rng.normal(size=(50, 50)) + 3 * np.eye(50)
    ids = rng.integers(0, 50, size=(30, 50))
    with fixed_resamples(ids):
        m = _suite(s, np.eye(50, dtype=bool))
    above, tied = first_relevant(s, np.eye(50, dtype=bool))
    hits = hit_at(5, above, tied)
    per_resample = hits[ids].mean(axis=1)
    metric = m["recall_at_5_ecg_to_report"]
    assert metric.ci_low == pytest.approx(np.percentile(per_resample, 2.5))
    assert metric.ci_high == pytest.approx(np.percentile(per_resample, 97.5))
    assert metric.ci_low <= metric.value <= metric.ci_high


def test_metric_names_are_the_stable_ones():
    m = _suite(np.eye(12), np.eye(12, dtype=bool), same_labels=np.eye(12, dtype=bool), n_boot=5)
    expected = {f"{p}recall_at_{k}_{d}" for p in ("", "label_") for k in (1, 5, 10)
                for d in ("ecg_to_report", "report_to_ecg")}
    expected |= {f"median_rank_{d}" for d in ("ecg_to_report", "report_to_ecg")}
    assert set(m) == expected


def test_a_query_without_a_relevant_item_is_an_error():
    relevant = np.eye(3, dtype=bool)
    relevant[1, 1] = False
    with pytest.raises(DataError, match="query 1"):
        first_relevant(np.zeros((3, 3)), relevant)


def test_the_suite_reports_in_the_order_the_task_spec_lists():
    from ecgbench_more.plugin import RETRIEVE_REPORT

    m = retrieval_suite(np.eye(12), np.eye(12, dtype=bool), np.eye(12, dtype=bool), n_boot=5)
    assert [x.name for x in m] == [x.name for x in RETRIEVE_REPORT.metrics]
    assert m[0].name == RETRIEVE_REPORT.main_metric
