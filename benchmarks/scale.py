"""PTB-XL at release size: reading, the cache, `data summary`, a classify run and the evaluators.

    python benchmarks/scale.py [--n 21799] [--rates 100 500] [--work DIR] [--before SRC] [--json FILE]

For each rate, a PTB-XL-shaped folder of --n phantom records is written once under --work
(`ecgbench data export phantom --layout ptbxl`, kept for later runs), then each step runs in a
fresh process, so that its peak resident memory (the kernel's maximum RSS of that process,
file-backed memmap pages included) is its own. Before each tree's cold read the folder's files
are read once, so that both trees find them in the operating system's page cache: the cold read
measures the reader, not the disk.

  cold read      `load_ptbxl` with an empty cache: every WFDB record read, checked, written to the memmap
  cached read    the same again: the cache entry opened
  data summary   `ecgbench data summary ptbxl --json` on the warm cache
  classify run   `ecgbench run --task classify-71-labels --plugin baseline-features --dataset ptbxl`

--before SRC repeats the four steps with the source tree SRC (e.g. a checkout of main) on its
own empty cache and prints its peak RSS beside this tree's. A step whose resident set passes
--kill-above GiB is stopped (so that a measurement never takes a shared machine's memory) and
reported as "> limit". Finally the evaluators are timed at test-fold size, on records of the
100 Hz folder: the generation metric suite with bootstrap CIs on 2,198 x 2,198 records, and the
classification metrics with CIs on 2,198 x 71 scores.

Goals (issue #15): cached read >= 30x faster than the cold read; `data summary` under 1 GB peak
RSS at both rates.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SOURCES = ("plugins/ecgbench-baselines/src",)
TEST_FOLD = 2198
LOAD = (
    "import sys, time; from pathlib import Path; import ecgbench; from ecgbench.data.ptbxl import PTBXLConfig, "
    "load_ptbxl; t = time.perf_counter(); d = load_ptbxl(PTBXLConfig(path=Path(sys.argv[1]), fs=int(sys.argv[2]))); "
    "print(ecgbench.__file__, len(d), d.info['cache']['status'], round(time.perf_counter() - t, 3))"
)


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measured(argv: list[str], env: dict, kill_above_gib: float) -> dict:
    """Wall seconds, peak RSS (GiB: the kernel's maximum resident set of that process, read with
    wait4) and exit code of ``argv``; stopped when its resident set passes ``kill_above_gib``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                                                  (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        killed = False
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if not killed and _rss_kib(pid) > kill_above_gib * 2**20:
                os.kill(pid, signal.SIGKILL)
                killed = True
            time.sleep(0.2)
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        return {"seconds": round(seconds, 2), "peak_rss_gib": round(usage.ru_maxrss / 2**20, 3),
                "code": os.waitstatus_to_exitcode(status), "killed": killed,
                "stdout": out.read().decode(errors="replace").strip()[-300:],
                "stderr": err.read().decode(errors="replace").strip()[-500:]}


def environment(source: Path, cache: Path) -> dict:
    paths = [str(source), *(str(source / p) for p in PLUGIN_SOURCES)]
    # PYTHONSAFEPATH: `python -c` and `-m` would put the working directory (maybe another tree) first
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONSAFEPATH": "1", "ECGBENCH_CACHE": str(cache),
            "ECGBENCH_LOAD_PLUGINS": "baselines", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def export(n: int, fs: int, work: Path) -> tuple[Path, float | None]:
    folder = work / f"phantom-ptbxl-{n}-{fs}hz"
    if folder.exists():
        return folder, None
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ecgbench", "data", "export", "phantom", "--layout", "ptbxl", "--n", str(n),
                    "--fs", str(fs), "--out", str(folder), "--quiet"], check=True, env=environment(ROOT, work / "cache"))
    return folder, round(time.perf_counter() - began, 1)


