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
    assert result["auroc_measured"] == pytest.approx(roc_auc_score(truth[ok], score[ok]))
    # 4 positives x 2 negatives = 8 pairs; the abstained positive's 2 pairs count 1/2 each;
    # of the other 6: 210, 190, 230 beat 150 (3), and 210, 230 beat 205 (2) -> (5 + 1) / 8
    assert result["auroc"] == pytest.approx(6 / 8)
    assert result["coverage"] == pytest.approx(5 / 6)
    # predicted positive: 210, 230, 205 -> TP 2 of 3 positives, TN 1 of 2 negatives
    assert result["sensitivity"] == pytest.approx(2 / 3)
    assert result["specificity"] == pytest.approx(1 / 2)
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["n_abstained"] == 1


def _pairwise_auroc(score: np.ndarray, truth: np.ndarray) -> float:
    """AUROC by counting every (positive, negative) pair; NaN ties with everything."""
    credit = []
    for s_pos in score[truth]:
        for s_neg in score[~truth]:
            if np.isnan(s_pos) or np.isnan(s_neg) or s_pos == s_neg:
                credit.append(0.5)
            else:
                credit.append(float(s_pos > s_neg))
    return float(np.mean(credit))


def test_tied_auroc_counts_every_pair_with_an_abstention_as_a_tie():
    rng = np.random.default_rng(3)
    for _ in range(20):
        score = rng.integers(0, 6, 30).astype(float)
        score[rng.random(30) < 0.3] = np.nan
        truth = rng.random(30) < 0.4
        assert iv.tied_auroc(score, truth) == pytest.approx(_pairwise_auroc(score, truth))


def test_tied_auroc_without_abstentions_is_sklearns():
    rng = np.random.default_rng(4)
    score, truth = rng.normal(size=50), rng.random(50) < 0.3
    assert iv.tied_auroc(score, truth) == pytest.approx(roc_auc_score(truth, score))


def test_abstaining_on_the_hard_records_does_not_raise_the_auroc():
    # Ranked perfectly except two positives that a measurer would place below every negative.
    truth = np.array([True] * 6 + [False] * 6)
    honest = np.array([300.0, 290, 280, 270, 100, 90, 150, 140, 130, 120, 110, 105])
    abstains = honest.copy()
    abstains[[4, 5]] = np.nan
    ref = {"pr": np.where(truth, 250.0, 160.0), "qrs": np.full(12, 90.0), "qt": np.full(12, 400.0),
           "rr": np.full(12, 1000.0)}

    def auroc(pr):
        mea = {"pr": pr, "qrs": np.full(12, 90.0), "qt": np.full(12, 400.0), "qtc": np.full(12, 400.0),
               "hr": np.full(12, 60.0)}
        metrics = {m.name: m for m in iv.interval_suite(ref, mea, sex=np.full(12, "M"), n_boot=10)}
        return metrics["avb1_auroc"], metrics["coverage"]

    honest_auroc, _ = auroc(honest)
    abstained_auroc, coverage = auroc(abstains)
    assert honest_auroc.value == pytest.approx(24 / 36)
    assert abstained_auroc.value == pytest.approx((24 + 6) / 36)  # 12 pairs at 1/2 instead of 0
    assert abstained_auroc.value < 1.0
    assert abstained_auroc.params["auroc_measured"] == pytest.approx(1.0)
    assert abstained_auroc.params["coverage"] == pytest.approx(10 / 12)
    # coverage over both conditions: PR abstains on 2 of 12, QTc on none
    assert coverage.value == pytest.approx(22 / 24)
    assert coverage.params["per_condition"] == {"avb1": pytest.approx(10 / 12), "lqt": pytest.approx(1.0)}


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
    expected |= {f"{i}_{k}" for i in ("pr", "qrs", "qt", "qtc")
                 for k in ("sd", "within_10ms", "within_20ms", "within_40ms")}
    assert expected | {"avb1_auroc", "lqt_auroc", "coverage", "abstain_rate"} == set(metrics)
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
    assert metrics["avb1_auroc"].n == 200  # every record is scored


def test_error_spread_and_within_shares_hand_computed():
    ref = {"pr": np.full(6, 160.0), "qrs": np.full(6, 90.0), "qt": np.array([400.0, 400, 400, 400, 400, np.nan]),
           "rr": np.full(6, 1000.0)}
    mea = {"qt": np.array([405.0, 385, 430, 360, np.nan, 400])}
    metrics = {m.name: m for m in iv.interval_suite(ref, mea, sex=np.full(6, "M"), n_boot=10)}
    errors = np.array([5.0, -15, 30, -40])
    assert metrics["qt_sd"].value == pytest.approx(errors.std(ddof=1))
    # 5 records have a reference; the abstention (record 4) counts as outside every tolerance
    assert metrics["qt_within_10ms"].value == pytest.approx(1 / 5)
    assert metrics["qt_within_20ms"].value == pytest.approx(2 / 5)
    assert metrics["qt_within_40ms"].value == pytest.approx(4 / 5)
    assert metrics["qt_within_40ms"].n == 5


