"""Interval metrics against scipy, scikit-learn and hand-computed values; the plots."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score

from ecgbench.errors import ConfigError, DataError
from ecgbench.metrics import intervals as iv
from ecgbench.metrics.plots import bland_altman_png, roc_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_qtc_formulas_hand_computed():
    qt, rr = np.array([400.0, 400.0]), np.array([1000.0, 640.0])
    np.testing.assert_allclose(iv.qtc(qt, rr, "bazett"), [400.0, 500.0])
    np.testing.assert_allclose(iv.qtc(qt, rr, "fridericia"), [400.0, 400.0 / 0.64 ** (1 / 3)])
    np.testing.assert_allclose(iv.qtc(qt, rr, "framingham"), [400.0, 400.0 + 154.0 * 0.36])


def test_unknown_qtc_formula_is_a_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match="bazett, fridericia, framingham"):
        iv.qtc(np.array([400.0]), np.array([1000.0]), "hodges")


def test_agreement_hand_computed_with_scipy_pearson():
    ref = np.array([100.0, 120.0, 140.0, 160.0, np.nan, 180.0])
    mea = np.array([104.0, 118.0, 149.0, np.nan, 150.0, 185.0])
    result = iv.agreement(ref, mea)
    diff = np.array([4.0, -2.0, 9.0, 5.0])
    assert result["n_pairs"] == 4
    assert result["mae"] == pytest.approx(np.abs(diff).mean())
    assert result["bias"] == pytest.approx(diff.mean())
    assert result["loa_high"] == pytest.approx(diff.mean() + 1.96 * diff.std(ddof=1))
    assert result["loa_low"] == pytest.approx(diff.mean() - 1.96 * diff.std(ddof=1))
    ok = [0, 1, 2, 5]
    assert result["pearson_r"] == pytest.approx(pearsonr(ref[ok], mea[ok]).statistic, abs=1e-6)
    assert result["abstain_rate"] == pytest.approx(1 / 5)  # record 4 has no reference


def test_detection_hand_computed_and_sklearn_auroc():
    score = np.array([150.0, 210.0, 190.0, 230.0, np.nan, 205.0])
    truth = np.array([False, True, True, True, True, False])
    result = iv.detection(score, truth, 200.0)
    ok = np.isfinite(score)
    assert result["auroc"] == pytest.approx(roc_auc_score(truth[ok], score[ok]))
    # predicted positive: 210, 230, 205 -> TP 2 of 3 positives, TN 1 of 2 negatives
    assert result["sensitivity"] == pytest.approx(2 / 3)
    assert result["specificity"] == pytest.approx(1 / 2)
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["n_abstained"] == 1


def cohort(n: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    ref = {
        "pr": rng.normal(175, 30, n),
        "qrs": rng.normal(95, 12, n),
        "qt": rng.normal(400, 35, n),
        "rr": rng.normal(900, 150, n),
    }
    mea = {k: ref[k] + rng.normal(2, 6, n) for k in ("pr", "qrs", "qt")}
    mea["hr"] = 60000 / ref["rr"] + rng.normal(0, 2, n)
    mea["qtc"] = iv.qtc(mea["qt"], ref["rr"], "bazett")
    sex = np.array(["M", "F", ""])[rng.integers(0, 3, n)]
    return ref, mea, sex


def test_interval_suite_names_and_agreement_values():
    ref, mea, sex = cohort()
    metrics = {m.name: m for m in iv.interval_suite(ref, mea, sex=sex, n_boot=20)}
    expected = {f"{i}_{k}" for i in iv.INTERVAL_NAMES for k in ("mae", "pearson_r", "bias")}
    assert expected | {"avb1_auroc", "lqt_auroc", "abstain_rate"} == set(metrics)
    assert metrics["pr_mae"].value == pytest.approx(np.abs(mea["pr"] - ref["pr"]).mean())
    ref_qtc = ref["qt"] / np.sqrt(ref["rr"] / 1000)
    assert metrics["qtc_mae"].value == pytest.approx(np.abs(mea["qtc"] - ref_qtc).mean())
    assert metrics["hr_bias"].value == pytest.approx(np.mean(mea["hr"] - 60000 / ref["rr"]))
    assert metrics["qtc_mae"].params["qtc_formula"] == "bazett"
    assert metrics["lqt_auroc"].params["qtc_formula"] == "bazett"
    assert "loa_low" in metrics["qt_bias"].params
    for m in metrics.values():
        if m.ci_low is not None:
            assert m.ci_low <= m.value <= m.ci_high, m.name


def test_avb1_truth_comes_from_reference_pr_above_200():
    ref, mea, sex = cohort()
    metric = next(
        m for m in iv.interval_suite(ref, mea, sex=sex, n_boot=10) if m.name == "avb1_auroc"
    )
    assert metric.value == pytest.approx(roc_auc_score(ref["pr"] > 200, mea["pr"]))
    assert metric.params["n_positive"] == int((ref["pr"] > 200).sum())


def test_long_qt_uses_the_sex_cut_offs_and_they_are_configurable():
    ref, mea, sex = cohort()
    ref_qtc = ref["qt"] / np.sqrt(ref["rr"] / 1000)
    cut = np.where(sex == "F", 460.0, 450.0)
    metric = next(
        m for m in iv.interval_suite(ref, mea, sex=sex, n_boot=10) if m.name == "lqt_auroc"
    )
    assert metric.value == pytest.approx(roc_auc_score(ref_qtc > cut, mea["qtc"] - cut))
    assert metric.params["accuracy"] == pytest.approx(
        np.mean((mea["qtc"] > cut) == (ref_qtc > cut))
    )
    custom = {"M": 440.0, "F": 470.0, "": 440.0}
    other = next(
        m
        for m in iv.interval_suite(ref, mea, sex=sex, n_boot=10, lqt_cutoffs_ms=custom)
        if m.name == "lqt_auroc"
    )
    assert other.params["cutoffs_ms"] == custom
    assert other.params["n_positive"] != metric.params["n_positive"]


def test_given_truth_overrides_the_derived_one():
    ref, mea, sex = cohort()
    truth = np.zeros(len(sex), bool)
    truth[:20] = True
    metric = next(
        m
        for m in iv.interval_suite(ref, mea, sex=sex, avb1_truth=truth, n_boot=10)
        if m.name == "avb1_auroc"
    )
    assert metric.value == pytest.approx(roc_auc_score(truth, mea["pr"]))
    assert metric.params["truth"] == "given"


def test_reference_qtc_follows_the_requested_formula():
    ref, mea, sex = cohort()
    mea["qtc"] = iv.qtc(mea["qt"], ref["rr"], "fridericia")
    metrics = {
        m.name: m for m in iv.interval_suite(ref, mea, sex=sex, qtc_formula="fridericia", n_boot=10)
    }
    ref_qtc = iv.qtc(ref["qt"], ref["rr"], "fridericia")
    assert metrics["qtc_mae"].value == pytest.approx(np.abs(mea["qtc"] - ref_qtc).mean())
    assert metrics["qtc_mae"].params["qtc_formula"] == "fridericia"


def test_abstentions_are_counted_not_scored():
    ref, mea, sex = cohort()
    mea["qt"][:10] = np.nan
    mea["pr"][:30] = np.nan
    metrics = {m.name: m for m in iv.interval_suite(ref, mea, sex=sex, n_boot=10)}
    assert metrics["qt_mae"].n == 190
    assert metrics["abstain_rate"].value == pytest.approx(40 / (5 * 200))
    assert metrics["abstain_rate"].params["per_interval"]["pr"] == pytest.approx(0.15)
    assert metrics["avb1_auroc"].params["n_abstained"] == 30


def test_unknown_sex_is_a_data_error():
    ref, mea, sex = cohort(n=20)
    sex[3] = "X"
    with pytest.raises(DataError, match="X"):
        iv.interval_suite(ref, mea, sex=sex, n_boot=5)


def test_bland_altman_and_roc_plots_are_png_files(tmp_path):
    ref, mea, _ = cohort(n=50)
    mea["pr"][:3] = np.nan
    path = bland_altman_png(ref["pr"], mea["pr"], "PR", "ms", tmp_path / "plots" / "pr.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    path = roc_png(mea["pr"], ref["pr"] > 200, "first-degree AV block", tmp_path / "roc.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_a_given_reference_qtc_is_used_when_rr_is_missing():
    ref, mea, sex = cohort()
    given = {"pr": ref["pr"], "qrs": ref["qrs"], "qt": ref["qt"], "hr": 60000 / ref["rr"], "qtc": ref["qt"] + 7.0}
    metrics = {m.name: m for m in iv.interval_suite(given, mea, sex=sex, n_boot=5)}
    assert metrics["qtc_mae"].value == pytest.approx(np.abs(mea["qtc"] - given["qtc"]).mean())


def test_a_cohort_without_reference_values_gives_nan_not_an_error():
    _, mea, sex = cohort(n=30)
    empty = {k: np.full(30, np.nan) for k in ("pr", "qrs", "qt", "hr", "qtc")}
    metrics = {m.name: m for m in iv.interval_suite(empty, mea, sex=sex, n_boot=5)}
    assert np.isnan(metrics["pr_mae"].value)
    assert metrics["pr_mae"].n == 0
    assert np.isnan(metrics["avb1_auroc"].value)
