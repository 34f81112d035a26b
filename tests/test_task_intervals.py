"""The measure-intervals task: beat fiducials, recording-level resampling and the breakdowns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_data import shared_sample, uses_shared_data

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import FIDUCIAL_NAMES, BeatFiducials, IntervalMeasurements, qtc
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.wave_marks import reference_beats
from ecgbench.tasks.intervals import IntervalsTaskConfig, recording_groups, run
from ecgbench.testing.dummies import DummyMeasurer
from ecgbench.validate import tiny_dataset

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Oracle:
    """Returns the dataset's own reference, shifted: intervals and beat boundaries (+shift_ms on
    every T offset and QT), so that every error is known."""

    def __init__(self, data: ECGDataset, shift_ms: float = 0.0):
        self.data, self.shift_ms = data, shift_ms

    def measure(self, signals: np.ndarray, fs: float) -> IntervalMeasurements:
        ref = self.data.intervals
        qt = ref["qt"].to_numpy() + self.shift_ms
        beats = reference_beats(self.data)
        bounds = {name: beats[name].copy() for name in FIDUCIAL_NAMES}
        bounds["t_off"] = bounds["t_off"] + self.shift_ms / 1000.0
        return IntervalMeasurements(
            pr=ref["pr"].to_numpy(), qrs=ref["qrs"].to_numpy(), qt=qt,
            qtc=qtc(qt, ref["rr"].to_numpy()), hr=ref["hr"].to_numpy(),
            fiducials=BeatFiducials(beats["record"], beats["time"], **bounds),
        )


def _run(model, data: ECGDataset, tmp_path: Path, plots: bool = False):
    ctx = RunContext(seed=0, artifacts_dir=tmp_path / "artifacts", cache_dir=tmp_path / "cache", quiet=True)
    return run(model, "m", data, FoldSplit(), IntervalsTaskConfig(n_boot=20, plots=plots), ctx)


def test_beat_fiducials_are_scored_against_the_phantoms_beats(tmp_path):
    data = tiny_dataset()
    result = _run(Oracle(data, shift_ms=-30.0), data, tmp_path)
    metrics = {m.name: m for m in result.metrics}
    assert metrics["qrs_on_bias"].value == pytest.approx(0.0, abs=1e-6)
    assert metrics["qrs_on_within_10ms"].value == pytest.approx(1.0)
    assert metrics["t_off_bias"].value == pytest.approx(-30.0)
    assert metrics["t_off_within_20ms"].value == pytest.approx(0.0)
    assert metrics["t_off_within_40ms"].value == pytest.approx(1.0)
    assert metrics["qt_within_20ms"].value < 0.05  # the same shift, seen on the intervals
    assert result.notes["fiducials"] == "scored against beat marks"
    assert "beat_error_t_off" in result.samples


def test_a_measurer_without_fiducials_is_scored_on_intervals_only(tmp_path):
    result = _run(DummyMeasurer(), tiny_dataset(), tmp_path)
    names = {m.name for m in result.metrics}
    assert "t_off_bias" not in names and "coverage" in names
    assert result.notes["fiducials"] == "not scored: the measurer returns none"


def test_phantom_records_are_their_own_resampling_units():
    assert recording_groups(tiny_dataset()) is None


@uses_shared_data
def test_qt_database_windows_are_broken_down_by_recording(tmp_path):
    from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir

    data = load_wfdb_dir(WFDBDirConfig(path=shared_sample("qtdb-sample"), cache=False))
    result = _run(Oracle(data, shift_ms=8.0), data, tmp_path, plots=True)
    metrics = {m.name: m for m in result.metrics}
    assert "6 recordings" in metrics["qt_mae"].params["ci"]
    assert metrics["qt_mae"].value == pytest.approx(8.0)
    assert set(result.samples["recording"]) == {"sel100", "sel116", "sel16265", "sel30", "sel803", "sele0104"}
    table = result.notes["per_recording"]
    assert table["sel100"]["qt"]["mean"] == pytest.approx(8.0)
    assert table["sel100"]["t_off"]["mean"] == pytest.approx(8.0, abs=1e-6)
    assert sum(entry["windows"] for entry in table.values()) == len(data)
    plots = {path.name: path for path, _ in result.artifacts}
    assert plots["errors-by-recording.png"].read_bytes()[:8] == PNG_MAGIC
    assert "bland-altman-qt.png" in plots


def test_scoring_a_samples_file_resamples_its_recordings_as_the_run_did(tmp_path):
    from ecgbench.metrics.intervals import interval_suite
    from ecgbench.scoring import score_samples

    rng = np.random.default_rng(1)
    n = 30
    arrays = {"recording": np.repeat([f"r{i}" for i in range(6)], 5), "sex": np.full(n, "M")}
    reference, measured = {}, {}
    for name, centre in (("pr", 160.0), ("qrs", 90.0), ("qt", 400.0), ("qtc", 420.0), ("hr", 70.0)):
        reference[name] = arrays[f"reference_{name}"] = rng.normal(centre, 20.0, n)
        measured[name] = arrays[f"measured_{name}"] = reference[name] + rng.normal(0.0, 10.0, n)
    np.savez(tmp_path / "s.npz", **arrays)
    scored = {m.name: m for m in score_samples("measure-intervals", tmp_path / "s.npz")}
    direct = {m.name: m for m in interval_suite(reference, measured, sex=arrays["sex"], groups=arrays["recording"])}
    assert "6 recordings" in scored["qt_mae"].params["ci"]
    assert (scored["qt_mae"].ci_low, scored["qt_mae"].ci_high) == (direct["qt_mae"].ci_low, direct["qt_mae"].ci_high)
