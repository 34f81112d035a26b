"""The plugin's registration: light to import, four models, valid budgets, published sizes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from ecgbench_jepa.pretrain import build_encoder

from ecgbench.nn.vit import count_parameters
from ecgbench.specs import load_object

MODELS = ("jepa-linear", "jepa-finetune", "jepa-finetune-after-linear", "jepa-linear-random")


def _specs() -> dict:
    from ecgbench_jepa import plugin

    found = {}
    plugin.ecgbench_register_models(lambda spec: found.setdefault(spec.name, spec))
    return found


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, ecgbench_jepa.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plugin_registers_four_classifiers() -> None:
    specs = _specs()
    assert set(specs) == set(MODELS)
    assert all(spec.task == "classify-71-labels" for spec in specs.values())


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("budget", ["ci", "paper"])
def test_every_budget_validates(name: str, budget: str) -> None:
    spec = _specs()[name]
    load_object(spec.config)(**spec.budgets[budget])


def test_random_baseline_skips_pretraining_and_the_others_pretrain() -> None:
    specs = _specs()
    pretrained = {name: load_object(s.config)(**s.budgets["ci"]).pretrained for name, s in specs.items()}
    assert pretrained == {"jepa-linear": True, "jepa-finetune": True, "jepa-finetune-after-linear": True,
                          "jepa-linear-random": False}


def test_probe_models_differ_only_in_pretraining() -> None:
    specs = _specs()
    linear = load_object(specs["jepa-linear"].config)(**specs["jepa-linear"].budgets["ci"]).model_dump()
    random = load_object(specs["jepa-linear-random"].config)(**specs["jepa-linear-random"].budgets["ci"]).model_dump()
    assert {k for k in linear if linear[k] != random[k]} == {"pretrained"}


def test_paper_budget_builds_the_published_vit_xs_at_500_hz() -> None:
    spec = _specs()["jepa-linear"]
    config = load_object(spec.config)(**spec.budgets["paper"])
    assert config.sample_rate_hz == 500.0 and config.pretrain_crop_s == 10.0
    with torch.device("meta"):
        at_500, at_100 = build_encoder(config, fs=500), build_encoder(config, fs=100)
    assert count_parameters(at_500) == 3_600_000
    assert (at_500.patch_size, at_100.patch_size) == (25, 5)
    assert at_500.n_positions == at_100.n_positions == 200


@pytest.mark.parametrize(("size", "parameters"), [("xs", 3_600_000), ("s", 14_277_888), ("b", 85_185_024)])
def test_published_sizes_by_name_on_the_paper_budget(size: str, parameters: int) -> None:
    spec = _specs()["jepa-finetune"]
    config = load_object(spec.config)(**{**spec.budgets["paper"], "vit_size": size})
    with torch.device("meta"):
        assert count_parameters(build_encoder(config, fs=500)) == parameters


def test_a_size_name_that_contradicts_the_budget_names_the_fields() -> None:
    spec = _specs()["jepa-linear"]
    with pytest.raises(ValueError, match="vit_size='s' means dim=384.*dim=64, depth=3"):
        load_object(spec.config)(**{**spec.budgets["ci"], "vit_size": "s"})


def test_the_size_table_matches_the_encoder_module() -> None:
    from ecgbench_jepa.config import PUBLISHED_SIZES

    from ecgbench.nn.vit import VIT_SIZES

    assert {k: (v.dim, v.depth, v.n_heads) for k, v in VIT_SIZES.items()} == PUBLISHED_SIZES


def test_fine_tune_after_linear_starts_from_the_linear_probes_settings() -> None:
    specs = _specs()
    after = load_object(specs["jepa-finetune-after-linear"].config)(**specs["jepa-finetune-after-linear"].budgets["ci"])
    linear = load_object(specs["jepa-linear"].config)(**specs["jepa-linear"].budgets["ci"])
    assert {k: v for k, v in after.model_dump().items() if k in linear.model_dump()} == linear.model_dump()
    published = load_object(specs["jepa-finetune-after-linear"].config)()
    assert (published.after_steps, published.after_lr, published.after_dropout) == (5000, 1e-4, 0.1)
