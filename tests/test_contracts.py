"""Every contract clause rejects what it should and names the model and the clause."""

import numpy as np
import pytest

from ecgbench.contracts.classify import check_probabilities
from ecgbench.contracts.generate import check_nfe, check_samples
from ecgbench.contracts.image import check_answers
from ecgbench.contracts.intervals import (
    BeatFiducials,
    IntervalMeasurements,
    abstain_implausible,
    check_measurements,
    qtc,
)
from ecgbench.data.leads import twelve_from_independent
from ecgbench.errors import ContractViolation


def ecg_like(n=3, t=200, seed=0):
    """12-lead arrays that satisfy the limb-lead identities (built from 8 independent leads)."""
    rng = np.random.default_rng(seed)
    return twelve_from_independent(rng.normal(0, 0.3, (n, 8, t))).astype(np.float32)


def violation(fn, *args, **kwargs) -> ContractViolation:
    with pytest.raises(ContractViolation) as info:
        fn(*args, **kwargs)
    assert "'gen'" in str(info.value) or "'clf'" in str(info.value) or "'m'" in str(info.value)
    return info.value


def test_valid_generated_records_pass():
    x = ecg_like()
    assert check_samples(x, n=3, n_samples=200, model="gen") is x


@pytest.mark.parametrize(
    ("mutate", "clause"),
    [
        (lambda x: x[:2], "shape"),
        (lambda x: x[:, :, :100], "shape"),
        (lambda x: x.astype(np.float64), "dtype"),
        (lambda x: np.where(np.arange(200) == 5, np.nan, x).astype(np.float32), "finite"),
        (lambda x: x * 1000, "mV"),
        (lambda x: x[:, [0, 1, 6, 3, 4, 5, 2, 7, 8, 9, 10, 11]], "lead"),
    ],
    ids=["missing-records", "short", "float64", "nan", "microvolts", "lead-order"],
)
def test_generated_records_that_break_a_clause_are_rejected(mutate, clause):
    error = violation(check_samples, mutate(ecg_like()), n=3, n_samples=200, model="gen")
    assert clause in error.clause


def test_a_list_is_not_an_array():
    assert (
        "numpy array"
        in violation(check_samples, ecg_like().tolist(), n=3, n_samples=200, model="gen").clause
    )


def test_nfe_must_be_a_non_negative_int():
    assert check_nfe(np.int64(10), model="gen") == 10
    violation(check_nfe, -1, model="gen")
    violation(check_nfe, 2.5, model="gen")


def test_probabilities_outside_zero_one_are_rejected():
    p = np.full((4, 71), 0.5, dtype=np.float32)
    check_probabilities(p, n=4, model="clf")
    p[1, 2] = 1.5
    assert "[0, 1]" in violation(check_probabilities, p, n=4, model="clf").clause


def test_probabilities_need_71_columns():
    violation(check_probabilities, np.zeros((4, 44), dtype=np.float32), n=4, model="clf")


def _measurements(**changes):
    n = 3
    values = {
        k: np.full(n, v)
        for k, v in (("pr", 160.0), ("qrs", 90.0), ("qt", 400.0), ("qtc", 420.0), ("hr", 70.0))
    }
    values.update(changes)
    return IntervalMeasurements(**values)


def test_nan_measurements_mean_abstain_and_pass():
    check_measurements(_measurements(pr=np.array([np.nan, 150.0, np.nan])), n=3, model="m")


def test_measurements_in_seconds_are_rejected():
    error = violation(check_measurements, _measurements(hr=np.full(3, 1.2)), n=3, model="m")
    assert "hr" in error.clause


def test_an_unknown_qtc_formula_is_rejected():
    violation(check_measurements, _measurements(qtc_formula="hodges"), n=3, model="m")


def _beats(**changes):
    """Two beats of record 0 and one of record 2, boundaries in seconds."""
    values = {
        "record": np.array([0, 0, 2]),
        "r": np.array([1.0, 2.0, 1.5]),
        "p_on": np.array([0.8, np.nan, 1.3]),
        "qrs_on": np.array([0.96, 1.96, 1.46]),
        "qrs_off": np.array([1.05, 2.05, 1.55]),
        "t_off": np.array([1.36, 2.36, np.nan]),
    }
    values.update(changes)
    return BeatFiducials(**values)


def test_measurements_without_fiducials_still_satisfy_the_contract():
    assert _measurements().fiducials is None
    check_measurements(_measurements(), n=3, model="m")


def test_beat_fiducials_with_nan_boundaries_pass():
    check_measurements(_measurements(fiducials=_beats()), n=3, model="m", duration_s=10.0)
    check_measurements(_measurements(fiducials=BeatFiducials.empty()), n=3, model="m")


@pytest.mark.parametrize(
    ("changes", "clause"),
    [
        ({"record": np.array([0, 0, 3])}, "fiducials.record lies in [0, 3)"),
        ({"record": np.array([0.0, 0.0, 2.0])}, "fiducials.record has dtype int64"),
        ({"r": np.array([1.0, np.nan, 1.5])}, "fiducials.r is finite"),
        ({"t_off": np.array([1.36, 2.36, 12.0])}, "fiducials.t_off are seconds inside the record"),
        ({"qrs_off": np.array([0.9, 2.05, 1.55])}, "fiducials.qrs_on <= fiducials.qrs_off"),
        ({"p_on": np.array([0.8, 2.0])}, "fiducials.p_on has shape [3]"),
    ],
)
def test_beat_fiducials_that_break_a_clause_are_rejected(changes, clause):
    error = violation(check_measurements, _measurements(fiducials=_beats(**changes)), n=3, model="m",
                      duration_s=10.0)
    assert clause in error.clause


def test_implausible_values_become_counted_abstentions():
    values, counts = abstain_implausible({
        "pr": np.array([160.0, 20.0, np.nan]),
        "qrs": np.array([564.0, 90.0, 100.0]),
        "qt": np.array([400.0, 900.0, 150.0]),
        "qtc": np.array([420.0, 1400.0, 200.0]),
    })
    np.testing.assert_array_equal(values["pr"], [160.0, np.nan, np.nan])
    np.testing.assert_array_equal(values["qrs"], [np.nan, 90.0, 100.0])
    np.testing.assert_array_equal(values["qt"], [400.0, np.nan, np.nan])
    assert counts == {"pr": 1, "qrs": 1, "qt": 2}
    np.testing.assert_array_equal(values["qtc"], [420.0, 1400.0, 200.0])  # derived, not judged here


def test_qtc_formulas_match_hand_computation():
    assert qtc(np.array([400.0]), np.array([1000.0]), "bazett")[0] == pytest.approx(400.0)
    assert qtc(np.array([360.0]), np.array([640.0]), "bazett")[0] == pytest.approx(450.0)
    assert qtc(np.array([360.0]), np.array([729.0]), "fridericia")[0] == pytest.approx(400.0)
    assert qtc(np.array([360.0]), np.array([500.0]), "framingham")[0] == pytest.approx(437.0)


def test_answers_must_be_one_string_per_question():
    assert check_answers(["yes", "no"], n=2, model="m") == ["yes", "no"]
    violation(check_answers, ["yes"], n=2, model="m")
    violation(check_answers, ["yes", 3], n=2, model="m")
    violation(check_answers, ("yes", "no"), n=2, model="m")
