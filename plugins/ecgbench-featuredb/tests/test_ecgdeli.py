"""The ``ecgdeli`` comparator: optional extra, PR = PQ, true sampling rate, abstentions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from ecgbench_featuredb.config import ECGdeliConfig

from ecgbench.context import RunContext
from ecgbench.errors import ConfigError
from ecgbench.testing.hand_built import hand_built, twelve_lead

TOLERANCE_MS = 20.0


def test_missing_extra_gives_an_error_naming_the_install_command(monkeypatch):
    from ecgbench_featuredb import ecgdeli_model

    monkeypatch.setitem(sys.modules, "ecgdeli", None)  # import ecgdeli -> ImportError
    with pytest.raises(ConfigError, match=r"ecgbench-featuredb\[ecgdeli\]"):
        ecgdeli_model.create(ECGdeliConfig(), RunContext(quiet=True))


def test_plugin_still_lists_ecgdeli_when_the_extra_is_missing():
    code = (
        "import sys; sys.modules['ecgdeli'] = None\n"  # makes `import ecgdeli` fail
        "from ecgbench.registry import Registry\n"
        "r = Registry(); spec = r.model('ecgdeli')\n"
        "print(spec.name, spec.license, r.plugin_of('model', 'ecgdeli').status)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ecgdeli", "GPL-3.0-or-later", "ok"]


@pytest.fixture
def ecgdeli_model():
    pytest.importorskip("ecgdeli", reason="the optional ecgdeli extra is not installed")
    from ecgbench_featuredb import ecgdeli_model

    return ecgdeli_model


def measure(module, record, **config):
    model = module.create(ECGdeliConfig(**config), RunContext(quiet=True))
    return model.measure(twelve_lead({"II": record.lead}), record.fs)


@pytest.mark.parametrize("fs", [100, 250, 500, 1000])
def test_hand_built_beats_are_measured_within_20_ms_at_each_rate(ecgdeli_model, fs):
    # Also shows the true sampling rate is used: the MATLAB code's 2 ms per sample would
    # halve every interval at 1000 Hz and stretch it 2.5-fold at 250 Hz.
    record = hand_built(fs)
    m = measure(ecgdeli_model, record)
    assert abs(m.pr[0] - record.pr) < TOLERANCE_MS
    assert abs(m.qrs[0] - record.qrs) < TOLERANCE_MS
    assert abs(m.qt[0] - record.qt) < TOLERANCE_MS
    assert m.hr[0] == pytest.approx(60_000 / record.rr, abs=1.0)


def test_pr_is_ecgdelis_pq_not_p_onset_to_r_peak(ecgdeli_model):
    # The hand-built R peak comes 0.45 QRS = 40 ms after the QRS onset, so ECGdeli's own
    # "PR" (P onset -> R peak) would read about 200 ms here.
    record = hand_built(500, pr=160.0)
    pr = measure(ecgdeli_model, record).pr[0]
    assert abs(pr - 160.0) < TOLERANCE_MS
    assert pr < 160.0 + 0.45 * record.qrs - 15.0


def test_qtc_defaults_to_bazett_and_framingham_is_available(ecgdeli_model):
    record = hand_built(250)
    bazett = measure(ecgdeli_model, record)
    framingham = measure(ecgdeli_model, record, qtc_formula="framingham")
    rr_s = 60.0 / bazett.hr[0]
    assert bazett.qtc_formula == "bazett"
    assert bazett.qtc[0] == pytest.approx(bazett.qt[0] / np.sqrt(rr_s))
    assert framingham.qtc[0] == pytest.approx(framingham.qt[0] + 154.0 * (1.0 - rr_s))


def test_missing_lead_falls_back_to_the_first_present_in_preference_order(ecgdeli_model):
    from_i, from_v1 = hand_built(250, pr=260.0), hand_built(250, pr=140.0)
    model = ecgdeli_model.create(ECGdeliConfig(), RunContext(quiet=True))
    m = model.measure(twelve_lead({"I": from_i.lead, "V1": from_v1.lead}), 250.0)
    assert abs(m.pr[0] - 260.0) < TOLERANCE_MS


def test_all_lead_consensus_measures_a_twelve_lead_record(ecgdeli_model):
    record = hand_built(500)
    signals = twelve_lead({name: gain * record.lead for name, gain in
                           (("I", 0.6), ("II", 1.0), ("aVF", 0.8), ("V5", 1.2))})
    model = ecgdeli_model.create(ECGdeliConfig(leads="all"), RunContext(quiet=True))
    m = model.measure(signals, 500.0)
    assert abs(m.pr[0] - record.pr) < TOLERANCE_MS
    assert abs(m.qt[0] - record.qt) < TOLERANCE_MS


def test_a_record_ecgdeli_fails_on_is_abstained_and_recorded(ecgdeli_model, monkeypatch):
    import ecgdeli

    record = hand_built(250)
    signals = np.concatenate([twelve_lead({"II": record.lead})] * 2)
    real = ecgdeli.annotate
    calls = iter([True, False])

    def failing_first(*args, **kwargs):
        if next(calls):
            raise ecgdeli.MatlabIndexError("MATLAB:badsubscript", "Index exceeds the number of array elements.")
        return real(*args, **kwargs)

    monkeypatch.setattr(ecgdeli, "annotate", failing_first)
    ctx = RunContext(quiet=True)
    model = ecgdeli_model.create(ECGdeliConfig(), ctx)
    m = model.measure(signals, 250.0)
    assert np.isnan(m.pr[0]) and np.isnan(m.qt[0])
    assert abs(m.qt[1] - record.qt) < TOLERANCE_MS
    assert ctx.notes["ecgdeli_failed_records"] == 1
    assert model.failures[0][0] == 0


def test_a_programming_error_inside_the_loop_is_not_swallowed(ecgdeli_model, monkeypatch):
    import ecgdeli

    def broken(*args, **kwargs):
        raise TypeError("unexpected argument")

    monkeypatch.setattr(ecgdeli, "annotate", broken)
    model = ecgdeli_model.create(ECGdeliConfig(), RunContext(quiet=True))
    with pytest.raises(TypeError):
        model.measure(twelve_lead({"II": hand_built(250).lead}), 250.0)


def test_record_too_short_to_filter_abstains(ecgdeli_model):
    model = ecgdeli_model.create(ECGdeliConfig(), RunContext(quiet=True))
    m = model.measure(twelve_lead({"II": hand_built(100).lead[:200]}), 100.0)
    assert all(np.isnan(v[0]) for v in m.as_dict().values())


def test_global_fidelity_mode_is_left_as_it_was(ecgdeli_model):
    import ecgdeli

    before = ecgdeli.get_fidelity()
    measure(ecgdeli_model, hand_built(250))
    assert ecgdeli.get_fidelity() == before


def test_an_implausible_median_is_a_counted_abstention_not_a_failed_run(ecgdeli_model, monkeypatch):
    from ecgbench.contracts.intervals import check_measurements

    real = ecgdeli_model.ECGdeli._record

    def wide_qrs(self, x, fs):
        (rr, pr, _, qt), table = real(self, x, fs)
        return (rr, pr, 564.0, qt), table

    monkeypatch.setattr(ecgdeli_model.ECGdeli, "_record", wide_qrs)
    ctx = RunContext(quiet=True)
    m = ecgdeli_model.create(ECGdeliConfig(), ctx).measure(twelve_lead({"II": hand_built(250).lead}), 250.0)
    check_measurements(m, n=1, model="ecgdeli", duration_s=10.0)
    assert np.isnan(m.qrs[0]) and abs(m.qt[0] - 400.0) < TOLERANCE_MS
    assert ctx.notes["ecgdeli_implausible_values"]["qrs"] == 1


def test_beat_boundaries_come_from_ecgdelis_fiducial_table(ecgdeli_model):
    from ecgbench.contracts.intervals import check_measurements

    record = hand_built(250)
    m = check_measurements(measure(ecgdeli_model, record), n=1, model="ecgdeli", duration_s=10.0)
    f = m.fiducials
    assert len(f.r) >= 9
    qt = (f.t_off - f.qrs_on) * 1000.0
    assert abs(np.nanmedian(qt) - m.qt[0]) < 4.1  # the record's QT is the median over its beats
