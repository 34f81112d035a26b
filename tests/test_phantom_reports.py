"""Free-text reports of the phantom cohort: written from the ground truth, varied, deterministic."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.data.phantom.reports import FINDING_WORDS, REPORT_VERSION


def _cohort(n: int = 600, **kwargs) -> ECGDataset:
    return load_phantom(PhantomConfig(n_records=n, cache=False, **kwargs))


@pytest.fixture(scope="module")
def cohort() -> ECGDataset:
    return _cohort()


def _has(ds: ECGDataset, code: str) -> np.ndarray:
    return ds.labels[:, SCP_INDEX[code]].astype(bool)


def _reports(ds: ECGDataset) -> np.ndarray:
    return np.array([r.lower() for r in ds.meta["report"]])


def test_every_record_has_a_report_and_the_info_names_the_wording_version(cohort):
    assert cohort.meta["report"].map(len).min() > 0
    assert cohort.info["report_version"] == REPORT_VERSION


def test_reports_are_fixed_by_the_seed():
    a, b, c = _cohort(200, seed=3), _cohort(200, seed=3), _cohort(200, seed=4)
    assert a.meta["report"].tolist() == b.meta["report"].tolist()
    assert a.meta["report"].tolist() != c.meta["report"].tolist()


def test_first_reports_do_not_depend_on_cohort_size(cohort):
    assert _cohort(300).meta["report"].tolist() == cohort.meta["report"].tolist()[:300]


def test_sampling_rate_and_noise_change_no_report():
    base = _cohort(120).meta["report"].tolist()
    assert _cohort(120, fs=500).meta["report"].tolist() == base
    assert _cohort(120, noise=0.0).meta["report"].tolist() == base


def test_the_rhythm_written_is_the_rhythm_of_the_record(cohort):
    reports = _reports(cohort)
    af = _has(cohort, "AFIB")
    mentions_af = np.array(["fib" in r for r in reports])
    assert np.array_equal(mentions_af, af)
    assert all(r.startswith("sinus") or "sinus" in r.split(",")[0] for r in reports[~af])


@pytest.mark.parametrize("code", sorted(FINDING_WORDS))
def test_a_finding_is_written_for_most_records_that_carry_it_and_for_none_that_do_not(cohort, code):
    reports = _reports(cohort)
    phrases = [w.lower() for w in FINDING_WORDS[code]]
    written = np.array([any(p in r for p in phrases) for r in reports])
    carried = _has(cohort, code)
    if carried.sum() >= 15:
        assert 0.7 <= written[carried].mean() < 1.0, (code, written[carried].mean(), int(carried.sum()))
    # phrases of one finding can sit inside another's ("right bundle branch block" in "incomplete ...")
    others = [w.lower() for c, ws in FINDING_WORDS.items() if c != code for w in ws]
    strays = [r for r, c in zip(reports[written & ~carried], np.flatnonzero(written & ~carried), strict=True)
              if not any(o in r for o in others)]
    assert not strays, strays[:3]


def test_the_rate_written_is_the_record_heart_rate(cohort):
    reports = _reports(cohort)
    hr = cohort.intervals["hr"].to_numpy()
    checked = 0
    for report, rate in zip(reports, hr, strict=True):
        m = re.search(r"(?:rate|hr|at) (\d+)(?:/min| bpm| beats|\b)", report)
        if m:
            assert int(m.group(1)) == round(rate)
            checked += 1
    assert checked > len(reports) / 3


def test_normal_records_are_called_normal_and_abnormal_ones_never_are(cohort):
    reports = [r.replace("axis within normal limits", "") for r in _reports(cohort)]
    normal = _has(cohort, "NORM")
    says_normal = np.array([("normal ecg" in r or "normal electrocardiogram" in r or "within normal limits" in r)
                            and "abnormal" not in r for r in reports])
    assert not says_normal[~normal].any()
    assert 0.75 < says_normal[normal].mean() < 0.95


def test_records_with_the_same_statements_get_different_reports(cohort):
    """The phrasing varies, so a report is not a lookup of the label set."""
    _, group = np.unique(cohort.labels, axis=0, return_inverse=True)
    reports = cohort.meta["report"].to_numpy()
    for g in np.unique(group):
        members = reports[group == g]
        if len(members) >= 10:
            assert len(set(members)) > 0.9 * len(members)
