"""Weights as run artifacts: export with every trainable run, evaluate with --weights, convert.

A fake classifier that predicts its training prevalence stands for a trainable model: its
weights are that prevalence vector (``fake_plugins.PrevalenceClassifier``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from fake_plugins import entry_point, model_spec, plugin_module, prevalence_spec

from ecgbench.cli import main
from ecgbench.errors import ConfigError
from ecgbench.records import iter_records, read_record, scan_results, sha256_file
from ecgbench.registry import Registry
from ecgbench.runner import RunRequest, execute
from ecgbench.weights import WeightsError, WeightsMismatchError, read_header, read_metadata

torch = pytest.importorskip("torch")

SMALL = ["data.n_records=100", "task.n_boot=10", "task.explain_records=0"]


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    module = plugin_module("fakes", prevalence_spec(),
                           model_spec("dummy-clf", task="classify-71-labels", factory="ecgbench.testing.dummies:create_classifier"))
    return Registry(entry_points=[entry_point("fakes", module)])


def run(tmp_path, registry, *sets, weights=None, n_records=100):
    request = RunRequest(task="classify-71-labels", model="prevalence-clf",
                         sets=[*SMALL, f"data.n_records={n_records}", *sets], results=tmp_path / "results",
                         quiet=True, weights=weights, argv=["run"])
    return execute(request, registry)


@pytest.fixture
def trained(tmp_path, registry):
    outcome = run(tmp_path, registry, "smoothing=0.5")
    assert outcome.record.status == "completed", outcome.record.errors
    return outcome


def weights_file(outcome):
    return outcome.path.parent / outcome.record.weights.file


def test_a_trained_run_writes_its_weights_beside_the_record(trained):
    record = trained.record
    path = weights_file(trained)
    assert path == trained.path.parent / record.run_id / "weights.safetensors" and path.is_file()
    assert record.weights.source == "trained" and record.weights.location == "results"
    assert record.weights_sha256 == sha256_file(path) and record.trained_by_run == record.run_id
    assert any(a.kind == "weights" and a.sha256 == record.weights_sha256 for a in record.artifacts)


def test_the_weights_metadata_names_model_plugin_config_training_data_and_seed(trained):
    meta = read_metadata(weights_file(trained))
    record = trained.record
    assert (meta.model, meta.plugin, meta.plugin_version) == ("prevalence-clf", "ecgbench-fakes", "1.0")
    assert meta.config == {"smoothing": 0.5, "batch": 8} and meta.seed == 0 and meta.budget == "ci"
    assert meta.training_data.fingerprint == record.dataset.fingerprint
    assert meta.training_data.folds == record.dataset.folds and meta.trained_by_run == record.run_id
    assert "NORM" in meta.training_data.labels
    raw, _ = read_header(weights_file(trained))
    assert json.loads(raw["model"]) == "prevalence-clf"  # plain safetensors metadata, readable anywhere


def test_evaluating_the_weights_skips_training_and_names_where_they_came_from(tmp_path, registry, trained):
    again = run(tmp_path, registry, "smoothing=0.5", weights=weights_file(trained)).record
    assert again.status == "completed" and again.notes["trained_in_this_run"] is False
    assert again.weights.source == "imported" and again.weights_sha256 == trained.record.weights_sha256
    assert again.trained_by_run == trained.record.run_id and not again.weights.external_validation
    assert not any(a.kind == "weights" for a in again.artifacts)  # nothing new to export
    assert again.metric("macro_auroc").value == trained.record.metric("macro_auroc").value


def test_a_setting_the_model_allows_to_differ_is_adapted_and_recorded(tmp_path, registry, trained):
    record = run(tmp_path, registry, "smoothing=0.5", "batch=64", weights=weights_file(trained)).record
    assert record.weights.adapted == {"batch": [8, 64]} and record.model.config["batch"] == 64


def test_a_mismatched_setting_is_a_usage_error_naming_the_field_before_any_work(tmp_path, registry, trained):
    before = len(iter_records(tmp_path / "results"))
    with pytest.raises(WeightsMismatchError, match=r"field 'smoothing' is 0\.5 in the weights.*--set smoothing=0\.5"):
        run(tmp_path, registry, weights=weights_file(trained))
    assert isinstance(WeightsMismatchError("x"), ConfigError)
    assert len(iter_records(tmp_path / "results")) == before


def test_weights_of_another_architecture_are_refused(tmp_path, registry, trained, monkeypatch):
    from ecgbench import WeightsSpec

    module = plugin_module("others", prevalence_spec("other-clf", aliases=()).model_copy(
        update={"weights": WeightsSpec(accepts=("something-else",))}))
    others = Registry(entry_points=[entry_point("others", module)])
    request = RunRequest(task="classify-71-labels", model="other-clf", sets=SMALL, results=tmp_path / "r",
                         quiet=True, weights=weights_file(trained))
    with pytest.raises(WeightsMismatchError, match="architecture 'prevalence'.*loads 'something-else'"):
        execute(request, others)


def test_a_model_that_loads_no_weights_says_so(tmp_path, registry, trained):
    request = RunRequest(task="classify-71-labels", model="dummy-clf", sets=SMALL, results=tmp_path / "r",
                         quiet=True, weights=weights_file(trained))
    with pytest.raises(WeightsMismatchError, match="'dummy-clf' does not load weights"):
        execute(request, registry)


def test_a_file_that_is_not_ecgbench_weights_is_named(tmp_path, registry):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    (tmp_path / "junk.bin").write_bytes(b"not a safetensors file at all")
    with pytest.raises(WeightsError, match="foreign.safetensors: not an ecgbench weights file"):
        run(tmp_path, registry, weights=tmp_path / "foreign.safetensors")
    with pytest.raises(WeightsError, match="junk.bin"):
        run(tmp_path, registry, weights=tmp_path / "junk.bin")


def test_weights_larger_than_the_limit_stay_in_the_cache_and_the_record_keeps_hash_and_path(
        tmp_path, registry, monkeypatch, cache_dir):
    monkeypatch.setenv("ECGBENCH_WEIGHTS_IN_RESULTS_MAX_MB", "0")
    record = run(tmp_path, registry).record
    assert record.weights.location == "cache" and not any(a.kind == "weights" for a in record.artifacts)
    assert not list((tmp_path / "results").rglob("*.safetensors"))
    assert sha256_file(cache_dir / record.weights.file) == record.weights_sha256
    assert not scan_results(tmp_path / "results").orphans


def test_weights_trained_on_other_data_make_an_external_validation_on_the_shared_statements(
        tmp_path, registry, trained):
    external = run(tmp_path, registry, "smoothing=0.5", weights=weights_file(trained), n_records=120).record
    info = external.weights
    assert info.external_validation and info.training_data["fingerprint"] == trained.record.dataset.fingerprint
    assert external.dataset.fingerprint != trained.record.dataset.fingerprint
    assert set(info.shared_labels) <= set(info.training_data["labels"])
    samples = np.load(tmp_path / "results" / "classify-71-labels" / "prevalence-clf" / f"{external.run_id}.samples.npz")
    outside = [i for i, code in enumerate(samples["label_codes"]) if code not in info.shared_labels]
    assert samples["y_true"][:, outside].sum() == 0  # statements the training data lacked are not scored


def test_convert_then_show_then_evaluate_from_the_command_line(tmp_path, registry, monkeypatch, capsys):
    monkeypatch.setattr("ecgbench.cli._registry", lambda: registry)
    source = tmp_path / "published.pt"
    torch.save({"prev": torch.full((71,), 0.1)}, source)
    out = tmp_path / "converted.safetensors"
    assert main(["weights", "convert", "--from", "prevalence-pt", str(source), str(out)]) == 0
    assert "source_keys_mapped: 1" in capsys.readouterr().out
    assert main(["weights", "show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["converted_from"]["source_sha256"] == sha256_file(source) and shown["values"] == 71
    code = main(["run", "--task", "classify-71-labels", "--plugin", "prevalence-clf", "--weights", str(out),
                 "--out", str(tmp_path / "results"), "--quiet", *[f"--set={s}" for s in SMALL]])
    assert code == 0
    (record_path, record), = iter_records(tmp_path / "results")
    assert record.weights.converted_from["format"] == "prevalence-pt" and record.weights.external_validation
    assert read_record(record_path).trained_by_run is None


def test_an_unknown_format_lists_the_installed_ones(tmp_path, registry, monkeypatch, capsys):
    monkeypatch.setattr("ecgbench.cli._registry", lambda: registry)
    assert main(["weights", "convert", "--from", "nope", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "installed formats: prevalence-pt" in capsys.readouterr().err


def test_the_leaderboard_marks_imported_rows_and_gives_external_validation_its_own_section(
        tmp_path, registry, trained):
    from ecgbench.leaderboard import build_sections, render_markdown

    run(tmp_path, registry, "smoothing=0.5", weights=weights_file(trained))
    run(tmp_path, registry, "smoothing=0.5", weights=weights_file(trained), n_records=120)
    sections = build_sections([r for _, r in iter_records(tmp_path / "results")])["classify-71-labels"]
    own, external = sorted(sections, key=lambda s: bool(s.trained_on))
    label = "prevalence-clf [smoothing=0.5]"
    assert sorted(r.label for r in own.rows) == [label, f"{label} · weights {trained.record.weights_sha256[:8]}"]
    assert external.trained_on.startswith("phantom (data ") and "external validation" in external.title
    text = render_markdown("classify-71-labels", sections)
    assert f"run {trained.record.run_id}" in text and "| weights |" in text
    assert f"## {external.title}" in text  # the section title says what the weights were trained on


def test_a_matrix_entry_can_evaluate_the_weights_another_entry_exported(tmp_path, registry, trained):
    from ecgbench.devtools import _done, _weights_of

    train = {"id": "prev", "task": "classify-71-labels", "model": "prevalence-clf", "sets": ["smoothing=0.5"]}
    evaluate = {"task": "classify-71-labels", "model": "prevalence-clf", "sets": ["smoothing=0.5"], "weights_of": "prev"}
    results = tmp_path / "results"
    assert _weights_of(evaluate, [train, evaluate], results) == weights_file(trained)
    assert _done(train, results) and not _done(evaluate, results)  # an imported run is its own entry
    run(tmp_path, registry, "smoothing=0.5", weights=weights_file(trained))
    assert _done(evaluate, results)
    assert "no entry with id 'nope'" in _weights_of({**evaluate, "weights_of": "nope"}, [train], results)
