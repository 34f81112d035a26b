"""Classification metrics against scikit-learn and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from ecgbench.data.labels import N_LABELS, SCP_CODES, SUBSETS, subset_view
from ecgbench.errors import DataError
from ecgbench.metrics import classification as c
from ecgbench.metrics.bootstrap import bootstrap_indices, fixed_resamples, resample_counts


def predictions(n: int = 300, labels: int = 12, seed: int = 0, signal: float = 0.35):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, labels)) < rng.uniform(0.05, 0.4, labels)).astype(np.uint8)
    score = np.clip(signal * y + rng.random((n, labels)) * 0.7, 0, 1).round(
        2
    )  # rounding makes ties
    return y, score


def test_macro_auroc_equals_sklearn_on_the_kept_columns_and_names_the_dropped():
    y, s = predictions()
    y[:, 3] = 0
    y[:, 7] = 1
    value, dropped = c.macro_auroc(y, s)
    kept = [j for j in range(y.shape[1]) if j not in (3, 7)]
    assert dropped == [3, 7]
    assert value == pytest.approx(roc_auc_score(y[:, kept], s[:, kept], average="macro"), abs=1e-6)


def test_per_label_auroc_equals_sklearn_and_is_nan_where_undefined():
    y, s = predictions(seed=1)
    y[:, 0] = 0
    per = c.per_label_auroc(y, s)
    assert np.isnan(per[0])
    np.testing.assert_allclose(
        per[1:], [roc_auc_score(y[:, j], s[:, j]) for j in range(1, y.shape[1])], atol=1e-6
    )


def test_weighted_auroc_equals_sklearn_on_the_materialised_resample():
    y, s = predictions(n=80, labels=1, seed=2)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 80, 80)
    counts = np.bincount(idx, minlength=80)[None].astype(float)
    expected = roc_auc_score(y[idx, 0], s[idx, 0])
    assert c._weighted_auroc(y[:, 0].astype(bool), s[:, 0], counts)[0] == pytest.approx(
        expected, abs=1e-12
    )


def sklearn_f(y, s, t):
    pred = (s >= t).astype(int)
    if pred.sum() == 0:
        return 0.0
    p = precision_score(y, pred, average="samples", zero_division=np.nan)
    r = recall_score(y, pred, average="samples", zero_division=np.nan)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def test_f_at_threshold_equals_sklearn_sample_averages():
    y, s = predictions(n=120, seed=3)
    y[:4] = 0  # records without labels: out of recall, in precision when they predict
    for t in (0.2, 0.5, 0.8):
        assert c.f_at_threshold(y, s, t) == pytest.approx(sklearn_f(y, s, t), abs=1e-6)


def test_fmax_is_the_best_sklearn_f_over_the_threshold_grid():
    y, s = predictions(n=100, labels=8, seed=4)
    fmax, t = c.fmax_threshold(y, s)
    values = [sklearn_f(y, s, th) for th in np.linspace(0, 1, 101)]
    assert fmax == pytest.approx(max(values), abs=1e-6)
    assert t == pytest.approx(np.linspace(0, 1, 101)[int(np.argmax(values))])


def test_fmax_hand_computed_case():
    y = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=np.uint8)
    s = np.array([[0.9, 0.8, 0.4], [0.1, 0.7, 0.2], [0.6, 0.1, 0.1]])
    # t = 0.5: record 0 predicts {0, 1} -> P 1/2, R 1/2; record 1 predicts {1} -> P 1, R 1;
    # record 2 predicts {0} -> P 0 (no labels, so out of recall). P = 1/2, R = 3/4, F = 0.6
    assert c.f_at_threshold(y, s, 0.5) == pytest.approx(0.6)
    # t = 0.3: record 0 predicts {0, 1, 2} (P 2/3, R 1); record 1 {1} (1, 1); record 2 {0} (0)
    assert c.f_at_threshold(y, s, 0.3) == pytest.approx(2 * (5 / 9) * 1 / (5 / 9 + 1))
    assert c.f_at_threshold(y, s, 0.95) == 0.0  # nothing predicted


def full_predictions(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, N_LABELS)) < 0.08).astype(np.uint8)
    y[np.arange(n), rng.integers(0, N_LABELS, n)] = 1
    s = np.clip(0.3 * y + 0.7 * rng.random((n, N_LABELS)), 0, 1)
    return y, s


def test_suite_subset_scores_equal_sklearn_on_the_subset_records_with_a_label():
    y, s = full_predictions()
    metrics = {m.name: m for m in c.classification_suite(y, s, n_boot=20)}
    assert set(c.SUBSET_METRICS.values()) | {"macro_auroc", "fmax_test_threshold"} == set(metrics)
    for subset in SUBSETS:
        t, _ = subset_view(y, subset)
        p, _ = subset_view(s, subset)
        rows = t.any(axis=1)
        kept = [j for j in range(t.shape[1]) if 0 < t[rows, j].sum() < rows.sum()]
        expected = roc_auc_score(t[rows][:, kept], p[rows][:, kept], average="macro")
        assert metrics[c.SUBSET_METRICS[subset]].value == pytest.approx(expected, abs=1e-6)
        assert metrics[c.SUBSET_METRICS[subset]].n == rows.sum()
    assert metrics["macro_auroc"].value == metrics["macro_auroc_all"].value


def test_suite_reports_dropped_codes_and_per_label_values():
    y, s = full_predictions()
    y[:, SCP_CODES.index("WPW")] = 0
    main = next(m for m in c.classification_suite(y, s, n_boot=10) if m.name == "macro_auroc")
    assert "WPW" in main.params["dropped_labels"]
    assert main.params["per_label"]["WPW"] is None
    assert main.params["n_labels_scored"] == N_LABELS - len(main.params["dropped_labels"])


def test_suite_fmax_takes_its_threshold_from_validation():
    y, s = full_predictions(seed=1)
    vy, vs = full_predictions(seed=2)
    metrics = {
        m.name: m for m in c.classification_suite(y, s, val_true=vy, val_score=vs, n_boot=10)
    }
    _, t_val = c.fmax_threshold(vy, vs)
    assert metrics["fmax"].params["threshold"] == t_val
    assert metrics["fmax"].params["threshold_source"].startswith("validation")
    assert metrics["fmax"].value == pytest.approx(c.f_at_threshold(y, s, t_val))
    assert metrics["fmax_test_threshold"].value == pytest.approx(c.fmax_threshold(y, s)[0])
    assert metrics["fmax_test_threshold"].value >= metrics["fmax"].value - 1e-12


def test_suite_intervals_hold_the_value_and_repeat_with_the_seed():
    y, s = full_predictions()
    first = c.classification_suite(y, s, n_boot=30, seed=4)
    assert first == c.classification_suite(y, s, n_boot=30, seed=4)
    for m in first:
        assert m.ci_low <= m.value <= m.ci_high, m.name


def test_paired_bootstrap_of_a_model_with_itself_is_a_zero_difference():
    y, s = predictions(seed=5)
    result = c.paired_bootstrap(y, s, s, n_boot=200)
    assert result["difference"] == 0.0
    assert result["p_value"] == 1.0


def test_paired_bootstrap_detects_a_clearly_better_model():
    y, s = predictions(seed=6, signal=0.5)
    worse = np.clip(s + np.random.default_rng(0).normal(0, 0.3, s.shape), 0, 1)
    result = c.paired_bootstrap(y, s, worse, n_boot=300)
    assert result["difference"] > 0
    assert result["ci_low"] > 0
    assert result["p_value"] < 0.01


def test_paired_bootstrap_with_a_custom_metric_matches_the_default_path():
    y, s = predictions(n=120, seed=7)
    other = np.clip(s + np.random.default_rng(1).normal(0, 0.2, s.shape), 0, 1)
    default = c.paired_bootstrap(y, s, other, n_boot=20, seed=3)

    def sklearn_macro(yy, ss):
        keep = (yy.sum(axis=0) > 0) & (yy.sum(axis=0) < len(yy))
        return roc_auc_score(yy[:, keep], ss[:, keep], average="macro")

    custom = c.paired_bootstrap(y, s, other, metric=sklearn_macro, n_boot=20, seed=3)
    assert custom["difference"] == pytest.approx(default["difference"], abs=1e-9)
    assert custom["ci_low"] == pytest.approx(default["ci_low"], abs=1e-9)


def test_non_finite_scores_are_rejected_naming_the_record():
    y, s = predictions()
    s[5, 2] = np.nan
    with pytest.raises(DataError, match="record 5"):
        c.macro_auroc(y, s)


def test_max_aggregated_subsets_do_not_carry_the_ptbxl_benchmark_names():
    y, s = full_predictions()
    metrics = {m.name: m for m in c.classification_suite(y, s, n_boot=5)}
    for subset in ("subdiagnostic", "superdiagnostic"):
        assert f"macro_auroc_{subset}" not in metrics
        renamed = metrics[f"macro_auroc_{subset}_from71"]
        assert "not comparable with the PTB-XL benchmark" in renamed.params["aggregation"]
        assert c.RENAMED_METRICS[f"macro_auroc_{subset}"] == renamed.name
    for subset in ("all", "diagnostic", "form", "rhythm"):  # the benchmark's own statements and records
        assert f"macro_auroc_{subset}" in metrics


# ------------------------------------------------------------ intervals over a fixed label set


def rare_label_case(n: int = 400, seed: int = 1):
    """19 labels with a single positive ranked first, one ordinary label near chance (AUROC ~0.41)."""
    rng = np.random.default_rng(seed)
    y = np.zeros((n, 20), dtype=bool)
    s = rng.random((n, 20))
    for j in range(19):
        y[j, j], s[j, j] = True, 1.0
    y[:, 19] = rng.random(n) < 0.5
    s[:, 19] = rng.random(n) - 0.1 * y[:, 19]
    return y, s


def test_every_resample_averages_over_the_labels_of_the_point_estimate():
    y, s = rare_label_case()
    metric = c.macro_auroc_metric("macro_auroc", y, s, [f"L{j}" for j in range(20)], n_boot=200)
    ordinary = roc_auc_score(y[:, 19], s[:, 19])
    assert metric.value == pytest.approx((19 + ordinary) / 20)
    assert metric.ci_low <= metric.value <= metric.ci_high
    # the single-positive labels score 1 in every resample: the spread is the ordinary label's, / 20
    assert metric.ci_low > 19 / 20 + (ordinary - 0.1) / 20
    assert metric.params["records_added_by_completion"] > 0


def test_completion_gives_every_kept_label_both_classes_by_adding_records_only():
    y, _ = rare_label_case(n=60)
    counts = resample_counts(bootstrap_indices(60, 50, np.random.default_rng(0)), 60)
    completed, added = c.complete_resamples(counts, y, np.random.default_rng(1))
    assert ((completed @ y) > 0).all() and ((completed @ ~y) > 0).all()
    assert (completed >= counts).all() and completed.sum() - counts.sum() == added
    untouched = ((counts @ y) > 0).all(axis=1) & ((counts @ ~y) > 0).all(axis=1)
    np.testing.assert_array_equal(completed[untouched], counts[untouched])


def test_fixed_resamples_are_used_as_given_and_skip_a_resample_missing_a_class():
    y, s = rare_label_case(n=40)
    ids = np.random.default_rng(0).integers(0, 40, size=(30, 40))
    with fixed_resamples(ids):
        counts, rule = c.label_resamples(y, 30, 0, "classification_boot")
    np.testing.assert_array_equal(counts, resample_counts(ids, 40))
    assert "skipped" in rule["resample_rule"]


@st.composite
def rare_label_predictions(draw):
    n = draw(st.integers(20, 200))
    n_labels = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = np.zeros((n, n_labels), dtype=bool)
    for j in range(n_labels):
        k = draw(st.sampled_from([1, 1, 2, 3, max(1, n // 4)]))
        y[rng.choice(n, k, replace=False), j] = True
    signal = draw(st.floats(0.0, 2.0))
    s = rng.random((n, n_labels)) + signal * y
    if draw(st.booleans()):
        s = s.round(1)  # ties
    return y, s, seed % 1000


@settings(max_examples=60, deadline=None, derandomize=True)
@given(rare_label_predictions())
def test_the_macro_auroc_interval_contains_its_point_estimate(case):
    y, s, seed = case
    metric = c.macro_auroc_metric("m", y, s, [str(j) for j in range(y.shape[1])], n_boot=100, seed=seed)
    assert metric.ci_low <= metric.value <= metric.ci_high


# ------------------------------------------------------------------- paired comparison


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(0, 10_000))
def test_the_paired_interval_excludes_zero_exactly_when_p_is_below_005(seed):
    rng = np.random.default_rng(seed)
    n, n_labels = int(rng.integers(40, 150)), int(rng.integers(2, 6))
    y = (rng.random((n, n_labels)) < rng.uniform(0.03, 0.4, n_labels)).astype(np.uint8)
    a = np.clip(y * rng.uniform(0, 0.5) + rng.random((n, n_labels)), 0, 1)
    b = np.clip(y * rng.uniform(0, 0.5) + rng.random((n, n_labels)), 0, 1)
    result = c.paired_bootstrap(y, a, b, n_boot=200, seed=seed)
    excludes_zero = result["ci_low"] > 0 or result["ci_high"] < 0
    assert excludes_zero == (result["p_value"] < 0.05)
