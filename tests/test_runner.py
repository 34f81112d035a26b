"""One run end to end through the runner, with dummy models from an in-memory plugin."""

import numpy as np
import pytest
from fake_plugins import entry_point, model_spec, plugin_module

from ecgbench.errors import ConfigError, SpecError, UnknownNameError
from ecgbench.records import read_record
from ecgbench.registry import Registry
from ecgbench.runner import RunRequest, execute, parse_sets

SMALL = ["data.n_records=100", "task.n_boot=20"]


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    module = plugin_module(
        "fakes",
        model_spec(
            "dummy-clf",
            task="classify-71-labels",
            factory="ecgbench.testing.dummies:create_classifier",
        ),
        model_spec(
            "nan-clf", task="classify-71-labels", factory="fake_plugins:create_nan_classifier"
        ),
        model_spec(
            "dummy-measurer",
            task="measure-intervals",
            factory="ecgbench.testing.dummies:create_measurer",
        ),
        model_spec("wrong-leads", task="generate", factory="fake_plugins:create_wrong_lead_order"),
    )
    return Registry(entry_points=[entry_point("fakes", module)])


def request(tmp_path, task, model, *sets, seed=0):
    return RunRequest(
        task=task,
        model=model,
        sets=[*SMALL, *sets],
        results=tmp_path / "results",
        quiet=True,
        seed=seed,
        argv=["run", "--task", task, "--plugin", model],
    )


def test_a_completed_run_writes_its_record_and_samples(tmp_path, registry):
    outcome = execute(request(tmp_path, "classify-71-labels", "dummy-clf"), registry)
    record = read_record(outcome.path)
    assert record.status == "completed" and record == outcome.record
    main = next(m for m in record.metrics if m.is_main)
    assert main.name == "macro_auroc" and main.ci_low is not None and main.higher_is_better
    assert record.dataset.n_records == 100 and record.dataset.splits["test"] > 0
    assert len(record.dataset.fingerprint) == 64 and record.seed == 0
    assert {"fit", "predict", "evaluate"} <= set(record.phases)
    samples = np.load(outcome.path.with_name(f"{record.run_id}.samples.npz"))
    assert samples["y_score"].shape == (record.dataset.splits["test"], 71)
    assert list(samples["label_codes"][:3]) == ["1AVB", "2AVB", "3AVB"]
    assert record.artifacts[0].kind == "samples" and len(record.artifacts[0].sha256) == 64


def test_the_prevalence_dummy_scores_chance_auroc(tmp_path, registry):
    record = execute(request(tmp_path, "classify-71-labels", "dummy-clf"), registry).record
    assert record.metric("macro_auroc").value == pytest.approx(0.5)


def test_a_contract_violation_is_recorded_as_a_failed_run(tmp_path, registry):
    record = execute(request(tmp_path, "classify-71-labels", "nan-clf"), registry).record
    assert record.status == "failed" and record.metrics == []
    (error,) = record.errors
    assert (
        error.type == "ContractViolation"
        and "nan-clf" in error.message
        and "finite" in error.message
    )


def test_a_generator_with_the_wrong_lead_order_fails_its_contract(tmp_path, registry):
    record = execute(
        request(tmp_path, "generate", "wrong-leads", "task.floor=false", "task.tstr=false"),
        registry,
    ).record
    assert record.status == "failed" and "lead" in record.errors[0].message


def test_an_abstaining_measurer_is_scored_with_its_abstain_rate(tmp_path, registry):
    record = execute(
        request(tmp_path, "measure-intervals", "dummy-measurer", "task.plots=false"), registry
    ).record
    assert record.status == "completed"
    # it abstains on PR, QRS, QT and QTc and answers HR: 4 of the 5 intervals with a reference
    samples = np.load(
        tmp_path
        / "results"
        / "measure-intervals"
        / "dummy-measurer"
        / f"{record.run_id}.samples.npz"
    )
    with_reference = sum(
        np.isfinite(samples[f"reference_{k}"]).sum() for k in ("pr", "qrs", "qt", "qtc", "hr")
    )
    expected = (
        sum(np.isfinite(samples[f"reference_{k}"]).sum() for k in ("pr", "qrs", "qt", "qtc"))
        / with_reference
    )
    assert record.metric("abstain_rate").value == pytest.approx(expected)
    assert (
        record.dataset.splits["scored"] == 100
    )  # a measurer without fit() is scored on every record


