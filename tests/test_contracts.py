"""Every contract clause rejects what it should and names the model and the clause."""

import numpy as np
import pytest

from ecgbench.contracts.classify import check_probabilities
from ecgbench.contracts.generate import check_nfe, check_samples
from ecgbench.contracts.image import check_answers
from ecgbench.contracts.intervals import IntervalMeasurements, check_measurements, qtc
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
