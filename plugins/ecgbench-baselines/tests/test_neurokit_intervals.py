"""``neurokit-dwt``: NeuroKit2's DWT delineation as a measure-intervals comparator."""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_baselines.neurokit_intervals import NeurokitConfig, NeurokitDWT, create
from pydantic import ValidationError

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import check_measurements
from ecgbench.errors import DataError
from ecgbench.testing import IntervalsContract
from ecgbench.testing.hand_built import hand_built, twelve_lead

TOLERANCE_MS = 20.0


@pytest.mark.parametrize("fs", [100, 250, 500, 1000])
def test_hand_built_beats_are_measured_within_20_ms_at_each_rate(fs):
    m = NeurokitDWT().measure(twelve_lead({"II": hand_built(fs).lead}), fs)
    assert abs(m.pr[0] - 160.0) < TOLERANCE_MS
    assert abs(m.qrs[0] - 90.0) < TOLERANCE_MS
    assert abs(m.qt[0] - 400.0) < TOLERANCE_MS
    assert m.hr[0] == pytest.approx(60_000 / 900.0, abs=1.0)


def test_long_pr_is_measured():
    m = NeurokitDWT().measure(twelve_lead({"II": hand_built(500, pr=280.0).lead}), 500)
    assert abs(m.pr[0] - 280.0) < TOLERANCE_MS


def test_output_passes_the_contract_checks():
    signals = np.concatenate([twelve_lead({"II": hand_built(250, pr=pr).lead}) for pr in (140.0, 220.0)])
    m = create(NeurokitConfig(), RunContext(quiet=True)).measure(signals, 250.0)
    check_measurements(m, n=2, model="neurokit-dwt")


@pytest.mark.parametrize("formula", ["bazett", "fridericia", "framingham"])
def test_qtc_uses_the_configured_formula(formula):
    m = NeurokitDWT(NeurokitConfig(qtc_formula=formula)).measure(twelve_lead({"II": hand_built(250).lead}), 250)
    rr_s = 60.0 / m.hr[0]
    expected = {"bazett": m.qt[0] / np.sqrt(rr_s), "fridericia": m.qt[0] / np.cbrt(rr_s),
                "framingham": m.qt[0] + 154.0 * (1.0 - rr_s)}[formula]
    assert m.qtc_formula == formula
    assert m.qtc[0] == pytest.approx(expected)


def test_qtc_formula_defaults_to_bazett():
    assert NeurokitConfig().qtc_formula == "bazett"


def test_lead_ii_is_measured_by_default_and_another_lead_on_request():
    signals = twelve_lead({"I": hand_built(250, pr=140.0).lead, "II": hand_built(250, pr=260.0).lead})
    assert abs(NeurokitDWT().measure(signals, 250).pr[0] - 260.0) < TOLERANCE_MS
    assert abs(NeurokitDWT(NeurokitConfig(lead="I")).measure(signals, 250).pr[0] - 140.0) < TOLERANCE_MS


def test_missing_lead_falls_back_to_the_first_present_in_preference_order():
    signals = twelve_lead({"V1": hand_built(250, pr=140.0).lead, "aVF": hand_built(250, pr=260.0).lead})
    assert abs(NeurokitDWT().measure(signals, 250).pr[0] - 260.0) < TOLERANCE_MS


def test_record_without_any_lead_abstains_on_everything():
    m = NeurokitDWT().measure(np.full((1, 12, 1000), np.nan, dtype=np.float32), 100)
    assert all(np.isnan(v[0]) for v in m.as_dict().values())


def test_flat_line_abstains_on_everything():
    m = NeurokitDWT().measure(twelve_lead({"II": np.zeros(1000)}), 100)
    assert all(np.isnan(v[0]) for v in m.as_dict().values())


def test_a_record_neurokit_fails_on_is_abstained_and_recorded(monkeypatch):
    import neurokit2 as nk

    real = nk.ecg_delineate
    calls = iter([True, False])

    def failing_first(*args, **kwargs):
        if next(calls):
            raise ValueError("cannot convert float NaN to integer")
        return real(*args, **kwargs)

    monkeypatch.setattr(nk, "ecg_delineate", failing_first)
    signals = np.concatenate([twelve_lead({"II": hand_built(250).lead})] * 2)
    ctx = RunContext(quiet=True)
    model = create(NeurokitConfig(), ctx)
    m = model.measure(signals, 250.0)
    assert np.isnan(m.qt[0]) and abs(m.qt[1] - 400.0) < TOLERANCE_MS
    assert ctx.notes["neurokit_failed_records"] == 1


def test_an_implausible_median_is_a_counted_abstention_not_a_failed_run(monkeypatch):
    # On a QT Database set NeuroKit2 returned a QRS of 564 ms and the contract check rejected
    # the whole run: now that record abstains on QRS and the count is in the run record.
    import neurokit2 as nk

    real = nk.ecg_delineate

    def late_qrs_offsets(*args, **kwargs):
        signals, waves = real(*args, **kwargs)
        waves["ECG_R_Offsets"] = [r + 141 for r in waves["ECG_R_Onsets"]]  # 564 ms at 250 Hz
        return signals, waves

    monkeypatch.setattr(nk, "ecg_delineate", late_qrs_offsets)
    ctx = RunContext(quiet=True)
    m = create(NeurokitConfig(), ctx).measure(twelve_lead({"II": hand_built(250).lead}), 250.0)
    check_measurements(m, n=1, model="neurokit-dwt", duration_s=10.0)
    assert np.isnan(m.qrs[0]) and np.isfinite(m.qt[0])
    assert ctx.notes["neurokit_implausible_values"]["qrs"] == 1


def test_beat_boundaries_are_neurokits_per_beat_delineation():
    m = NeurokitDWT().measure(twelve_lead({"II": hand_built(250).lead}), 250.0)
    check_measurements(m, n=1, model="neurokit-dwt", duration_s=10.0)
    assert len(m.fiducials.r) >= 9
    assert np.all(np.diff(m.fiducials.r) > 0.5)


def test_unknown_lead_name_is_rejected():
    with pytest.raises(ValidationError, match="not a lead"):
        NeurokitConfig(lead="X7")


def test_rate_below_100_hz_is_rejected():
    with pytest.raises(DataError, match="below the 100 Hz"):
        NeurokitDWT().measure(twelve_lead({"II": np.zeros(500)}), 50.0)


@pytest.mark.slow  # about 80 phantom records through NeuroKit2: 10–30 s on 2 cores
class TestNeurokitContract(IntervalsContract):
    model = "neurokit-dwt"
