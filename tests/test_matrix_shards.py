"""The matrix across machines: --shard i/n splits matrix.toml deterministically, shards' result
folders merge by copying, and the leaderboard of the merged tree is the one-machine leaderboard."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_plugins import cli_with_fake_plugin, model_spec

from ecgbench import cli, devtools, runner
from ecgbench.errors import ConfigError
from ecgbench.leaderboard import build

SMALL_MATRIX = """
[[run]]
task = "classify-71-labels"
model = "dummy-clf"
sets = ["data.n_records=120"]

[[run]]
task = "classify-71-labels"
model = "dummy-clf"
seed = 1
sets = ["data.n_records=120"]

[[run]]
task = "measure-intervals"
model = "dummy-measure"
sets = ["data.n_records=120"]

[[run]]
task = "classify-71-labels"
model = "dummy-clf"
seed = 2
sets = ["data.n_records=120"]

[[run]]
task = "classify-71-labels"
model = "not-installed"
"""


def entries(n: int) -> list[dict]:
    return [{"task": "generate", "model": f"m{i}"} for i in range(n)]


@pytest.mark.parametrize("n_entries", [1, 7, 12])
@pytest.mark.parametrize("n_shards", [1, 3, 5])
def test_shards_run_every_entry_exactly_once(n_entries, n_shards):
    parts = [devtools.shard_entries(entries(n_entries), (i, n_shards)) for i in range(1, n_shards + 1)]
    names = [e["model"] for part in parts for e in part]
    assert sorted(names) == sorted(e["model"] for e in entries(n_entries))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_a_shard_is_every_nth_entry_of_the_file():
    assert [e["model"] for e in devtools.shard_entries(entries(7), (2, 3))] == ["m1", "m4"]


def test_an_entry_evaluating_another_entrys_weights_runs_in_that_entrys_shard():
    matrix = [{"model": "a", "id": "trained"}, {"model": "b"}, {"model": "c", "weights_of": "trained"},
              {"model": "d"}, {"model": "e", "weights_of": "trained"}]
    parts = [[e["model"] for e in devtools.shard_entries(matrix, (i, 3))] for i in (1, 2, 3)]
    assert parts == [["a", "c", "e"], ["b"], ["d"]]


def test_an_entry_that_runs_after_another_runs_in_that_entrys_shard():
    matrix = [{"model": "a"}, {"model": "b", "id": "pretrained"}, {"model": "c", "after": "pretrained"},
              {"model": "d", "after": "pretrained"}, {"model": "e"}]
    parts = [[e["model"] for e in devtools.shard_entries(matrix, (i, 2))] for i in (1, 2)]
    assert parts == [["a", "e"], ["b", "c", "d"]]


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"])
def test_a_malformed_shard_is_a_usage_error(text):
    with pytest.raises(ConfigError, match="--shard"):
        devtools.parse_shard(text)


def test_merging_refuses_a_file_that_differs_and_copies_nothing(tmp_path):
    a, b, into = tmp_path / "a", tmp_path / "b", tmp_path / "merged"
    (a / "generate" / "m").mkdir(parents=True)
    (b / "generate" / "m").mkdir(parents=True)
    (a / "generate" / "m" / "r1.json").write_text("one")
    (b / "generate" / "m" / "r1.json").write_text("two")
    (b / "generate" / "m" / "r2.json").write_text("three")
    with pytest.raises(ConfigError, match="never overwritten"):
        devtools.merge_results([a, b], into)
    assert not into.exists()


@pytest.fixture
def matrix_cli(monkeypatch):
    """The dummy models as the installed plugins, run in-process with run ids and clocks that
    depend only on the command line, so that two executions of one entry write equal records."""
    registry = cli_with_fake_plugin(
        monkeypatch,
        model_spec("dummy-clf", task="classify-71-labels", factory="ecgbench.testing.dummies:create_classifier"),
        model_spec("dummy-measure", task="measure-intervals", factory="ecgbench.testing.dummies:create_measurer"),
    )
    current: list[str] = []

    def run_id() -> str:
        entry = [a for a in current if not a.startswith(("/", "--out"))]
        return "20260101T000000Z-" + hashlib.sha256(" ".join(entry).encode()).hexdigest()[:8]

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 1, tzinfo=UTC)

    monkeypatch.setattr(runner, "new_run_id", run_id)
    monkeypatch.setattr(runner, "datetime", FrozenClock)

    def launch(argv: list[str]) -> int:
        current[:] = argv
        return cli.main(argv)

    return registry, launch


def tables(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the Markdown tables, the site, the model cards) by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_three_shards_merged_give_the_unsharded_leaderboard_byte_for_byte(tmp_path, matrix_cli, capsys):
    registry, launch = matrix_cli
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(SMALL_MATRIX)

    one = tmp_path / "one"
    code = devtools.run_matrix(matrix, one / "results", one / "leaderboards", None, False,
                               registry=registry, launch=launch)
    assert code == 0
    shard_dirs = []
    for i in (1, 2, 3):
        results = tmp_path / f"shard{i}" / "results"
        assert devtools.run_matrix(matrix, results, tmp_path / f"shard{i}" / "leaderboards", None, False, (i, 3),
                                   registry=registry, launch=launch) == 0
        assert not (tmp_path / f"shard{i}" / "leaderboards").exists()  # a shard builds no tables
        shard_dirs.append(results)
    merged = tmp_path / "merged"
    copied, same = devtools.merge_results(shard_dirs, merged / "results")
    build(merged / "results", merged / "leaderboards")

    assert same == 0 and copied == sum(1 for p in (one / "results").rglob("*") if p.is_file())
    # Each run's own page shows that run's wall times and command line, which differ between two
    # executions of an entry; every table, task page and model card must be identical.
    merged_tables, one_tables = tables(merged / "leaderboards"), tables(one / "leaderboards")
    assert {k for k in merged_tables if k.startswith("site/runs/")} == {k for k in one_tables if k.startswith("site/runs/")}
    assert ({k: v for k, v in merged_tables.items() if not k.startswith("site/runs/")}
            == {k: v for k, v in one_tables.items() if not k.startswith("site/runs/")})
    assert set(tables(one / "leaderboards")) >= {"classify-71-labels.md", "measure-intervals.md"}
    assert "| 3 |" in (one / "leaderboards" / "classify-71-labels.md").read_text()  # three seeds, three shards
    assert "SKIPPED classify-71-labels / not-installed" in capsys.readouterr().out


def test_missing_only_resumes_a_shard_without_rerunning_its_finished_entries(tmp_path, matrix_cli, capsys):
    registry, launch = matrix_cli
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(SMALL_MATRIX)
    results = tmp_path / "results"
    devtools.run_matrix(matrix, results, tmp_path / "lb", None, False, (1, 3), registry=registry, launch=launch)
    capsys.readouterr()
    calls: list[list[str]] = []
    devtools.run_matrix(matrix, results, tmp_path / "lb", None, True, (1, 3), registry=registry,
                        launch=lambda argv: calls.append(argv) or 0)
    assert calls == []
    assert capsys.readouterr().out.count("DONE") == 2
