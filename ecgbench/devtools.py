"""Developer commands used by tox: run the leaderboard matrix.

``python -m ecgbench.devtools run-matrix [--matrix matrix.toml] [--only SUBSTRING] [--missing-only]``
runs every entry of the matrix file (ci budget unless an entry says otherwise) as its own
``ecgbench run`` process, skipping entries whose model is not installed or whose data path is
absent (said, not silent), then rebuilds ``leaderboards/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from ecgbench.leaderboard import build
from ecgbench.records import scan_results
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


def _done(entry: dict, results: Path) -> bool:
    if not results.is_dir():
        return False
    for _, record in scan_results(results).records:
        if (record.status == "completed" and record.task.name == entry["task"] and record.model.requested_as == entry["model"]
                and record.model.variant == _variant(entry) and record.budget == entry.get("budget", "ci")
                and record.dataset is not None and record.dataset.name == entry.get("dataset", "phantom")
                and record.seed == entry.get("seed", 0)):
            return True
    return False


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
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "ecgbench.cli", *_argv(entry), "--out", str(results)])
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
