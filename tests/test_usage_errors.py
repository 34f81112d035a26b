"""Every bad option is a usage error (exit 2) that names the problem, before any data is read."""

from __future__ import annotations

import pytest

from ecgbench import cli
from ecgbench.data.dataset import FoldSplit
from ecgbench.errors import ConfigError

RUN = ["run", "--task", "classify-71-labels", "--plugin", "dummy-clf", "--quiet"]


@pytest.fixture
def no_work(monkeypatch):
    """Loading any dataset fails the test: usage errors must come first."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a dataset was loaded")

    for name in ("ecgbench.data.phantom.load_phantom", "ecgbench.data.ptbxl.load_ptbxl"):
        monkeypatch.setattr(name, forbidden)


def usage_error(capsys, *argv: str) -> str:
    """Run the command, expect exit 2 (from argparse or from ecgbench), return stderr."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# -- --folds -------------------------------------------------------------------------------------


@pytest.mark.parametrize("folds", ["train=1-x", "train=1,train=2", "tran=1-6", "train=1-6,val=6"])
def test_a_malformed_fold_override_exits_2(fake_cli, no_work, tmp_path, capsys, folds):
    err = usage_error(capsys, *RUN, "--folds", folds, "--out", str(tmp_path))
    assert "fold override" in err


def test_a_reversed_fold_range_is_refused_with_the_fix(fake_cli, no_work, tmp_path, capsys):
    err = usage_error(capsys, *RUN, "--folds", "train=6-1,val=7,test=8", "--out", str(tmp_path))
    assert "runs backwards; write 1-6" in err


def test_fold_override_errors_are_config_errors():
    with pytest.raises(ConfigError, match="runs backwards"):
        FoldSplit.parse("train=6-1")


# -- --seed ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5", "x"])
def test_a_seed_outside_0_to_2_to_the_32_exits_2(fake_cli, no_work, tmp_path, capsys, seed):
    err = usage_error(capsys, *RUN, f"--seed={seed}", "--out", str(tmp_path))
    assert "seed" in err


def test_the_largest_seed_is_accepted():
    assert cli.build_parser().parse_args([*RUN, "--seed", str(2**32 - 1)]).seed == 2**32 - 1


# -- --set values are typed exactly ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("data.n_records=true", "valid integer"),
        ("data.n_records=12.5", "valid integer"),
        ("data.noise=true", "valid number"),
        ("task.n_boot=false", "valid integer"),
    ],
)
def test_a_set_value_of_the_wrong_type_is_refused_not_coerced(
    fake_cli, no_work, tmp_path, capsys, setting, problem
):
    err = usage_error(capsys, *RUN, "--set", setting, "--out", str(tmp_path))
    assert setting.split(".", 1)[1].split("=")[0] in err and problem in err


def test_a_whole_number_still_sets_a_float(fake_cli, tmp_path):
    code = cli.main([*RUN, "--set", "data.n_records=100", "--set", "data.noise=1", "--set", "task.n_boot=10",
                     "--out", str(tmp_path), "--no-leaderboard"])
    assert code == 0


def test_data_summary_types_its_settings_exactly_too(capsys):
    err = usage_error(capsys, "data", "summary", "phantom", "--set", "n_records=true")
    assert "n_records" in err


# -- options and --set values that disagree -----------------------------------------------------------


def test_fs_given_twice_with_different_values_is_a_conflict(fake_cli, no_work, tmp_path, capsys):
    err = usage_error(capsys, *RUN, "--fs", "500", "--set", "data.fs=100", "--out", str(tmp_path))
    assert "--fs 500" in err and "data.fs=100" in err


def test_fs_given_twice_with_the_same_value_is_fine(fake_cli, tmp_path):
    code = cli.main([*RUN, "--fs", "100", "--set", "data.fs=100", "--set", "data.n_records=100",
                     "--set", "task.n_boot=10", "--out", str(tmp_path), "--no-leaderboard"])
    assert code == 0


def test_data_summary_refuses_the_same_conflict(capsys):
    err = usage_error(capsys, "data", "summary", "phantom", "--fs", "500", "--set", "fs=100")
    assert "disagree" in err


# -- --device cuda --------------------------------------------------------------------------------


def test_device_cuda_without_a_gpu_is_a_usage_error_about_the_gpu(fake_cli, no_work, tmp_path, capsys):
    """The dummy model imports no torch at all, as a model that imports it lazily looks at first."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
    err = usage_error(capsys, *RUN, "--device", "cuda", "--out", str(tmp_path))
    assert "does not use torch" not in err
    assert "no CUDA device" in err or "not installed" in err
    assert not list(tmp_path.rglob("*.json"))
