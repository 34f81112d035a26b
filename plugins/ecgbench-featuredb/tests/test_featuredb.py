"""FeatureDB on hand-built beats with known boundaries, its abstentions, QTc and lead choice."""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_featuredb.config import FeatureDBConfig
from ecgbench_featuredb.featuredb import FeatureDB, create
from pydantic import ValidationError

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import check_measurements, qtc
from ecgbench.errors import DataError
from ecgbench.testing.hand_built import hand_built, twelve_lead

TOLERANCE_MS = 20.0


def measure(record, **config):
    return FeatureDB(FeatureDBConfig(**config)).measure(twelve_lead({"II": record.lead}), record.fs)


@pytest.mark.parametrize("fs", [100, 250, 500, 1000])
def test_hand_built_beats_are_measured_within_20_ms_at_each_rate(fs):
    record = hand_built(fs)
    m = measure(record)
    assert abs(m.pr[0] - record.pr) < TOLERANCE_MS
    assert abs(m.qrs[0] - record.qrs) < TOLERANCE_MS
    assert abs(m.qt[0] - record.qt) < TOLERANCE_MS
    assert m.hr[0] == pytest.approx(60_000 / record.rr, abs=1.0)


@pytest.mark.parametrize("fs", [100, 500])
def test_long_pr_of_first_degree_av_block_is_measured(fs):
    record = hand_built(fs, pr=300.0)
    assert abs(measure(record).pr[0] - 300.0) < TOLERANCE_MS


@pytest.mark.parametrize("fs", [100, 500])
def test_long_qt_at_slow_rate_is_measured(fs):
    record = hand_built(fs, qt=520.0, rr=1100.0)
    assert abs(measure(record).qt[0] - 520.0) < TOLERANCE_MS


def test_fast_rate_with_short_intervals_is_measured():
    record = hand_built(250, pr=140.0, qt=320.0, rr=550.0)
    m = measure(record)
    assert abs(m.pr[0] - 140.0) < TOLERANCE_MS
    assert abs(m.qt[0] - 320.0) < TOLERANCE_MS


def test_inverted_t_wave_is_measured():
    record = hand_built(250, t_amplitude=-0.25)
    assert abs(measure(record).qt[0] - record.qt) < TOLERANCE_MS


def test_noisy_beats_are_still_measured_within_20_ms():
    record = hand_built(500, noise_mv=0.03, seed=3)
    m = measure(record)
    assert abs(m.pr[0] - record.pr) < TOLERANCE_MS
    assert abs(m.qt[0] - record.qt) < TOLERANCE_MS


def test_premature_beats_are_left_out_of_the_average_beat():
    record = hand_built(250, premature_every=4)
    m = measure(record)
    assert abs(m.pr[0] - record.pr) < TOLERANCE_MS
    assert abs(m.qt[0] - record.qt) < TOLERANCE_MS


@pytest.mark.parametrize("fs", [100, 500])
def test_beat_without_p_wave_gives_nan_pr_but_keeps_qt(fs):
    record = hand_built(fs, p_wave=False)
    m = measure(record)
    assert np.isnan(m.pr[0])
    assert abs(m.qt[0] - record.qt) < TOLERANCE_MS


def test_flat_t_wave_gives_nan_qt_and_qtc():
    m = measure(hand_built(250, t_amplitude=0.0))
    assert np.isnan(m.qt[0]) and np.isnan(m.qtc[0])
    assert np.isfinite(m.pr[0])


def test_p_wave_below_the_amplitude_floor_gives_nan_pr():
    record = hand_built(250, p_amplitude=0.05)
    assert np.isfinite(measure(record).pr[0])
    assert np.isnan(measure(record, p_min_amplitude_mv=0.08).pr[0])


def test_flat_line_abstains_on_everything():
    m = FeatureDB().measure(twelve_lead({"II": np.zeros(2500)}), 250.0)
    assert all(np.isnan(v[0]) for v in m.as_dict().values())


def test_record_without_any_lead_abstains_on_everything():
    signals = np.full((1, 12, 1000), np.nan, dtype=np.float32)
    m = FeatureDB().measure(signals, 100.0)
    assert all(np.isnan(v[0]) for v in m.as_dict().values())


@pytest.mark.parametrize("formula", ["bazett", "fridericia", "framingham"])
def test_qtc_uses_the_configured_formula(formula):
    record = hand_built(250)
    m = measure(record, qtc_formula=formula)
    assert m.qtc_formula == formula
    assert m.qtc[0] == pytest.approx(qtc(m.qt, 60_000.0 / m.hr, formula)[0])


