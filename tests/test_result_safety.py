"""No result is ever lost or clobbered: runs check where they write before working, never rebuild
another tree's leaderboards, and a rebuild sees damaged, altered and orphaned files."""

from __future__ import annotations

import numpy as np
import pytest
from fake_plugins import entry_point, model_spec, plugin_module
from record_factory import make_record

from ecgbench import cli
from ecgbench.leaderboard import build, check
from ecgbench.records import Artifact, scan_results, write_record, write_samples

SMALL = ["--set", "data.n_records=100", "--set", "task.n_boot=20", "--quiet"]


@pytest.fixture
def fakes(fake_cli):
    return fake_cli


def run(*args: str) -> int:
    return cli.main(["run", "--task", "classify-71-labels", "--plugin", "dummy-clf", *SMALL, *args])


def with_samples(results, run_id="r1", model="a", altered=False):
    """A record whose samples file is written beside it (and then altered, if asked)."""
    folder = results / "classify-71-labels" / model
    path = write_samples({"record_id": np.array(["x"])}, folder / f"{run_id}.samples.npz")
    record = make_record(run_id=run_id, model=model).model_copy(
        update={"artifacts": [Artifact(path=path.name, sha256=_sha(path), kind="samples")]}
    )
    write_record(record, results)
    if altered:
        np.savez(path, record_id=np.array(["y"]))
    return path


def _sha(path):
    from ecgbench.records import sha256_file

    return sha256_file(path)


# -- a run never rebuilds leaderboards from another results tree ---------------------------------


