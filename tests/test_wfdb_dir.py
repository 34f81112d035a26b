"""The WFDB folder reader on the real QT Database and PhysioNet samples, and on damaged copies."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb
from shared_data import shared_sample, uses_shared_data

from ecgbench.data.leads import LEAD_INDEX
from ecgbench.data.resample import rational_factor, resample
from ecgbench.data.wave_marks import FIDUCIALS, marked_beats
from ecgbench.data.wfdb_dir import (
    WFDBDirConfig,
    header_age_sex,
    load_wfdb_dir,
    map_leads,
    record_fold,
)
from ecgbench.errors import DataError

QTDB_FS = 250
WINDOW = 10 * QTDB_FS


@pytest.fixture(scope="module")
def qtdb_dir() -> Path:
    return shared_sample("qtdb-sample")


@pytest.fixture(scope="module")
def qtdb(qtdb_dir: Path):
    return load_wfdb_dir(WFDBDirConfig(path=qtdb_dir, cache=False))


@pytest.fixture
def qtdb_copy(qtdb_dir: Path, tmp_path: Path) -> Path:
    """sel100 and sel30 (all their files) in a folder of their own."""
    folder = tmp_path / "qtdb"
    folder.mkdir()
    for file in qtdb_dir.iterdir():
        if file.stem in ("sel100", "sel30"):
            shutil.copyfile(file, folder / file.name)
    return folder


def _hand_beats_sel100(qtdb_dir: Path) -> list[dict]:
    """sel100's q1c reads '(p)(N)t)' per beat: P on/peak/off, QRS on/peak/off, T peak/off."""
    ann = wfdb.rdann(str(qtdb_dir / "sel100"), "q1c")
    symbols, samples = "".join(ann.symbol), ann.sample
    assert symbols == "(p)(N)t)" * 30
    beats = []
    for k in range(30):
        s = samples[8 * k : 8 * k + 8]
        beats.append(
            {"p_on": s[0], "qrs_on": s[3], "qrs_peak": s[4], "qrs_off": s[5], "t_off": s[7]}
        )
    return beats


