"""The command line: listings stay light, usage errors exit 2, runs print and record."""

import json
import subprocess
import sys
import time

import pytest

from ecgbench.cli import main


def test_listing_plugins_imports_neither_torch_nor_numpy(installed_plugins):
    code = "import sys; from ecgbench.cli import main; main(['plugins']); print(sorted(m for m in ('torch', 'numpy', 'pandas') if m in sys.modules))"
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert time.perf_counter() - start < 5  # generous: the budget (1 s) is checked in benchmarks/


def test_plugins_json_lists_the_builtin_with_what_it_registers(capsys):
    assert main(["plugins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    builtin = next(r for r in rows if r["name"] == "builtin")
    assert builtin["status"] == "ok" and "generate" in builtin["registered"]["task"]


def test_tasks_and_datasets_print_one_line_each(capsys):
    assert main(["tasks"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    assert main(["datasets"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_an_unknown_model_exits_2_with_suggestions(capsys, tmp_path):
    code = main(["run", "--task", "generate", "--plugin", "no-such-model", "--out", str(tmp_path)])
    assert code == 2
    assert "Unknown model 'no-such-model'" in capsys.readouterr().err


def test_a_missing_data_path_is_a_usage_error(capsys, tmp_path, installed_plugins):
    from ecgbench.registry import Registry

    if "example-knn" not in Registry().aliases["model"]:
        pytest.skip("the example plugin is not installed")
    code = main(
        [
            "run",
            "--task",
            "classify-71-labels",
            "--plugin",
            "example-knn",
            "--dataset",
            "ptbxl",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2 and "--data-path" in capsys.readouterr().err


def test_schema_prints_the_record_json_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "RunRecord"


def test_leaderboard_check_exits_5_when_files_differ(tmp_path, capsys):
    from record_factory import make_record

    from ecgbench.records import write_record

    write_record(make_record(), tmp_path / "results")
    args = ["leaderboard", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb")]
    assert main([*args, "--check"]) == 5
    assert main(args) == 0
    assert main([*args, "--check"]) == 0


def test_leaderboard_html_writes_the_site_where_asked_and_check_covers_it(tmp_path, capsys):
    from record_factory import make_record

    from ecgbench.records import write_record

    write_record(make_record(), tmp_path / "results")
    args = ["leaderboard", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "lb"),
            "--html", str(tmp_path / "www")]
    assert main(args) == 0
    assert f"{tmp_path / 'www' / 'index.html'} (" in capsys.readouterr().out
    assert (tmp_path / "www" / "tasks" / "classify-71-labels.html").is_file()
    assert not (tmp_path / "lb" / "site").exists()
    assert main([*args, "--check"]) == 0
    (tmp_path / "www" / "index.html").write_text("edited")
    assert main([*args, "--check"]) == 5
    assert "www/index.html" in capsys.readouterr().err


def test_run_validate_and_leaderboard_with_the_installed_example_plugin(
    tmp_path, capsys, installed_plugins
):
    from ecgbench.registry import Registry

    if "example-knn" not in Registry().aliases["model"]:
        pytest.skip("the example plugin is not installed")
    assert main(["validate", "--plugin", "example-knn"]) == 0
    assert "FAIL" not in capsys.readouterr().out
    code = main(
        [
            "run",
            "--task",
            "classify-71-labels",
            "--plugin",
            "example-knn",
            "--set",
            "data.n_records=100",
            "--set",
            "task.n_boot=20",
            "--out",
            str(tmp_path / "results"),
            "--leaderboards",
            str(tmp_path / "lb"),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "macro_auroc" in out and "record:" in out
    assert (tmp_path / "lb" / "classify-71-labels.md").exists()