def test_a_run_into_another_results_folder_leaves_the_project_leaderboards_alone(
    fakes, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leaderboards").mkdir()
    (tmp_path / "leaderboards" / "classify-71-labels.md").write_text("the project's rows\n")
    assert run("--out", str(tmp_path / "elsewhere")) == 0
    assert (tmp_path / "leaderboards" / "classify-71-labels.md").read_text() == "the project's rows\n"
    assert "leaderboards not rebuilt" in capsys.readouterr().out


def test_a_run_into_the_project_results_folder_rebuilds_the_project_leaderboards(
    fakes, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert run() == 0
    assert "dummy-clf" in (tmp_path / "leaderboards" / "classify-71-labels.md").read_text()


def test_named_leaderboards_are_rebuilt_from_the_named_results(fakes, tmp_path):
    assert run("--out", str(tmp_path / "r"), "--leaderboards", str(tmp_path / "lb")) == 0
    assert (tmp_path / "lb" / "classify-71-labels.md").exists()


# -- output locations are checked before any work -------------------------------------------------


@pytest.mark.parametrize("option", ["--out", "--leaderboards"])
def test_an_output_folder_that_is_a_file_is_a_usage_error_before_any_work(
    fakes, tmp_path, monkeypatch, capsys, option
):
    def no_work(config):
        raise AssertionError("the dataset was loaded")

    monkeypatch.setattr("ecgbench.data.phantom.load_phantom", no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    other = "--leaderboards" if option == "--out" else "--out"
    code = run(option, str(blocker / "sub"), other, str(tmp_path / "fine"))
    assert code == 2
    err = capsys.readouterr().err
    assert str(blocker) in err and "is a file" in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.json"))


# -- records last; orphans seen -------------------------------------------------------------------


def test_the_record_is_written_after_the_samples_file(tmp_path, monkeypatch):
    from ecgbench import runner
    from ecgbench.records import write_record as real_write
    from ecgbench.registry import Registry
    from ecgbench.runner import RunRequest, execute

    seen = {}

    def spy(record, results):
        seen["samples present"] = (
            results / "classify-71-labels" / "dummy-clf" / f"{record.run_id}.samples.npz"
        ).exists()
        return real_write(record, results)

    monkeypatch.setattr(runner, "write_record", spy)
    monkeypatch.delenv("ECGBENCH_LOAD_PLUGINS", raising=False)
    module = plugin_module(
        "fakes",
        model_spec("dummy-clf", task="classify-71-labels", factory="ecgbench.testing.dummies:create_classifier"),
    )
    execute(
        RunRequest(task="classify-71-labels", model="dummy-clf", sets=["data.n_records=100", "task.n_boot=20"],
                   results=tmp_path, quiet=True),
        Registry(entry_points=[entry_point("fakes", module)]),
    )
    assert seen == {"samples present": True}


def test_files_of_a_run_killed_before_its_record_are_reported_as_orphans(tmp_path):
    results = tmp_path / "results"
    with_samples(results, run_id="kept")
    folder = results / "classify-71-labels" / "a"
    write_samples({"record_id": np.array(["x"])}, folder / "killed.samples.npz")
    (folder / "killed").mkdir()
    (folder / ".killed.json.x1y2.tmp").write_bytes(b'{"run_id": "kil')
    rebuild = build(results, tmp_path / "lb")
    assert rebuild.damaged == []
    orphans = "\n".join(rebuild.orphans)
    assert len(rebuild.orphans) == 3
    assert "killed.samples.npz" in orphans and ".killed.json.x1y2.tmp" in orphans and "killed/" in orphans
    assert "kept" in (tmp_path / "lb" / "classify-71-labels.md").read_text()


def test_orphans_are_warnings_of_the_leaderboard_command(tmp_path, capsys):
    results = tmp_path / "results"
    with_samples(results, run_id="kept")
    write_samples({"record_id": np.array(["x"])}, results / "classify-71-labels" / "a" / "killed.samples.npz")
    assert cli.main(["leaderboard", "--results", str(results), "--out", str(tmp_path / "lb")]) == 0
    assert "killed.samples.npz" in capsys.readouterr().err


# -- samples files are verified -------------------------------------------------------------------


def test_an_altered_samples_file_keeps_its_record_out_of_the_leaderboard(tmp_path, capsys):
    results, out = tmp_path / "results", tmp_path / "lb"
    with_samples(results, run_id="good", model="a")
    altered = with_samples(results, run_id="bad", model="b", altered=True)
    assert cli.main(["leaderboard", "--results", str(results), "--out", str(out)]) == 4
    assert str(altered) in capsys.readouterr().err
    table = (out / "classify-71-labels.md").read_text()
    assert "good" in table and "bad" not in table


def test_check_fails_on_a_missing_samples_file_naming_it(tmp_path, capsys):
    results, out = tmp_path / "results", tmp_path / "lb"
    path = with_samples(results)
    build(results, out)
    assert check(results, out).ok
    path.unlink()
    assert not check(results, out).ok
    assert cli.main(["leaderboard", "--results", str(results), "--out", str(out), "--check"]) == 5
    assert str(path) in capsys.readouterr().err


def test_check_fails_on_an_altered_samples_file(tmp_path):
    results, out = tmp_path / "results", tmp_path / "lb"
    with_samples(results, altered=True)
    build(results, out)
    result = check(results, out)
    assert result.differing == [] and "differs from the sha256" in result.damaged[0]


def test_a_damaged_record_is_named_and_the_rest_still_build(tmp_path):
    results = tmp_path / "results"
    with_samples(results, run_id="good")
    bad = results / "classify-71-labels" / "b" / "broken.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"run_id": ')
    scan = scan_results(results)
    assert [r.run_id for _, r in scan.records] == ["good"]
    assert str(bad) in scan.damaged[0]


# -- the run's exit code is its own -----------------------------------------------------------


def test_a_completed_run_exits_0_when_another_record_is_damaged(fakes, tmp_path, capsys):
    results = tmp_path / "results"
    bad = results / "classify-71-labels" / "other" / "broken.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("not json")
    assert run("--out", str(results), "--leaderboards", str(tmp_path / "lb")) == 0
    err = capsys.readouterr().err
    assert "warning" in err and str(bad) in err
    assert "dummy-clf" in (tmp_path / "lb" / "classify-71-labels.md").read_text()


# -- a missing results folder is an error -----------------------------------------------------------


@pytest.mark.parametrize("check_only", [False, True])
def test_a_missing_results_folder_is_a_usage_error(tmp_path, capsys, check_only):
    args = ["leaderboard", "--results", str(tmp_path / "resluts"), "--out", str(tmp_path / "lb")]
    assert cli.main(args + (["--check"] if check_only else [])) == 2
    assert "resluts" in capsys.readouterr().err
    assert not (tmp_path / "lb").exists()


def test_the_committed_results_verify(tmp_path):
    from pathlib import Path

    results = Path(__file__).resolve().parents[1] / "results"
    scan = scan_results(results)
    assert scan.records and scan.damaged == [] and scan.orphans == []