def warm(folder: Path) -> None:
    """Read every file of ``folder`` once (into the page cache)."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 20):
                    pass


def steps(source: Path, folder: Path, fs: int, work: Path, kill_above: float) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    env = environment(source, cache)
    warm(folder)
    out = {}
    out["cold read"] = measured([sys.executable, "-c", LOAD, str(folder), str(fs)], env, kill_above)
    out["cached read"] = measured([sys.executable, "-c", LOAD, str(folder), str(fs)], env, kill_above)
    out["data summary"] = measured([sys.executable, "-m", "ecgbench.cli", "data", "summary", "ptbxl", "--data-path",
                                    str(folder), "--fs", str(fs), "--json"], env, kill_above)
    results = Path(tempfile.mkdtemp(prefix="results-", dir=work))
    out["classify run"] = measured([sys.executable, "-m", "ecgbench.cli", "run", "--task", "classify-71-labels", "--plugin",
                                    "baseline-features", "--dataset", "ptbxl", "--data-path", str(folder), "--fs", str(fs),
                                    "--out", str(results), "--no-leaderboard", "--quiet"], env, kill_above)
    subprocess.run(["rm", "-rf", str(cache), str(results)], check=False)
    return out


def evaluators(folder: Path) -> dict:
    """Seconds of the generation suite (2,198 x 2,198 records) and the classification metrics
    (2,198 x 71) with their bootstrap CIs, on records of the exported 100 Hz folder."""
    from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl
    from ecgbench.metrics.classification import classification_suite
    from ecgbench.metrics.generation import generation_suite

    data = load_ptbxl(PTBXLConfig(path=folder, fs=100))
    first = np.flatnonzero(np.isin(data.folds, range(1, 9)))[:TEST_FOLD]
    second = np.flatnonzero(np.isin(data.folds, (9, 10)))[:TEST_FOLD]
    gen, real = np.asarray(data.subset(first).signals), np.asarray(data.subset(second).signals)
    began = time.perf_counter()
    generation_suite(gen, real, data.labels[first], data.labels[second], data.fs, seed=0, n_boot=200)
    generation_seconds = time.perf_counter() - began
    rng = np.random.default_rng(0)
    y = data.labels[second]
    score = np.clip(0.6 * y + rng.random(y.shape), 0, 1).astype(np.float32)
    began = time.perf_counter()
    classification_suite(y, score, val_true=data.labels[first], val_score=score[: len(first)], seed=0, n_boot=200)
    return {"generation suite 2198 x 2198": round(generation_seconds, 1),
            "classification metrics 2198 x 71": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=21799, help="records (PTB-XL v1.0.3: 21,799)")
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ecgbench-scale")
    parser.add_argument("--before", type=Path, help="another source tree (e.g. main) measured on the same folders")
    parser.add_argument("--kill-above", type=float, default=8.0, help="GiB of RSS at which a step is stopped")
    parser.add_argument("--skip-evaluators", action="store_true")
    parser.add_argument("--json", type=Path, help="write the measurements here as well")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"n": args.n, "cpu_count": os.cpu_count(), "rates": {}}
    for fs in args.rates:
        folder, export_seconds = export(args.n, fs, args.work)
        row = {"export_seconds": export_seconds, "after": steps(ROOT, folder, fs, args.work, args.kill_above)}
        if args.before is not None:
            row["before"] = steps(args.before.resolve(), folder, fs, args.work, args.kill_above)
        report["rates"][fs] = row
    if not args.skip_evaluators:
        report["evaluators_seconds"] = evaluators(export(args.n, 100, args.work)[0])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(f"{args.n} records, {os.cpu_count()} CPUs; peak RSS in GiB (this tree" + (", before" if args.before else "") + ")")
    print(f"{'rate':>5} {'step':<14}{'seconds':>9}{'peak RSS':>10}" + (f"{'before s':>10}{'before RSS':>12}" if args.before else ""))
    for fs, row in report["rates"].items():
        for side in ("after", "before"):
            if side in row:
                print(f"{fs:>5} {side}: {row[side]['cold read']['stdout'].split()[0]}")
        for step, after in row["after"].items():
            line = f"{fs:>5} {step:<14}{after['seconds']:>9}{_rss(after):>10}"
            if "before" in row:
                before = row["before"][step]
                line += f"{before['seconds']:>10}{_rss(before):>12}"
            print(line)
        cold, cached = (_load_seconds(row["after"][step]) for step in ("cold read", "cached read"))
        print(f"{fs:>5} load_ptbxl: {cold} s cold, {cached} s cached: {cold / cached:.0f}x faster (in the process, "
              "start-up excluded)")
    for name, seconds in report.get("evaluators_seconds", {}).items():
        print(f"evaluator {name}: {seconds} s")


def _load_seconds(step: dict) -> float:
    """The seconds ``load_ptbxl`` took inside the step's process (the last number it printed)."""
    return float(step["stdout"].split()[-1])


def _rss(step: dict) -> str:
    if step["killed"]:
        return "> limit"
    if step["code"] != 0:
        return f"exit {step['code']}"
    return f"{step['peak_rss_gib']:.2f}"


if __name__ == "__main__":
    main()
