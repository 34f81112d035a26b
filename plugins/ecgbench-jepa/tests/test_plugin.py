"""The plugin's registration: light to import, three models, valid budgets."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from ecgbench_jepa.pretrain import build_encoder

from ecgbench.nn.vit import count_parameters
from ecgbench.specs import load_object

MODELS = ("jepa-linear", "jepa-finetune", "jepa-linear-random")


def _specs() -> dict:
    from ecgbench_jepa import plugin

    found = {}
    plugin.ecgbench_register_models(lambda spec: found.setdefault(spec.name, spec))
    return found


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, ecgbench_jepa.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plugin_registers_three_classifiers() -> None:
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
    assert pretrained == {"jepa-linear": True, "jepa-finetune": True, "jepa-linear-random": False}


def test_probe_models_differ_only_in_pretraining() -> None:
    specs = _specs()
    linear = load_object(specs["jepa-linear"].config)(**specs["jepa-linear"].budgets["ci"]).model_dump()
    random = load_object(specs["jepa-linear-random"].config)(**specs["jepa-linear-random"].budgets["ci"]).model_dump()
    assert {k for k in linear if linear[k] != random[k]} == {"pretrained"}


def test_paper_budget_builds_the_published_vit_xs_at_500_hz() -> None:
    spec = _specs()["jepa-linear"]
    config = load_object(spec.config)(**spec.budgets["paper"])
    with torch.device("meta"):
        at_500, at_100 = build_encoder(config, fs=500), build_encoder(config, fs=100)
    assert count_parameters(at_500) == 3_600_000
    assert (at_500.patch_size, at_100.patch_size) == (25, 5)
    assert at_500.n_positions == at_100.n_positions == 200