def _hand_windows_sel100(qtdb_dir: Path) -> dict[int, list[dict]]:
    """sel100's marked beats by 10-s window, keeping the beats that lie wholly inside one window."""
    windows: dict[int, list[dict]] = {}
    for beat in _hand_beats_sel100(qtdb_dir):
        if beat["p_on"] // WINDOW == beat["t_off"] // WINDOW:
            windows.setdefault(int(beat["p_on"] // WINDOW), []).append(beat)
    return windows


# --- QT Database -------------------------------------------------------------------------------


@uses_shared_data
def test_qtdb_windows_are_10_s_at_250_hz_with_intervals(qtdb) -> None:
    assert qtdb.name == "wfdb-dir"
    assert qtdb.fs == QTDB_FS
    assert qtdb.signals.shape[1:] == (12, WINDOW)
    assert qtdb.intervals is not None and len(qtdb.intervals) == len(qtdb)
    assert qtdb.info["skipped"] == []
    assert set(qtdb.meta["record"]) == {
        "sel100",
        "sel116",
        "sel16265",
        "sel30",
        "sel803",
        "sele0104",
    }


@uses_shared_data
def test_qtdb_every_kept_window_holds_a_marked_beat(qtdb) -> None:
    assert set(qtdb.beats["record"]) == set(range(len(qtdb)))
    values = qtdb.beats[list(FIDUCIALS)].to_numpy()
    assert np.nanmin(values) >= 0 and np.nanmax(values) < WINDOW


@uses_shared_data
def test_qtdb_reference_intervals_match_a_hand_computation_from_the_raw_marks(
    qtdb, qtdb_dir: Path
) -> None:
    by_window = _hand_windows_sel100(qtdb_dir)
    ms = 1000 / QTDB_FS
    rows = np.flatnonzero(qtdb.meta["record"] == "sel100")
    assert [qtdb.record_ids[r] for r in rows] == [f"sel100:{w * 10}" for w in sorted(by_window)]
    for row, window in zip(rows, sorted(by_window), strict=True):
        got = qtdb.intervals.iloc[row]
        group = by_window[window]
        assert got["pr"] == np.median([(b["qrs_on"] - b["p_on"]) * ms for b in group])
        assert got["qrs"] == np.median([(b["qrs_off"] - b["qrs_on"]) * ms for b in group])
        assert got["qt"] == np.median([(b["t_off"] - b["qrs_on"]) * ms for b in group])


@uses_shared_data
def test_qtdb_rr_comes_from_the_reference_beat_annotations(qtdb, qtdb_dir: Path) -> None:
    atr = wfdb.rdann(str(qtdb_dir / "sel100"), "atr")
    beat_samples = np.array(
        [s for s, sym in zip(atr.sample, atr.symbol, strict=True) if sym in "NA"]
    )
    rows = np.flatnonzero(qtdb.meta["record"] == "sel100")
    for row, (_, group) in zip(rows, sorted(_hand_windows_sel100(qtdb_dir).items()), strict=True):
        nearest = [int(np.argmin(np.abs(beat_samples - beat["qrs_peak"]))) for beat in group]
        rr = np.array(
            [(beat_samples[k] - beat_samples[k - 1]) * 4.0 for k in nearest]
        )  # 4 ms per sample
        assert qtdb.intervals.iloc[row]["rr"] == pytest.approx(np.median(rr))
        assert qtdb.intervals.iloc[row]["hr"] == pytest.approx(np.median(60000 / rr))


@uses_shared_data
def test_qtdb_beat_fiducials_are_window_sample_indices(qtdb, qtdb_dir: Path) -> None:
    first = int(np.flatnonzero(qtdb.meta["record"] == "sel100")[0])
    start = int(qtdb.meta.iloc[first]["window_start_s"] * QTDB_FS)
    hand = _hand_windows_sel100(qtdb_dir)[start // WINDOW]
    got = qtdb.beats[qtdb.beats["record"] == first]
    np.testing.assert_array_equal(got["qrs_on"].to_numpy(), [b["qrs_on"] - start for b in hand])
    assert got["t_on"].isna().all()  # sel100's annotator marked no T onsets


@uses_shared_data
def test_qtdb_records_without_atr_take_rr_from_consecutive_marks(qtdb, qtdb_dir: Path) -> None:
    ann = wfdb.rdann(str(qtdb_dir / "sel30"), "q1c")
    peaks = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym == "N"])
    row = int(
        np.flatnonzero(qtdb.meta["record"] == "sel30")[1]
    )  # second window: every beat has a predecessor
    start = qtdb.meta.iloc[row]["window_start_s"] * QTDB_FS
    got = qtdb.beats[qtdb.beats["record"] == row]
    rr = [
        (p - peaks[np.flatnonzero(peaks == p)[0] - 1]) * 4.0
        for p in got["qrs_peak"].to_numpy() + start
    ]
    assert qtdb.intervals.iloc[row]["rr"] == pytest.approx(np.median(rr))


@uses_shared_data
def test_qtdb_lead_names_map_to_standard_slots(qtdb) -> None:
    leads = dict(zip(qtdb.meta["record"], qtdb.meta["leads"], strict=True))
    assert leads["sel100"] == "II=MLII;V5=V5"
    assert leads["sel116"] == "II=MLII;V1=V1"
    assert leads["sele0104"] == "II=D3;V5=D4"  # unnamed bipolar leads fill the II and V5 slots
    present = qtdb.lead_present
    assert present[:, LEAD_INDEX["II"]].all()
    assert present.sum(axis=1).tolist() == [2] * len(qtdb)


@uses_shared_data
def test_qtdb_unnamed_leads_can_be_dropped(qtdb_copy: Path) -> None:
    with pytest.raises(DataError, match=r"record sel30: no channel maps to a standard lead"):
        load_wfdb_dir(WFDBDirConfig(path=qtdb_copy, unnamed_leads="drop"))
    data = load_wfdb_dir(WFDBDirConfig(path=qtdb_copy, unnamed_leads="drop", skip_bad=True))
    assert set(data.meta["record"]) == {"sel100"}
    assert [s["record"] for s in data.info["skipped"]] == ["sel30"]


@uses_shared_data
def test_qtdb_age_and_sex_come_from_the_header(qtdb) -> None:
    first = qtdb.meta.drop_duplicates("record").set_index("record")
    assert (first.loc["sel100", "sex"], first.loc["sel100", "age"]) == ("M", 69.0)
    assert (first.loc["sele0104", "sex"], first.loc["sele0104", "age"]) == ("M", 47.0)
    assert first.loc["sel30", "sex"] == "" and np.isnan(first.loc["sel30", "age"])


@uses_shared_data
def test_all_windows_of_a_record_share_its_fold(qtdb) -> None:
    for record, fold in zip(qtdb.meta["record"], qtdb.folds, strict=True):
        assert fold == record_fold(record)


def test_record_fold_is_the_sha256_of_the_record_id() -> None:
    assert record_fold("sel100") == 1 + int(hashlib.sha256(b"sel100").hexdigest()[:8], 16) % 10


@uses_shared_data
def test_annotated_only_off_keeps_every_window(qtdb_copy: Path) -> None:
    data = load_wfdb_dir(WFDBDirConfig(path=qtdb_copy, annotated_only=False))
    assert len(data) == 225000 // WINDOW + 224993 // WINDOW
    without = ~np.isin(np.arange(len(data)), data.beats["record"])
    assert data.intervals[without].isna().all().all()
    assert data.intervals[~without].notna().any(axis=1).all()


@uses_shared_data
def test_explicit_annotator_that_is_absent_names_the_record(qtdb_copy: Path) -> None:
    with pytest.raises(DataError, match=r"record sel30: annotation file .*sel30.q2c is missing"):
        load_wfdb_dir(WFDBDirConfig(path=qtdb_copy, annotator="q2c"))


@uses_shared_data
def test_no_annotator_gives_no_intervals(qtdb_copy: Path) -> None:
    data = load_wfdb_dir(WFDBDirConfig(path=qtdb_copy, annotator=None))
    assert data.intervals is None and data.beats is None
    assert len(data) == 225000 // WINDOW + 224993 // WINDOW


@uses_shared_data
def test_whole_records_of_unequal_length_are_rejected(qtdb_copy: Path) -> None:
    with pytest.raises(DataError, match=r"equally long.*sel100=225000, sel30=224993"):
        load_wfdb_dir(WFDBDirConfig(path=qtdb_copy, window_s=None, annotator=None))


@uses_shared_data
def test_truncated_signal_file_names_the_record(qtdb_copy: Path) -> None:
    dat = qtdb_copy / "sel30.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"record sel30: signal file .*sel30.dat is truncated"):
        load_wfdb_dir(WFDBDirConfig(path=qtdb_copy))


@uses_shared_data
def test_missing_signal_file_names_the_record(qtdb_copy: Path) -> None:
    (qtdb_copy / "sel30.dat").unlink()
    with pytest.raises(DataError, match=r"record sel30: signal file .*sel30.dat is missing"):
        load_wfdb_dir(WFDBDirConfig(path=qtdb_copy))


@uses_shared_data
def test_damaged_annotation_file_names_the_record(qtdb_copy: Path) -> None:
    q1c = qtdb_copy / "sel30.q1c"
    q1c.write_bytes(q1c.read_bytes()[:7])
    with pytest.raises(DataError, match=r"record sel30: "):
        load_wfdb_dir(WFDBDirConfig(path=qtdb_copy))


@uses_shared_data
def test_second_read_comes_from_the_cache_and_a_change_invalidates_it(qtdb_copy: Path) -> None:
    first = load_wfdb_dir(WFDBDirConfig(path=qtdb_copy))
    second = load_wfdb_dir(WFDBDirConfig(path=qtdb_copy))
    assert (first.info["cache"]["status"], second.info["cache"]["status"]) == ("miss", "hit")
    assert second.fingerprint == first.fingerprint
    assert second.intervals.equals(first.intervals)
    assert second.beats.equals(first.beats)
    (qtdb_copy / "sel30.man").unlink()
    assert load_wfdb_dir(WFDBDirConfig(path=qtdb_copy)).info["cache"]["status"] == "miss"


# --- other PhysioNet records -------------------------------------------------------------------


@uses_shared_data
def test_records_at_different_rates_need_a_target_rate() -> None:
    folder = shared_sample("physionet-wfdb-samples")
    with pytest.raises(DataError, match=r"360 Hz: 100; 1000 Hz: s0010_re"):
        load_wfdb_dir(WFDBDirConfig(path=folder))


@uses_shared_data
def test_physionet_records_resampled_to_one_rate() -> None:
    data = load_wfdb_dir(WFDBDirConfig(path=shared_sample("physionet-wfdb-samples"), fs=500))
    assert data.signals.shape[1:] == (12, 5000)
    ptb = np.flatnonzero(data.meta["record"] == "s0010_re")
    assert data.record_ids[ptb].tolist() == ["s0010_re:0", "s0010_re:10", "s0010_re:20"]
    assert data.lead_present[
        ptb
    ].all()  # lower-case names map; the Frank leads vx, vy, vz are not used
    mitdb = np.flatnonzero(data.meta["record"] == "100")
    assert len(mitdb) == 650000 // 3600
    assert data.lead_present[mitdb][:, [LEAD_INDEX["II"], LEAD_INDEX["V5"]]].all()
    assert data.meta.iloc[ptb[0]][["sex", "age"]].tolist() == ["F", 81.0]
    assert data.meta.iloc[mitdb[0]][["sex", "age"]].tolist() == ["M", 69.0]


@uses_shared_data
def test_resampled_ptb_record_stays_close_to_the_original() -> None:
    folder = shared_sample("physionet-wfdb-samples")
    data = load_wfdb_dir(WFDBDirConfig(path=folder, fs=500, cache=False))
    original, _ = wfdb.rdsamp(str(folder / "s0010_re"))
    row = int(np.flatnonzero(data.record_ids == "s0010_re:0")[0])
    every_other = original[:10000:2, :12].T
    assert (
        np.abs(data.signals[row] - every_other).mean() < 0.01
    )  # mV; ECG power is far below 250 Hz


@pytest.fixture
def record_with_a_gap(tmp_path: Path) -> Path:
    """A 20-s two-lead record at 100 Hz whose V5 has one invalid sample at 15 s."""
    folder = tmp_path / "gap"
    folder.mkdir()
    signal = np.tile(np.sin(np.linspace(0, 40 * np.pi, 2000))[:, None], (1, 2))
    signal[1500, 1] = np.nan
    wfdb.wrsamp(
        "rec",
        fs=100,
        units=["mV", "mV"],
        sig_name=["II", "V5"],
        p_signal=signal,
        fmt=["16", "16"],
        adc_gain=[1000, 1000],
        baseline=[0, 0],
        write_dir=str(folder),
    )
    return folder


def test_invalid_samples_in_a_window_are_reported(record_with_a_gap: Path) -> None:
    with pytest.raises(DataError, match=r"record rec:10: invalid \(NaN\) samples in lead\(s\) V5"):
        load_wfdb_dir(WFDBDirConfig(path=record_with_a_gap))
    data = load_wfdb_dir(WFDBDirConfig(path=record_with_a_gap, skip_bad=True))
    assert data.record_ids.tolist() == ["rec:0"]
    assert data.info["skipped"][0]["record"] == "rec:10"


def test_an_invalid_sample_does_not_erase_its_lead_when_resampling(record_with_a_gap: Path) -> None:
    data = load_wfdb_dir(WFDBDirConfig(path=record_with_a_gap, fs=250, skip_bad=True))
    assert data.record_ids.tolist() == ["rec:0"]
    assert data.lead_present[0, LEAD_INDEX["V5"]]
    assert not np.isnan(data.signals[0, LEAD_INDEX["V5"]]).any()


@pytest.fixture
def record_with_a_flat_stretch(tmp_path: Path) -> Path:
    """A 30-s two-lead record at 100 Hz (200 steps/mV) whose V5 is off for 10-20 s (zeros)
    and whose II holds nothing but two ADC steps of noise for 20-30 s."""
    folder = tmp_path / "flat"
    folder.mkdir()
    signal = np.tile(np.sin(np.linspace(0, 60 * np.pi, 3000))[:, None], (1, 2))
    signal[1000:2000, 1] = 0.0
    signal[2000:, 0] = 0.005 * (np.arange(1000) % 3)
    signal[2000:, 1] = np.sin(np.linspace(0, 20 * np.pi, 1000))
    wfdb.wrsamp("rec", fs=100, units=["mV", "mV"], sig_name=["II", "V5"], p_signal=signal,
                fmt=["16", "16"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(folder))
    return folder


def test_a_flat_lead_in_a_window_becomes_a_missing_lead(record_with_a_flat_stretch: Path) -> None:
    data = load_wfdb_dir(WFDBDirConfig(path=record_with_a_flat_stretch))
    assert data.record_ids.tolist() == ["rec:0", "rec:10", "rec:20"]
    present = data.lead_present[:, [LEAD_INDEX["II"], LEAD_INDEX["V5"]]]
    assert present.tolist() == [[True, True], [True, False], [False, True]]
    assert data.info["flat_leads"] == [
        {"record": "rec:10", "leads": ["V5"]},
        {"record": "rec:20", "leads": ["II"]},
    ]


def test_skip_bad_skips_a_window_with_a_flat_lead(record_with_a_flat_stretch: Path) -> None:
    data = load_wfdb_dir(WFDBDirConfig(path=record_with_a_flat_stretch, skip_bad=True))
    assert data.record_ids.tolist() == ["rec:0"]
    assert [s["record"] for s in data.info["skipped"]] == ["rec:10", "rec:20"]


def test_a_window_whose_every_lead_is_flat_is_a_bad_window(tmp_path: Path) -> None:
    folder = tmp_path / "zeros"
    folder.mkdir()
    wfdb.wrsamp("rec", fs=100, units=["mV"], sig_name=["II"], p_signal=np.zeros((1000, 1)), fmt=["16"],
                adc_gain=[200], baseline=[0], write_dir=str(folder))
    with pytest.raises(DataError, match="record rec: every lead is flat"):
        load_wfdb_dir(WFDBDirConfig(path=folder))


def test_flat_leads_span_at_most_ten_adc_steps() -> None:
    from ecgbench.data.flat_leads import flat_leads

    step = 0.001
    x = np.array([np.arange(1000) % 11 * step, np.arange(1000) % 12 * step, np.full(1000, np.nan)])
    assert flat_leads(x, step).tolist() == [True, False, False]


# --- pieces ------------------------------------------------------------------------------------


def test_header_age_sex_reads_the_common_comment_styles() -> None:
    assert header_age_sex(["Age: 59", "Sex: Female", "Dx: 1"]) == (59.0, "F")
    assert header_age_sex(["age: 81", "sex: male"]) == (81.0, "M")
    assert header_age_sex(["Age: 47  Sex: M", "Myocardial infarction"]) == (47.0, "M")
    assert header_age_sex(["unnecessary comment", "69 M 1085 1629 x1"]) == (69.0, "M")
    age, sex = header_age_sex(["Produced by xform"])
    assert np.isnan(age) and sex == ""


def test_map_leads_skips_non_voltage_and_frank_channels() -> None:
    used = map_leads(
        ("ABP", "vx", "MLII", "record 1, signal 1"), ("mmHg", "mV", "mV", "mV"), fill=True
    )
    assert used == {2: "II", 3: "V5"}


def test_marked_beats_pair_each_qrs_with_its_own_p_and_t() -> None:
    symbols = ["(", "p", ")", "(", "N", ")", "t", ")", "(", "N", ")", "(", "t", ")"]
    samples = [10, 20, 30, 40, 50, 60, 90, 110, 240, 250, 260, 280, 300, 330]
    first, second = marked_beats(samples, symbols).to_dict("records")
    assert (first["p_on"], first["qrs_on"], first["qrs_off"], first["t_off"]) == (10, 40, 60, 110)
    assert np.isnan(first["t_on"])  # ')' after 't' with no '(' before it: offset marked, onset not
    assert np.isnan(second["p_on"])
    assert (second["qrs_on"], second["t_on"], second["t_off"]) == (240, 280, 330)


def test_rational_factor_is_exact() -> None:
    assert rational_factor(360, 250) == (25, 36)
    assert rational_factor(500, 100) == (1, 5)
    with pytest.raises(DataError, match="cannot resample"):
        rational_factor(1000, np.pi)


def test_resample_keeps_a_low_frequency_sine_and_missing_leads() -> None:
    t_in = np.arange(3600) / 360
    x = np.stack([np.sin(2 * np.pi * 5 * t_in), np.full(3600, np.nan)]).astype(np.float32)
    y = resample(x, 360, 250)
    t_out = np.arange(2500) / 250
    assert y.shape == (2, 2500)
    np.testing.assert_allclose(y[0, 50:-50], np.sin(2 * np.pi * 5 * t_out)[50:-50], atol=1e-3)
    assert np.isnan(y[1]).all()


def test_resample_equals_scipy_resample_poly_with_its_default_filter() -> None:
    from scipy.signal import resample_poly

    x = np.random.default_rng(0).standard_normal((3, 1800)).astype(np.float32)
    expected = resample_poly(x, 25, 36, axis=-1, padtype="line")
    np.testing.assert_allclose(resample(x, 360, 250), expected, atol=1e-5)


@uses_shared_data
def test_header_parser_agrees_with_wfdb_on_every_sample_header() -> None:
    from ecgbench.data.wfdb_record import _header_from_wfdb, parse_header

    headers = sorted((shared_sample("qtdb-sample").parent).rglob("*.hea"))
    assert len(headers) > 500
    for hea in headers:
        ours = parse_header(hea.read_text(encoding="latin-1"))
        assert ours == _header_from_wfdb(hea.with_suffix(""), hea, hea.stem), hea