def test_grouped_bootstrap_resamples_whole_recordings():
    ref, mea, sex = cohort(n=40)
    copies = 5
    tiled_ref = {k: np.repeat(v, copies) for k, v in ref.items()}
    tiled_mea = {k: np.repeat(v, copies) for k, v in mea.items()}
    groups = np.repeat([f"rec{i:03d}" for i in range(40)], copies)
    grouped = {m.name: m for m in iv.interval_suite(tiled_ref, tiled_mea, sex=np.repeat(sex, copies),
                                                     groups=groups, n_boot=50)}
    single = {m.name: m for m in iv.interval_suite(ref, mea, sex=sex, n_boot=50)}
    # five identical windows per recording carry no more information than one
    for name in ("qt_mae", "pr_bias", "qt_within_10ms", "lqt_auroc"):
        assert grouped[name].value == pytest.approx(single[name].value)
        assert (grouped[name].ci_low, grouped[name].ci_high) == pytest.approx((single[name].ci_low, single[name].ci_high))
    ungrouped = {m.name: m for m in iv.interval_suite(tiled_ref, tiled_mea, sex=np.repeat(sex, copies), n_boot=50)}
    assert ungrouped["qt_mae"].ci_high - ungrouped["qt_mae"].ci_low < grouped["qt_mae"].ci_high - grouped["qt_mae"].ci_low
    assert "40 recordings" in grouped["qt_mae"].params["ci"]


def test_beats_match_the_nearest_measured_beat_of_the_same_record_within_tolerance():
    match = iv.match_beats(
        reference_record=np.array([0, 0, 1, 1, 2]),
        reference_time=np.array([1.00, 2.00, 1.00, 3.00, 1.0]),
        measured_record=np.array([1, 0, 0, 1, 3]),
        measured_time=np.array([1.10, 1.05, 2.30, 1.02, 1.0]),
    )
    # record 0: 1.00 -> 1.05 (row 1); 2.00 -> nothing within 0.15 s (2.30 is too far)
    # record 1: 1.00 -> 1.02 (row 3) rather than 1.10; 3.00 -> nothing; record 2 has no beat
    assert match.tolist() == [1, -1, 3, -1, -1]


def _fiducials(record, r, **bounds):
    m = len(record)
    values = {k: np.asarray(bounds.get(k, np.full(m, np.nan)), dtype=np.float64) for k in iv.FIDUCIAL_NAMES}
    return iv.BeatFiducials(np.asarray(record, dtype=np.int64), np.asarray(r, dtype=np.float64), **values)


def test_fiducial_errors_bias_sd_and_within_shares_hand_computed():
    reference = {
        "record": np.array([0, 0, 1, 1]),
        "time": np.array([1.0, 2.0, 1.0, 2.0]),
        "p_on": np.array([0.80, 1.80, 0.80, np.nan]),
        "qrs_on": np.array([0.95, 1.95, 0.95, 1.95]),
        "qrs_off": np.array([1.05, 2.05, 1.05, 2.05]),
        "t_off": np.array([1.40, 2.40, 1.40, 2.40]),
    }
    measured = _fiducials(
        [0, 0, 1], [1.01, 2.01, 1.0],
        p_on=[0.805, 1.78, np.nan], qrs_on=[0.955, 1.955, 0.94], qrs_off=[1.05, 2.06, 1.03],
        t_off=[1.43, 2.36, 1.40],
    )
    errors, match = iv.fiducial_errors(reference, measured)
    assert match.tolist() == [0, 1, 2, -1]
    np.testing.assert_allclose(errors["t_off"][:3], [30.0, -40.0, 0.0], atol=1e-9)
    assert np.isnan(errors["t_off"][3])  # the beat was not found
    metrics = {m.name: m for m in iv.fiducial_suite(reference, measured, n_boot=10)}
    t = np.array([30.0, -40.0, 0.0])
    assert metrics["t_off_bias"].value == pytest.approx(t.mean())
    assert metrics["t_off_sd"].value == pytest.approx(t.std(ddof=1))
    assert metrics["t_off_within_20ms"].value == pytest.approx(1 / 4)  # a missed beat is outside
    assert metrics["t_off_within_40ms"].value == pytest.approx(3 / 4)
    # p_on: 3 marked beats, the third abstained -> errors 5 and -20 over 3 marked
    assert metrics["p_on_bias"].value == pytest.approx(-7.5)
    assert metrics["p_on_within_10ms"].value == pytest.approx(1 / 3)
    # the literature's SD: mean over recordings of the SD within each (record 1 has one error)
    assert metrics["t_off_sd"].params["sd_within_recording_mean"] == pytest.approx(np.std([30.0, -40.0], ddof=1))


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
