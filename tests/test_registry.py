"""Plugin discovery, isolation of broken plugins, name clashes and name resolution."""

import types

import pytest
from fake_plugins import entry_point, failing_entry_point, model_spec, plugin_module

from ecgbench import hookimpl
from ecgbench.errors import UnknownNameError
from ecgbench.registry import Registry


@pytest.fixture(autouse=True)
def plugin_switches_unset(monkeypatch):
    """These tests pass their entry points explicitly; the load filter would hide them."""
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)


def status(registry: Registry, name: str):
    return next(p for p in registry.plugins if p.name == name)


def test_builtin_plugin_registers_the_four_tasks_and_three_datasets():
    registry = Registry(entry_points=[])
    assert sorted(registry.specs["task"]) == [
        "classify-71-labels",
        "generate",
        "interpret-image",
        "measure-intervals",
    ]
    assert sorted(registry.specs["dataset"]) == ["phantom", "ptbxl", "wfdb-dir"]
    assert status(registry, "builtin").status == "ok"


def test_a_plugin_from_an_entry_point_registers_its_models_with_its_distribution():
    module = plugin_module("good", model_spec("gen-a"), model_spec("gen-b"))
    registry = Registry(
        entry_points=[entry_point("good", module, dist="ecgbench-good", version="2.1")]
    )
    assert [s.name for s in registry.models("generate")] == ["gen-a", "gen-b"]
    good = status(registry, "good")
    assert (good.status, good.dist, good.version) == ("ok", "ecgbench-good", "2.1")
    assert good.registered["model"] == ["gen-a", "gen-b"]
    assert registry.versions()["ecgbench-good"] == "2.1"


def test_a_plugin_whose_import_fails_is_broken_and_the_others_still_load():
    good = plugin_module("good", model_spec("gen-a"))
    registry = Registry(
        entry_points=[
            failing_entry_point("bad", ImportError("No module named 'torchx'")),
            entry_point("good", good),
        ]
    )
    bad = status(registry, "bad")
    assert bad.status == "broken" and "torchx" in bad.error
    assert [s.name for s in registry.models()] == ["gen-a"]


def test_a_plugin_whose_hook_raises_is_rolled_back():
    module = plugin_module("half", model_spec("gen-a"), model_spec("gen-b"), raise_after=1)
    registry = Registry(entry_points=[entry_point("half", module)])
    half = status(registry, "half")
    assert half.status == "broken" and "failed while registering" in half.error
    assert registry.models() == []  # gen-a, registered before the failure, is gone too
    with pytest.raises(UnknownNameError):
        registry.model("gen-a")


def test_a_misspelled_hook_marks_the_plugin_broken():
    module = types.ModuleType("typo")

    @hookimpl
    def ecgbench_register_model(register):  # missing the final "s"
        pass

    module.ecgbench_register_model = ecgbench_register_model
    registry = Registry(entry_points=[entry_point("typo", module)])
    typo = status(registry, "typo")
    assert typo.status == "broken" and "ecgbench_register_model" in typo.error


def test_a_name_clash_names_both_plugins_and_the_first_keeps_the_name():
    first = plugin_module("alpha", model_spec("shared"))
    second = plugin_module("beta", model_spec("shared"), model_spec("only-beta"))
    registry = Registry(entry_points=[entry_point("alpha", first), entry_point("beta", second)])
    beta = status(registry, "beta")
    assert beta.status == "broken"
    assert "'beta'" in beta.error and "'alpha'" in beta.error
    assert registry.owner[("model", "shared")] == "alpha"
    assert [s.name for s in registry.models()] == ["shared"]


def test_an_alias_that_clashes_with_another_name_is_a_clash():
    first = plugin_module("alpha", model_spec("gen"))
    second = plugin_module("beta", model_spec("other", aliases=("gen",)))
    registry = Registry(entry_points=[entry_point("alpha", first), entry_point("beta", second)])
    assert status(registry, "beta").status == "broken"


def test_a_dataset_named_like_a_builtin_loses_to_the_builtin():
    from ecgbench import DatasetSpec

    module = types.ModuleType("shadow")

    @hookimpl
    def ecgbench_register_datasets(register):
        register(DatasetSpec(name="phantom", summary="x", factory="a.b:c", config="a.b:d"))

    module.ecgbench_register_datasets = ecgbench_register_datasets
    registry = Registry(entry_points=[entry_point("shadow", module)])
    assert status(registry, "shadow").status == "broken"
    assert registry.owner[("dataset", "phantom")] == "builtin"


def test_aliases_resolve_to_the_canonical_spec():
    module = plugin_module("good", model_spec("flow-thing", aliases=("flow", "ft")))
    registry = Registry(entry_points=[entry_point("good", module)])
    assert registry.model("ft").name == "flow-thing"


def test_an_unknown_name_suggests_close_names_and_lists_what_exists():
    module = plugin_module("good", model_spec("flowecg"))
    registry = Registry(entry_points=[entry_point("good", module)])
    with pytest.raises(UnknownNameError) as info:
        registry.model("flowcg")
    assert "Did you mean: flowecg" in str(info.value) and "Available: flowecg" in str(info.value)


def test_disable_plugins_blocks_the_named_entry_points(monkeypatch):
    monkeypatch.setenv("ECGBENCH_DISABLE_PLUGINS", "good")
    registry = Registry(
        entry_points=[entry_point("good", plugin_module("good", model_spec("gen-a")))]
    )
    assert status(registry, "good").status == "blocked"
    assert registry.models() == []


def test_load_plugins_loads_only_the_named_entry_points(monkeypatch):
    monkeypatch.setenv("ECGBENCH_LOAD_PLUGINS", "b")
    registry = Registry(
        entry_points=[
            entry_point("a", plugin_module("a", model_spec("gen-a"))),
            entry_point("b", plugin_module("b", model_spec("gen-b"))),
        ]
    )
    assert [s.name for s in registry.models()] == ["gen-b"]


def test_strict_mode_reraises_a_plugin_failure():
    with pytest.raises(ImportError):
        Registry(entry_points=[failing_entry_point("bad", ImportError("boom"))], strict=True)


def test_a_spec_needing_a_newer_plugin_api_is_incompatible():
    module = plugin_module("future", model_spec("gen-future", requires_api=99))
    registry = Registry(entry_points=[entry_point("future", module)])
    future = status(registry, "future")
    assert future.status == "incompatible" and "Upgrade" in future.error


def test_an_entry_point_that_is_not_a_module_is_broken():
    registry = Registry(entry_points=[entry_point("odd", object())])
    assert status(registry, "odd").status == "broken"


def test_installed_example_plugin_is_discovered_through_its_entry_point(installed_plugins):
    from importlib import metadata

    names = {ep.name for ep in metadata.entry_points(group="ecgbench")}
    if "example" not in names:
        pytest.skip("examples/ecgbench-example-plugin is not installed in this environment")
    registry = Registry()
    assert registry.model("example-knn").task == "classify-71-labels"
    assert status(registry, "example").dist == "ecgbench-example-plugin"
