"""The prototype-phenotype statistics against hand computations, scipy, scikit-learn and
(where installed) statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2
from sklearn.metrics import roc_auc_score

from ecgbench.data.labels import SCP_CODES, SCP_INDEX
from ecgbench.errors import DataError
from ecgbench.phenotype import (
    align_outcomes,
    associate,
    auroc_bootstrap_ci,
    auroc_columns,
    benjamini_hochberg,
    fit_logistic,
    lr_pvalue,
    null_loglik,
    write_report,
)


def test_benjamini_hochberg_matches_a_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.20])
    # sorted: 0.005, 0.01, 0.03, 0.04, 0.20 -> p * 5 / rank = 0.025, 0.025, 0.05, 0.05, 0.20;
    # step-up minimum from the top keeps them; back in input order:
    expected = np.array([0.025, 0.05, 0.05, 0.025, 0.20])
    np.testing.assert_allclose(benjamini_hochberg(p), expected)


def test_benjamini_hochberg_is_monotone_and_capped():
    p = np.array([0.9, 0.04, 0.041, 0.95])
    # ranks: 0.04 -> 0.04*4/1 = 0.16, 0.041 -> 0.041*4/2 = 0.082, 0.9 -> 1.2, 0.95 -> 0.95
    # step-up: min from the top = [0.082, 0.082, 0.95, 0.95]
    np.testing.assert_allclose(benjamini_hochberg(p), [0.95, 0.082, 0.082, 0.95])


def test_benjamini_hochberg_leaves_nan_out_of_the_count():
    q = benjamini_hochberg(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], [0.02, 0.02])


def _logistic_data(n=400, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 0.8 * x[:, 0] - 0.5 * x[:, 1])))).astype(float)
    return x, y


def test_logistic_fit_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    x, y = _logistic_data()
    fit = fit_logistic(x, y)
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    np.testing.assert_allclose(fit.coef, ref.params, rtol=1e-6)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-5)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-9)
    assert null_loglik(y) == pytest.approx(ref.llnull, rel=1e-9)
    assert fit.converged


def test_logistic_fit_maximises_the_likelihood():
    x, y = _logistic_data()
    fit = fit_logistic(x, y)
    X1 = np.column_stack([np.ones(len(y)), x])
    p = 1 / (1 + np.exp(-X1 @ fit.coef))
    np.testing.assert_allclose(X1.T @ (y - p), 0, atol=1e-8)  # the score equations hold


def test_logistic_fit_flags_complete_separation():
    x = np.arange(20, dtype=float)[:, None]
    y = (x[:, 0] >= 10).astype(float)
    assert not fit_logistic(x, y).converged


def test_lr_pvalue_is_the_chi2_tail_of_twice_the_loglik_gain():
    assert lr_pvalue(-10.0, -12.5, df=1) == pytest.approx(chi2.sf(5.0, 1))
    assert lr_pvalue(-10.0, -10.0) == 1.0


def test_auroc_columns_match_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    scores = np.round(rng.normal(size=(60, 3)) + y[:, None] * [1.0, 0.0, -0.5], 1)
    expected = [roc_auc_score(y, scores[:, j]) for j in range(3)]
    np.testing.assert_allclose(auroc_columns(y, scores), expected)


def test_auroc_bootstrap_interval_contains_the_estimate_and_repeats():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    scores = rng.normal(size=(80, 2)) + y[:, None]
    lo, hi = auroc_bootstrap_ci(y, scores, n_boot=100, seed=3)
    auc = auroc_columns(y, scores)
    assert np.all(lo <= auc) and np.all(auc <= hi)
    lo2, hi2 = auroc_bootstrap_ci(y, scores, n_boot=100, seed=3)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(hi, hi2)


def test_align_outcomes_orders_rows_by_cohort_and_fills_missing_with_nan():
    table = pd.DataFrame({"record_id": ["b", "a"], "death": [1, 0]})
    aligned = align_outcomes(["a", "b", "c"], table)
    assert aligned["death"].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(aligned["death"].iloc[2])


def test_align_outcomes_rejects_a_non_binary_value_naming_the_column():
    table = pd.DataFrame({"record_id": ["a", "b"], "death": [1, 2]})
    with pytest.raises(DataError, match="death"):
        align_outcomes(["a", "b"], table)


def _cohort(n=300, seed=0):
    """Outcome driven by a hidden feature that prototype 1 tracks and the class score does not."""
    rng = np.random.default_rng(seed)
    hidden = rng.normal(size=n)
    sims = np.column_stack(
        [rng.normal(size=n), hidden + 0.3 * rng.normal(size=n), rng.normal(size=n)]
    )
    scores = np.full((n, len(SCP_CODES)), 0.5)
    scores[:, SCP_INDEX["CLBBB"]] = 1 / (1 + np.exp(-rng.normal(size=n)))
    y = (hidden > 0).astype(float)
    info = [{"class": "CLBBB", "branch": "local"}] * 3
    return sims, info, scores, pd.DataFrame({"wide": y})


def test_associate_finds_the_prototype_that_tracks_the_outcome_and_not_the_class():
    sims, info, scores, outcomes = _cohort()
    result = associate(sims, info, scores, outcomes, n_boot=50)
    pp = result.per_prototype.set_index("prototype")
    assert pp.loc[1, "q_beyond_class"] < 1e-6
    assert pp.loc[1, "auroc"] > 0.9
    assert pp.loc[0, "q_value"] > 0.05 and pp.loc[2, "q_value"] > 0.05
    clbbb = result.per_class.set_index("class").loc["CLBBB"]
    assert clbbb["q_value"] > 0.05


def test_associate_p_values_equal_direct_fits():
    sims, info, scores, outcomes = _cohort()
    result = associate(sims, info, scores, outcomes, n_boot=20)
    y = outcomes["wide"].to_numpy()
    z = (sims[:, 0] - sims[:, 0].mean()) / sims[:, 0].std()
    expected = lr_pvalue(fit_logistic(z[:, None], y).loglik, null_loglik(y))
    assert result.per_prototype.iloc[0]["p_value"] == pytest.approx(expected)


def test_associate_leaves_out_records_without_an_outcome():
    sims, info, scores, outcomes = _cohort()
    outcomes.loc[:99, "wide"] = np.nan
    result = associate(sims, info, scores, outcomes, n_boot=20)
    assert result.outcomes.loc["wide", "n"] == 200


def test_associate_skips_an_outcome_with_too_few_events():
    sims, info, scores, outcomes = _cohort()
    outcomes["rare"] = 0.0
    outcomes.loc[:2, "rare"] = 1.0
    result = associate(sims, info, scores, outcomes, n_boot=20)
    assert not result.outcomes.loc["rare", "analysed"]
    assert (result.per_prototype["outcome"] == "rare").sum() == 0


def test_write_report_writes_tables_summary_and_plot(tmp_path):
    sims, info, scores, outcomes = _cohort()
    paths = write_report(associate(sims, info, scores, outcomes, n_boot=20), tmp_path)
    for path in paths.values():
        assert (tmp_path / path.split("/")[-1]).stat().st_size > 0
    assert pd.read_csv(paths["per_prototype"]).shape[0] == 3
