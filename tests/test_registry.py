"""Plugin discovery, isolation of broken plugins, name clashes and name resolution."""

import types

import pytest
from fake_plugins import entry_point, failing_entry_point, model_spec, plugin_module

from ecgbench import ModelSpec, hookimpl
from ecgbench.errors import BrokenPluginError, NameClashError, UnknownNameError
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
    shadow = status(registry, "shadow")
    assert shadow.status == "broken" and "'builtin'" in shadow.error and "'shadow'" in shadow.error
    assert registry.owner[("dataset", "phantom")] == "builtin"
    assert registry.dataset("phantom").factory == "ecgbench.data.phantom:load_phantom"  # still usable


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


# -- name clashes: neither side wins silently ----------------------------------------------------


def test_a_plugin_sorting_first_cannot_take_over_another_plugins_model_name():
    impostor = plugin_module("aaa-impostor", model_spec("baseline-features"))
    owner = plugin_module("baselines", model_spec("baseline-features"), model_spec("baseline-forest"))
    registry = Registry(
        entry_points=[entry_point("aaa-impostor", impostor), entry_point("baselines", owner)]
    )
    baselines = status(registry, "baselines")
    assert baselines.status == "broken"
    assert "'aaa-impostor'" in baselines.error and "'baselines'" in baselines.error
    with pytest.raises(NameClashError) as info:
        registry.model("baseline-features")
    assert "'aaa-impostor'" in str(info.value) and "'baselines'" in str(info.value)
    assert "ECGBENCH_DISABLE_PLUGINS" in str(info.value)


def test_a_run_of_a_contested_name_is_a_usage_error(monkeypatch, capsys):
    from ecgbench import cli

    impostor = plugin_module("aaa-impostor", model_spec("baseline-features"))
    owner = plugin_module("baselines", model_spec("baseline-features"))
    registry = Registry(
        entry_points=[entry_point("aaa-impostor", impostor), entry_point("baselines", owner)]
    )
    monkeypatch.setattr(cli, "_registry", lambda: registry)
    assert cli.main(["run", "--task", "generate", "--plugin", "baseline-features"]) == 2
    assert "claimed by plugin 'aaa-impostor'" in capsys.readouterr().err


def test_disabling_the_impostor_gives_the_name_back(monkeypatch):
    monkeypatch.setenv("ECGBENCH_DISABLE_PLUGINS", "aaa-impostor")
    impostor = plugin_module("aaa-impostor", model_spec("baseline-features"))
    owner = plugin_module("baselines", model_spec("baseline-features"))
    registry = Registry(
        entry_points=[entry_point("aaa-impostor", impostor), entry_point("baselines", owner)]
    )
    assert registry.owner[("model", "baseline-features")] == "baselines"
    assert registry.model("baseline-features").name == "baseline-features"


# -- a broken plugin's names, invalid specs, unknown tasks ------------------------------------------


def test_a_model_of_a_broken_plugin_is_reported_as_such():
    module = plugin_module("half", model_spec("gen-a"), model_spec("gen-b"), raise_after=1)
    registry = Registry(entry_points=[entry_point("half", module)])
    with pytest.raises(BrokenPluginError) as info:
        registry.model("gen-a")
    message = str(info.value)
    assert "Unknown" not in message
    assert "'half'" in message and "broken" in message and "failed while registering" in message


def test_an_unknown_name_mentions_the_plugins_that_failed_to_load():
    registry = Registry(entry_points=[failing_entry_point("bad", ImportError("No module named 'torchx'"))])
    with pytest.raises(UnknownNameError, match="'bad'.*torchx"):
        registry.model("gen-from-bad")


def _invalid_spec_module():
    module = types.ModuleType("invalid")

    @hookimpl
    def ecgbench_register_models(register):
        spec = dict(task="generate", summary="x", factory="a.b:c", config="a.b:d")
        register(ModelSpec(name="Not A Valid Name", **spec))  # the plugin's own line

    module.ecgbench_register_models = ecgbench_register_models
    return module


def test_an_invalid_spec_names_the_field_and_the_plugins_line():
    import inspect

    registry = Registry(entry_points=[entry_point("invalid", _invalid_spec_module())])
    invalid = status(registry, "invalid")
    source, first = inspect.getsourcelines(_invalid_spec_module)
    line = first + next(i for i, text in enumerate(source) if "the plugin's own line" in text)
    assert invalid.status == "broken"
    assert "name:" in invalid.error and "lower case" in invalid.error
    assert f"test_registry.py:{line}" in invalid.error


def test_a_model_for_an_unknown_task_breaks_its_plugin():
    module = plugin_module("odd-task", model_spec("gen-x", task="no-such-task"))
    registry = Registry(entry_points=[entry_point("odd-task", module)])
    odd = status(registry, "odd-task")
    assert odd.status == "broken" and "'no-such-task'" in odd.error
    with pytest.raises(BrokenPluginError, match="no-such-task"):
        registry.model("gen-x")


def test_a_plugin_registering_one_name_twice_is_broken():
    module = plugin_module("twice", model_spec("gen"), model_spec("gen"))
    registry = Registry(entry_points=[entry_point("twice", module)])
    assert "registers the model name 'gen' twice" in status(registry, "twice").error
