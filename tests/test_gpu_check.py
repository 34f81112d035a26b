"""scripts/gpu-check: the CPU-against-CUDA step comparison, tested CPU against CPU (no GPU here),
and the clear stop without a GPU."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu-check"


def load_script():
    loader = importlib.machinery.SourceFileLoader("gpu_check", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("gpu_check", loader))
    sys.modules["gpu_check"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpu_check():
    return load_script()


def linear_probe(gpu_check, seeded: bool = True):
    def build():
        if seeded:
            torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))

    def batch(seed):
        return torch.randn(8, 6, generator=torch.Generator().manual_seed(seed))

    def loss(net, x, device):
        return (net(x.to(device)) ** 2).mean()

    return gpu_check.Probe("linear", build, batch, loss, lambda net, x, device: len(x), 8)


def test_one_step_on_two_devices_from_the_same_weights_agrees(gpu_check):
    comparison = gpu_check.compare_step(linear_probe(gpu_check), ("cpu", "cpu"))
    assert comparison.ok and comparison.loss_relative == 0 and comparison.gradient_relative == 0


def test_a_step_from_other_weights_is_reported_as_a_mismatch(gpu_check):
    comparison = gpu_check.compare_step(linear_probe(gpu_check, seeded=False), ("cpu", "cpu"))
    assert not comparison.ok and comparison.gradient_relative > gpu_check.GRADIENT_TOLERANCE


def test_throughput_is_measured_in_steps_and_records(gpu_check):
    speed = gpu_check.measure(linear_probe(gpu_check), "cpu", iterations=2, amp=False)
    assert speed["iterations_per_s"] > 0 and speed["train_records_per_s"] == pytest.approx(8 * speed["iterations_per_s"], rel=0.01)
    assert speed["n_parameters"] == 6 * 4 + 4 + 4 + 1


def test_without_a_gpu_the_script_stops_and_says_why(gpu_check, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err


def test_a_dry_run_on_the_cpu_goes_through_a_real_model(gpu_check, installed_plugins, capsys):
    pytest.importorskip("ecgbench_flowecg")
    code = gpu_check.main(["--cpu-dry-run", "--models", "flowecg", "--iterations", "1", "--max-batch", "2",
                           "--sample-records", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "flowecg" in out and "ok (loss 0.0e+00, gradients 0.0e+00)" in out
