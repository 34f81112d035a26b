"""`ecgbench score` gives a run's numbers back from its samples file alone."""

import numpy as np
import pytest
from fake_plugins import entry_point, model_spec, plugin_module

from ecgbench.cli import main
from ecgbench.errors import DataError
from ecgbench.registry import Registry
from ecgbench.runner import RunRequest, execute
from ecgbench.scoring import score_samples


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    module = plugin_module(
        "fakes",
        model_spec("clf", task="classify-71-labels", factory="ecgbench.testing.dummies:create_classifier"),
    )
    registry = Registry(entry_points=[entry_point("fakes", module)])

    def do(task, model):
        request = RunRequest(task=task, model=model, sets=["data.n_records=100"], results=tmp_path, quiet=True)
        outcome = execute(request, registry)
        return outcome.record, outcome.path.with_name(f"{outcome.record.run_id}.samples.npz")

    return do


def test_rescoring_a_classification_samples_file_reproduces_the_record(run):
    record, samples = run("classify-71-labels", "clf")
    rescored = {m.name: m for m in score_samples("classify-71-labels", samples)}
    for metric in record.metrics:
        assert rescored[metric.name].value == pytest.approx(metric.value, abs=1e-12, nan_ok=True)
        assert rescored[metric.name].ci_low == pytest.approx(metric.ci_low, abs=1e-12, nan_ok=True)


def test_fixed_bootstrap_ids_fix_the_interval_whatever_the_seed(tmp_path):
    rng = np.random.default_rng(0)
    y = (rng.random((60, 71)) < 0.3).astype(np.uint8)
    score = np.clip(y * 0.3 + rng.random((60, 71)) * 0.7, 0, 1).astype(np.float32)
    np.savez(tmp_path / "s.npz", y_true=y, y_score=score)
    np.save(tmp_path / "ids.npy", rng.integers(0, 60, size=(50, 60)))
    a = score_samples("classify-71-labels", tmp_path / "s.npz", tmp_path / "ids.npy", seed=1)[0]
    b = score_samples("classify-71-labels", tmp_path / "s.npz", tmp_path / "ids.npy", seed=2)[0]
    c = score_samples("classify-71-labels", tmp_path / "s.npz", seed=1)[0]
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high) != (c.ci_low, c.ci_high)


def test_a_samples_file_without_the_needed_arrays_names_them(tmp_path):
    np.savez(tmp_path / "s.npz", y_true=np.zeros((3, 71)))
    with pytest.raises(DataError, match="y_score"):
        score_samples("classify-71-labels", tmp_path / "s.npz")


def test_the_score_command_prints_the_interval_metrics(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ref = rng.normal(400, 30, 40)
    arrays = {f"reference_{k}": ref for k in ("pr", "qrs", "qt", "qtc", "hr")}
    arrays.update({f"measured_{k}": ref + rng.normal(0, 5, 40) for k in ("pr", "qrs", "qt", "qtc", "hr")})
    np.savez(tmp_path / "s.npz", **arrays)
    assert main(["score", "--task", "measure-intervals", "--samples", str(tmp_path / "s.npz")]) == 0
    assert "qt_mae" in capsys.readouterr().out
