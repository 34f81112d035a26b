"""Developer commands used by tox and by clusters: run the leaderboard matrix, merge results.

``python -m ecgbench.devtools run-matrix [--matrix matrix.toml] [--only SUBSTRING] [--missing-only]
[--shard i/n]`` runs every entry of the matrix file (ci budget unless an entry says otherwise) as
its own ``ecgbench run`` process, skipping entries whose model is not installed or whose data path
is absent (said, not silent), then rebuilds ``leaderboards/``.

An entry may name itself (``id = "flowecg-ci"``) and another may evaluate the weights that
entry's latest completed run exported (``weights_of = "flowecg-ci"``: ``ecgbench run --weights``,
no training), so that one training serves several sampling settings or datasets. An entry that
only needs another to have run first (it reads what that run left in the cache) says
``after = "more-phantom"``.

``--shard i/n`` runs the i-th of n deterministic parts of the file: the entries are taken in
groups (an entry with the entries that evaluate its weights or run after it), and group k (from 0, in the order
of the file) belongs to shard k mod n + 1, so n machines (a CI matrix, a SLURM array) given
1/n .. n/n run every entry exactly once, an entry's weights are made on the machine that
evaluates them, and the split depends only on the file. A shard writes records, not
leaderboards: its tables would hold a fraction of the rows. ``merge-results SHARD_DIR ...
--into results`` copies the shards' result folders into one tree (records are never
overwritten; a file present in both with other bytes stops the merge), and ``ecgbench
leaderboard`` on that tree builds the tables one machine running the whole matrix would have
built.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from ecgbench.context import default_cache_dir
from ecgbench.errors import ConfigError
from ecgbench.leaderboard import build
from ecgbench.records import RunRecord, scan_results
from ecgbench.registry import Registry

#: Runs one ``ecgbench`` command line (the arguments after ``ecgbench``) and returns its exit code.
Launch = Callable[[list[str]], int]


def _argv(entry: dict) -> list[str]:
    argv = ["run", "--task", entry["task"], "--plugin", entry["model"], "--budget", entry.get("budget", "ci"),
            "--seed", str(entry.get("seed", 0)), "--no-leaderboard", "--quiet"]
    for key in ("dataset", "data_path", "folds", "fs"):
        if key in entry:
            argv += [f"--{key.replace('_', '-')}", str(entry[key])]
    for item in entry.get("sets", []):
        argv += ["--set", item]
    return argv


def _variant(entry: dict) -> str:
    model_sets = [s for s in entry.get("sets", []) if not s.startswith(("task.", "data."))]
    return ",".join(sorted(model_sets))


def _latest(entry: dict, results: Path) -> tuple[Path, RunRecord] | None:
    """The latest completed run of a matrix entry, or None."""
    if not results.is_dir():
        return None
    found = None
    for path, record in scan_results(results).records:
        imported = record.weights is not None and record.weights.source == "imported"
        if (record.status == "completed" and record.task.name == entry["task"] and record.model.requested_as == entry["model"]
                and record.model.variant == _variant(entry) and record.budget == entry.get("budget", "ci")
                and record.dataset is not None and record.dataset.name == entry.get("dataset", "phantom")
                and record.seed == entry.get("seed", 0) and imported == ("weights_of" in entry)
                and (found is None or record.run_id > found[1].run_id)):
            found = (path, record)
    return found


def _done(entry: dict, results: Path) -> bool:
    return _latest(entry, results) is not None


def _weights_of(entry: dict, entries: list[dict], results: Path) -> Path | str:
    """The weights file of the entry named by ``weights_of``, or why there is none."""
    source = next((e for e in entries if e.get("id") == entry["weights_of"]), None)
    if source is None:
        return f"no entry with id {entry['weights_of']!r}"
    latest = _latest(source, results)
    if latest is None or latest[1].weights is None:
        return f"entry {entry['weights_of']!r} has no completed run with exported weights yet"
    path, record = latest
    info = record.weights
    return (path.parent / info.file) if info.location == "results" else default_cache_dir() / info.file


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> (2, 5); a ConfigError unless it reads i/n with 1 <= i <= n."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ConfigError(f"--shard {text!r}: expected i/n, e.g. 1/4 (this machine runs the first of four parts)")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise ConfigError(f"--shard {text!r}: i must be between 1 and n (got {i} of {n})")
    return i, n


def _group(entry: dict, by_id: dict[str, dict], position: int) -> str:
    """The entry that ``entry`` depends on (following ``weights_of`` and ``after``), as a key."""
    seen = set()
    while (source := entry.get("weights_of", entry.get("after"))) in by_id and source not in seen:
        seen.add(source)
        entry = by_id[source]
    return f"id:{entry['id']}" if "id" in entry else f"position:{position}"


def shard_entries(entries: list[dict], shard: tuple[int, int] | None) -> list[dict]:
    """The entries shard i of n runs: every n-th group of entries in the order of the file,
    starting with the i-th, a group being an entry with those that evaluate its weights."""
    if shard is None:
        return list(entries)
    i, n = shard
    by_id = {e["id"]: e for e in entries if "id" in e}
    keys = [_group(entry, by_id, position) for position, entry in enumerate(entries)]
    order = list(dict.fromkeys(keys))  # groups by first appearance
    mine = {key for k, key in enumerate(order) if k % n == i - 1}
    return [entry for entry, key in zip(entries, keys, strict=True) if key in mine]


def _subprocess_launch(argv: list[str]) -> int:
    return subprocess.call([sys.executable, "-m", "ecgbench.cli", *argv])


def run_matrix(matrix: Path, results: Path, leaderboards: Path, only: str | None, missing_only: bool,
               shard: tuple[int, int] | None = None, *, registry: Registry | None = None,
               launch: Launch = _subprocess_launch) -> int:
    """Run the matrix's entries (this shard's, with ``shard``) and, unsharded, rebuild the tables."""
    every = tomllib.loads(matrix.read_text())["run"]
    entries = shard_entries(every, shard)
    registry = registry or Registry()
    failures = 0
    if shard is not None:
        print(f"shard {shard[0]}/{shard[1]}: {len(entries)} of the {len(every)} entries of {matrix}", flush=True)
    for entry in entries:
        label = f"{entry['task']} / {entry['model']} {' '.join(entry.get('sets', []))} [{entry.get('dataset', 'phantom')}]"
        if only and only not in label:
            continue
        if entry["model"] not in registry.aliases["model"]:
            print(f"SKIPPED {label}: model not installed", flush=True)
            continue
        if "data_path" in entry and not Path(entry["data_path"]).exists():
            print(f"SKIPPED {label}: {entry['data_path']} not present", flush=True)
            continue
        if missing_only and _done(entry, results):
            print(f"DONE    {label}", flush=True)
            continue
        argv = _argv(entry)
        if "weights_of" in entry:
            weights = _weights_of(entry, every, results)
            if isinstance(weights, str):
                print(f"SKIPPED {label}: {weights}", flush=True)
                continue
            argv += ["--weights", str(weights)]
            label += f" (weights of {entry['weights_of']})"
        start = time.perf_counter()
        code = launch([*argv, "--out", str(results)])
        print(f"{'OK     ' if code == 0 else 'FAILED '} {label} ({time.perf_counter() - start:.0f} s)", flush=True)
        failures += code != 0
    if shard is not None:
        print(f"leaderboards not rebuilt: shard {shard[0]}/{shard[1]} holds part of the records; merge the "
              f"shards' results (`python -m ecgbench.devtools merge-results ... --into results`) and run "
              f"`ecgbench leaderboard`", flush=True)
        return 1 if failures else 0
    if not results.is_dir():
        print(f"no results in {results}: leaderboards not rebuilt", flush=True)
        return 1 if failures else 0
    rebuild = build(results, leaderboards)
    for problem in rebuild.damaged + rebuild.orphans:
        print(f"WARNING {problem}", flush=True)
    return 1 if failures or rebuild.damaged else 0


def merge_results(sources: list[Path], into: Path) -> tuple[int, int]:
    """Copy every file under each source results folder to the same place under ``into``.

    Returns (files copied, files already present with the same bytes). A file present with other
    bytes is a ConfigError naming both, checked for every source before anything is copied: run
    ids are unique, so two shards never write the same record, and a clash means the trees are
    not shards of one matrix.
    """
    plan: dict[Path, Path] = {}  # target -> source
    same = 0
    for source in sources:
        if not source.is_dir():
            raise ConfigError(f"merge-results: {source} is not a results folder")
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            target = into / path.relative_to(source)
            existing = target if target.exists() else plan.get(target)
            if existing is None:
                plan[target] = path
            elif filecmp.cmp(existing, path, shallow=False):
                same += 1
            else:
                raise ConfigError(f"merge-results: {path} and {existing} differ; records are never overwritten")
    for target, path in plan.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return len(plan), same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecgbench.devtools")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run-matrix", help="run every model of the matrix and rebuild leaderboards/")
    p.add_argument("--matrix", type=Path, default=Path("matrix.toml"))
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--leaderboards", type=Path, default=Path("leaderboards"))
    p.add_argument("--only", help="run only entries whose label contains this text")
    p.add_argument("--missing-only", action="store_true", help="skip entries that already have a completed record")
    p.add_argument("--shard", metavar="I/N", help="run the I-th of N deterministic parts of the matrix (no leaderboard rebuild)")
    p = sub.add_parser("merge-results", help="copy shards' result folders into one results tree")
    p.add_argument("sources", type=Path, nargs="+", help="results folders written by the shards")
    p.add_argument("--into", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    try:
        if args.command == "merge-results":
            copied, same = merge_results(args.sources, args.into)
            print(f"merged {copied} files into {args.into} ({same} already there); now run "
                  f"`ecgbench leaderboard --results {args.into}`")
            return 0
        shard = parse_shard(args.shard) if args.shard else None
        return run_matrix(args.matrix, args.results, args.leaderboards, args.only, args.missing_only, shard)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