def test_the_same_seed_gives_the_same_numbers(tmp_path, registry):
    a = execute(request(tmp_path, "classify-71-labels", "dummy-clf"), registry).record
    b = execute(request(tmp_path, "classify-71-labels", "dummy-clf"), registry).record
    assert a.run_id != b.run_id
    assert [m.model_dump() for m in a.metrics] == [m.model_dump() for m in b.metrics]


def test_an_unknown_model_raises_before_anything_is_written(tmp_path, registry):
    with pytest.raises(UnknownNameError, match="dummy-clf"):
        execute(request(tmp_path, "classify-71-labels", "dummy-cfl"), registry)
    assert not (tmp_path / "results").exists()


def test_a_model_of_another_task_is_a_usage_error(tmp_path, registry):
    with pytest.raises(ConfigError, match="implements the task 'measure-intervals'"):
        execute(request(tmp_path, "classify-71-labels", "dummy-measurer"), registry)


def test_an_unknown_setting_is_a_usage_error_naming_the_known_ones(tmp_path, registry):
    with pytest.raises(ConfigError, match="unknown setting"):
        execute(
            request(tmp_path, "classify-71-labels", "dummy-clf", "task.n_bootstrap=5"), registry
        )


def test_set_values_are_parsed_as_json_where_possible():
    assert parse_sets(
        ["nfe=10", "solver=rk4", "task.floor=false", "data.n_records=50", "grid=[1,2]"]
    ) == {
        "model": {"nfe": 10, "solver": "rk4", "grid": [1, 2]},
        "task": {"floor": False},
        "data": {"n_records": 50},
    }


# -- a spec whose import strings cannot be resolved ---------------------------------------------


@pytest.fixture
def broken_specs(monkeypatch, tmp_path):
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    (tmp_path / "syntax_error_model.py").write_text("def create(config, ctx)\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = plugin_module(
        "shaky",
        model_spec("no-module", task="classify-71-labels", factory="ecgbench_not_installed.model:create"),
        model_spec("bad-syntax", task="classify-71-labels", factory="syntax_error_model:create"),
        model_spec("no-attr", task="classify-71-labels", factory="ecgbench.testing.dummies:no_such_factory"),
    )
    return Registry(entry_points=[entry_point("shaky", module, dist="ecgbench-shaky", version="0.1")])


@pytest.mark.parametrize(
    ("model", "detail"),
    [
        ("no-module", "No module named 'ecgbench_not_installed'"),
        ("bad-syntax", "SyntaxError"),
        ("no-attr", "has no attribute 'no_such_factory'"),
    ],
)
def test_an_unresolvable_factory_is_a_clear_error_naming_the_plugin_before_any_work(
    tmp_path, broken_specs, model, detail
):
    with pytest.raises(SpecError) as info:
        execute(request(tmp_path, "classify-71-labels", model), broken_specs)
    message = str(info.value)
    assert f"model {model!r} of plugin 'shaky' (ecgbench-shaky 0.1)" in message and detail in message
    assert not (tmp_path / "results").exists()


def test_the_run_command_prints_no_traceback_for_an_unresolvable_spec(
    tmp_path, broken_specs, monkeypatch, capsys
):
    from ecgbench import cli

    monkeypatch.setattr(cli, "_registry", lambda: broken_specs)
    code = cli.main(["run", "--task", "classify-71-labels", "--plugin", "bad-syntax", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 4 and "Traceback" not in err and "syntax_error_model" in err
