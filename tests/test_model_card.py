"""Model cards: the spec, the plugin, every config field and the best committed results."""

from __future__ import annotations

import json

import pytest
from fake_plugins import CardConfig, entry_point, model_spec, plugin_module
from record_factory import make_record

from ecgbench.cli import main
from ecgbench.leaderboard import build_sections
from ecgbench.model_card import best_results, config_fields, refresh_cards, render_text, spec_card
from ecgbench.records import write_record
from ecgbench.registry import Registry


@pytest.fixture
def registry(monkeypatch) -> Registry:
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    spec = model_spec(
        "carded", task="classify-71-labels", citation="Doe et al. 2025", reference="https://example.org/paper",
        license="MIT", training_datasets=("ptbxl",), budgets={"ci": {"depth": 2}, "paper": {"depth": 12}},
    ).model_copy(update={"config": "fake_plugins:CardConfig"})
    return Registry(entry_points=[entry_point("cards", plugin_module("cards", spec), dist="ecgbench-cards", version="1.2")])


def test_every_config_field_has_its_type_default_constraints_and_description():
    assert config_fields(CardConfig) == [
        {"name": "depth", "type": "int", "default": 4, "constraints": "≥ 1", "description": "layers"},
        {"name": "solver", "type": "Literal['euler', 'rk4']", "default": "euler", "constraints": "",
         "description": "ODE solver"},
        {"name": "widths", "type": "list[int]", "default": [8, 16], "constraints": "", "description": "channels per stage"},
    ]


def test_a_card_names_the_citation_licence_budgets_and_plugin_version(registry):
    card = spec_card(registry.model("carded"), registry)
    assert card["citation"] == "Doe et al. 2025" and card["license"] == "MIT"
    assert card["plugin"] == {"name": "cards", "dist": "ecgbench-cards", "version": "1.2"}
    assert card["budgets"] == {"ci": {"depth": 2}, "paper": {"depth": 12}}
    assert card["training_datasets"] == ["ptbxl"]


def test_best_results_are_the_models_top_row_in_every_section():
    records = [
        make_record(run_id="r1", model="carded", variant="depth=1", main=("macro_auroc", 0.6, 0.55, 0.65)),
        make_record(run_id="r2", model="carded", variant="depth=8", main=("macro_auroc", 0.9, 0.85, 0.95)),
        make_record(run_id="r3", model="other", main=("macro_auroc", 0.8, 0.78, 0.82)),
    ]
    (result,) = best_results("carded", build_sections(records))
    assert (result["rank"], result["of"], result["row"], result["run_id"]) == ("1", 3, "carded [depth=8]", "r2")
    assert result["text"] == "0.9 [0.85, 0.95]"


def test_the_printed_card_shows_every_field_with_the_budget_values(registry, tmp_path):
    card = spec_card(registry.model("carded"), registry)
    text = render_text(card, [], tmp_path)
    assert "citation    Doe et al. 2025" in text
    assert "  depth: int = 4  (ci 2; paper 12)  [≥ 1]\n      layers" in text
    assert "none: no completed run" in text


def test_cards_of_models_whose_plugin_is_absent_are_carried_over(registry):
    previous = {"gone": {"name": "gone", "summary": "kept"}, "carded": {"name": "carded", "summary": "stale"}}
    cards = refresh_cards(["carded", "gone", "unknown"], previous, registry)
    assert sorted(cards) == ["carded", "gone"]
    assert cards["gone"]["summary"] == "kept" and cards["carded"]["summary"] == "test model carded"


def test_a_card_whose_config_cannot_be_imported_keeps_the_previous_one(monkeypatch, capsys):
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    spec = model_spec("broken-config").model_copy(update={"config": "no_such_module:Config"})
    registry = Registry(entry_points=[entry_point("bc", plugin_module("bc", spec))])
    cards = refresh_cards(["broken-config"], {"broken-config": {"name": "broken-config", "summary": "kept"}}, registry)
    assert cards["broken-config"]["summary"] == "kept"
    assert "no_such_module" in capsys.readouterr().err


def test_models_show_prints_the_card_and_the_best_committed_result(installed_plugins, tmp_path, capsys):
    if "example-knn" not in Registry().aliases["model"]:
        pytest.skip("the example plugin is not installed")
    write_record(make_record(run_id="r1", model="example-knn"), tmp_path / "results")
    assert main(["models", "show", "example-knn", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "ecgbench-example-plugin" in out and "k: int = 15" in out and "rank 1 of 1" in out
    assert main(["models", "show", "example-knn", "--json", "--results", str(tmp_path / "results")]) == 0
    assert json.loads(capsys.readouterr().out)["best_results"][0]["run_id"] == "r1"


def test_models_show_of_an_unknown_model_is_a_usage_error(capsys):
    assert main(["models", "show", "no-such-model"]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_a_card_says_which_weights_the_model_takes_and_converts(monkeypatch, tmp_path):
    from fake_plugins import prevalence_spec

    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    registry = Registry(entry_points=[entry_point("prev", plugin_module("prev", prevalence_spec()))])
    card = spec_card(registry.model("prevalence-clf"), registry)
    assert card["weights"] == {"accepts": ["prevalence"], "adaptable": ["batch"], "converts": ["prevalence-pt"]}
    assert "`ecgbench weights convert --from` prevalence-pt" in render_text(card, [], tmp_path)
