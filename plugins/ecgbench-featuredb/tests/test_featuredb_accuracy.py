"""FeatureDB against exact phantom ground truth and against cardiologist marks (QT Database)."""

from __future__ import annotations

import numpy as np
import pytest
from ecgbench_featuredb.featuredb import FeatureDB


def mean_absolute_error(measured: np.ndarray, reference: np.ndarray) -> tuple[float, int]:
    both = np.isfinite(measured) & np.isfinite(reference)
    return float(np.abs(measured[both] - reference[both]).mean()), int(both.sum())


@pytest.mark.slow
@pytest.mark.parametrize("fs", [100, 500])
def test_phantom_pr_and_qt_mae_are_under_20_ms(fs):
    from ecgbench.data.phantom import PhantomConfig, load_phantom

    data = load_phantom(PhantomConfig(n_records=120, fs=fs, seed=1, cache=False))
    m = FeatureDB().measure(data.signals, data.fs)
    for name in ("pr", "qt"):
        mae, n = mean_absolute_error(getattr(m, name), data.intervals[name].to_numpy())
        assert n >= 0.8 * np.isfinite(data.intervals[name].to_numpy()).sum(), f"{name}: abstained too often"
        assert mae < 20.0, f"{name} MAE {mae:.1f} ms"


@pytest.mark.slow
def test_phantom_atrial_fibrillation_gets_no_pr():
    from ecgbench.data.phantom import PhantomConfig, load_phantom

    data = load_phantom(PhantomConfig(n_records=300, fs=100, seed=2, cache=False))
    no_p = np.isnan(data.intervals["pr"].to_numpy())
    assert no_p.sum() >= 5
    m = FeatureDB().measure(data.signals[no_p], data.fs)
    assert np.isnan(m.pr).mean() >= 0.8


@pytest.mark.slow
@pytest.mark.shared_data
def test_qt_database_sample_pr_and_qt_mae_are_under_20_ms(qtdb_sample):
    from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir

    data = load_wfdb_dir(WFDBDirConfig(path=qtdb_sample, cache=False))
    m = FeatureDB().measure(data.signals, data.fs)
    for name in ("pr", "qt"):
        mae, n = mean_absolute_error(getattr(m, name), data.intervals[name].to_numpy())
        assert n >= 0.8 * len(data)
        assert mae < 20.0, f"{name} MAE {mae:.1f} ms against annotator 1"
