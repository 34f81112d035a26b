"""Developer commands used by tox: run the leaderboard matrix.

``python -m ecgbench.devtools run-matrix [--matrix matrix.toml] [--only SUBSTRING] [--missing-only]``
runs every entry of the matrix file (ci budget unless an entry says otherwise) as its own
``ecgbench run`` process, skipping entries whose model is not installed or whose data path is
absent (said, not silent), then rebuilds ``leaderboards/``.

An entry may name itself (``id = "flowecg-ci"``) and another may evaluate the weights that
entry's latest completed run exported (``weights_of = "flowecg-ci"``: ``ecgbench run --weights``,
no training), so that one training serves several sampling settings or datasets.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from ecgbench.context import default_cache_dir
from ecgbench.leaderboard import build
from ecgbench.records import RunRecord, scan_results
from ecgbench.registry import Registry


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


def run_matrix(matrix: Path, results: Path, leaderboards: Path, only: str | None, missing_only: bool) -> int:
    entries = tomllib.loads(matrix.read_text())["run"]
    registry = Registry()
    failures = 0
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
            weights = _weights_of(entry, entries, results)
            if isinstance(weights, str):
                print(f"SKIPPED {label}: {weights}", flush=True)
                continue
            argv += ["--weights", str(weights)]
            label += f" (weights of {entry['weights_of']})"
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "ecgbench.cli", *argv, "--out", str(results)])
        print(f"{'OK     ' if code == 0 else 'FAILED '} {label} ({time.perf_counter() - start:.0f} s)", flush=True)
        failures += code != 0
    if not results.is_dir():
        print(f"no results in {results}: leaderboards not rebuilt", flush=True)
        return 1 if failures else 0
    rebuild = build(results, leaderboards)
    for problem in rebuild.damaged + rebuild.orphans:
        print(f"WARNING {problem}", flush=True)
    return 1 if failures or rebuild.damaged else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecgbench.devtools")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run-matrix", help="run every model of the matrix and rebuild leaderboards/")
    p.add_argument("--matrix", type=Path, default=Path("matrix.toml"))
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--leaderboards", type=Path, default=Path("leaderboards"))
    p.add_argument("--only", help="run only entries whose label contains this text")
    p.add_argument("--missing-only", action="store_true", help="skip entries that already have a completed record")
    args = parser.parse_args(argv)
    return run_matrix(args.matrix, args.results, args.leaderboards, args.only, args.missing_only)


if __name__ == "__main__":
    sys.exit(main())