def test_qtc_formula_defaults_to_bazett():
    assert FeatureDBConfig().qtc_formula == "bazett"


def test_lead_ii_is_measured_by_default():
    long_pr, short_pr = hand_built(250, pr=260.0), hand_built(250, pr=140.0)
    signals = twelve_lead({"I": short_pr.lead, "II": long_pr.lead})
    assert abs(FeatureDB().measure(signals, 250.0).pr[0] - 260.0) < TOLERANCE_MS


def test_lead_setting_selects_another_lead():
    long_pr, short_pr = hand_built(250, pr=260.0), hand_built(250, pr=140.0)
    signals = twelve_lead({"II": long_pr.lead, "V5": short_pr.lead})
    m = FeatureDB(FeatureDBConfig(lead="v5")).measure(signals, 250.0)
    assert abs(m.pr[0] - 140.0) < TOLERANCE_MS


def test_missing_lead_falls_back_to_the_first_present_in_preference_order():
    from_i, from_v1 = hand_built(250, pr=260.0), hand_built(250, pr=140.0)
    signals = twelve_lead({"I": from_i.lead, "V1": from_v1.lead})
    ctx = RunContext(quiet=True)
    m = FeatureDB(FeatureDBConfig(), ctx).measure(signals, 250.0)
    assert abs(m.pr[0] - 260.0) < TOLERANCE_MS
    assert ctx.notes["featuredb_fallback_lead_records"] == 1


def test_unknown_lead_name_is_rejected():
    with pytest.raises(ValidationError, match="not a lead"):
        FeatureDBConfig(lead="X7")


def test_rate_below_100_hz_is_rejected():
    with pytest.raises(DataError, match="below the 100 Hz"):
        FeatureDB().measure(twelve_lead({"II": np.zeros(500)}), 50.0)


def test_signals_of_the_wrong_shape_are_rejected():
    with pytest.raises(DataError, match=r"\[n, 12, T\]"):
        FeatureDB().measure(np.zeros((2, 1000), dtype=np.float32), 100.0)


def test_batch_output_passes_the_contract_checks_and_matches_single_records():
    records = [hand_built(250, pr=pr) for pr in (140.0, 200.0, 280.0)]
    signals = np.concatenate([twelve_lead({"II": r.lead}) for r in records])
    model = create(FeatureDBConfig(), RunContext(quiet=True))
    batch = check_measurements(model.measure(signals, 250.0), n=3, model="featuredb")
    single = [model.measure(signals[i : i + 1], 250.0).pr[0] for i in range(3)]
    np.testing.assert_allclose(batch.pr, single)
    assert np.all(np.abs(batch.pr - [140.0, 200.0, 280.0]) < TOLERANCE_MS)


def test_average_beat_boundaries_are_placed_at_every_beat_like_the_averaged_ones():
    record = hand_built(250)
    m = check_measurements(measure(record), n=1, model="featuredb", duration_s=10.0)
    f = m.fiducials
    # beats start at 0.45 s every 0.9 s; the R-peak of each lies 0.45 * QRS after its onset
    true_r = 0.45 + np.arange(11) * record.rr / 1000.0 + 0.45 * record.qrs / 1000.0
    true_r = true_r[true_r + record.qt / 1000.0 < 10.0]
    assert len(f.r) == len(true_r)  # the edge beats too, not only the averaged ones
    np.testing.assert_allclose(f.r, true_r, atol=0.02)
    np.testing.assert_allclose((f.qrs_on - f.p_on) * 1000.0, m.pr[0])
    np.testing.assert_allclose((f.t_off - f.qrs_on) * 1000.0, m.qt[0])


def test_premature_beats_get_no_boundaries():
    record = hand_built(250, premature_every=4)
    f = measure(record).fiducials
    premature_r = 0.45 + (np.arange(4, 12, 4) - 1 - 0.4) * record.rr / 1000.0
    for r in premature_r:
        assert np.min(np.abs(f.r - r)) > 0.15


def test_an_implausible_value_is_a_counted_abstention(monkeypatch):
    from ecgbench_featuredb import featuredb

    monkeypatch.setattr(featuredb, "_intervals", lambda analysis: (900.0, 160.0, 564.0, 400.0))
    ctx = RunContext(quiet=True)
    m = check_measurements(FeatureDB(FeatureDBConfig(), ctx).measure(twelve_lead({"II": hand_built(250).lead}), 250.0),
                           n=1, model="featuredb")
    assert np.isnan(m.qrs[0]) and m.qt[0] == pytest.approx(400.0)
    assert ctx.notes["featuredb_implausible_values"]["qrs"] == 1
