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
    def as_float(x: float | None) -> float:  # records store an undefined value as null
        return float("nan") if x is None else x

    for metric in record.metrics:
        assert rescored[metric.name].value == pytest.approx(as_float(metric.value), abs=1e-12, nan_ok=True)
        assert rescored[metric.name].ci_low == pytest.approx(as_float(metric.ci_low), abs=1e-12, nan_ok=True)


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


# -- bad input gets a clear error ---------------------------------------------------------------


def _classification_file(tmp_path, **replace):
    rng = np.random.default_rng(2)
    arrays = {"y_true": (rng.random((30, 71)) < 0.3).astype(np.uint8), "y_score": rng.random((30, 71))}
    arrays.update(replace)
    np.savez(tmp_path / "s.npz", **arrays)
    return tmp_path / "s.npz"


@pytest.mark.parametrize("bad", [1.2, -0.1])
def test_scores_outside_0_to_1_are_refused_as_a_run_refuses_them(tmp_path, bad):
    y_score = np.random.default_rng(0).random((30, 71))
    y_score[4, 2] = bad
    with pytest.raises(DataError, match=r"y_score must be probabilities in \[0, 1\]"):
        score_samples("classify-71-labels", _classification_file(tmp_path, y_score=y_score))


def test_empty_arrays_are_refused(tmp_path):
    path = _classification_file(tmp_path, y_true=np.zeros((0, 71)), y_score=np.zeros((0, 71)))
    with pytest.raises(DataError, match="holds no records"):
        score_samples("classify-71-labels", path)


def test_a_single_npy_array_is_named_as_such(tmp_path):
    np.save(tmp_path / "scores.npy", np.zeros((3, 71)))
    with pytest.raises(DataError, match="a single .npy array"):
        score_samples("classify-71-labels", tmp_path / "scores.npy")


def test_a_text_file_is_not_called_pickled_data(tmp_path):
    (tmp_path / "s.npz").write_text("record_id,score\n1,0.5\n")
    with pytest.raises(DataError, match="not a .npz archive") as info:
        score_samples("classify-71-labels", tmp_path / "s.npz")
    assert "pickle" not in str(info.value)


def test_label_codes_that_name_no_scp_statement_are_refused(tmp_path):
    codes = np.array(["NORM", "AFIB", "NOPE"])
    rng = np.random.default_rng(3)
    path = _classification_file(tmp_path, y_true=(rng.random((30, 3)) < 0.5).astype(np.uint8),
                                y_score=rng.random((30, 3)), label_codes=codes)
    with pytest.raises(DataError, match=r"label_codes \['NOPE'\]"):
        score_samples("classify-71-labels", path)


def test_arrays_of_different_lengths_are_refused(tmp_path):
    path = _classification_file(tmp_path, y_score=np.random.default_rng(0).random((29, 71)))
    with pytest.raises(DataError, match="different lengths"):
        score_samples("classify-71-labels", path)


def test_interval_arrays_of_different_lengths_are_refused(tmp_path):
    arrays = {f"{kind}_{k}": np.full(10, 400.0) for kind in ("reference", "measured") for k in ("pr", "qrs", "qt", "qtc", "hr")}
    arrays["measured_qt"] = np.full(9, 400.0)
    np.savez(tmp_path / "s.npz", **arrays)
    with pytest.raises(DataError, match="different lengths"):
        score_samples("measure-intervals", tmp_path / "s.npz")


def test_the_score_command_reports_bad_input_without_a_traceback(tmp_path, capsys):
    np.save(tmp_path / "scores.npy", np.zeros((3, 71)))
    code = main(["score", "--task", "classify-71-labels", "--samples", str(tmp_path / "scores.npy")])
    err = capsys.readouterr().err
    assert code == 4 and "Traceback" not in err and "scores.npy" in err
