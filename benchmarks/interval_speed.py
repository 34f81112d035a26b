"""Speed and accuracy of the measure-intervals models: featuredb, neurokit-dwt, ecgdeli.

    python benchmarks/interval_speed.py [--models featuredb neurokit-dwt ecgdeli]
        [--n-speed 64] [--repeat 3] [--n-phantom 300] [--qtdb DIR] [--json]

Speed: milliseconds per 10-s single-lead record (lead II of phantom records) at 100 Hz and
500 Hz, the median of ``--repeat`` timed calls of ``measure`` on ``--n-speed`` records after one
untimed warm-up call. The table shows the process's CPU time, which other jobs on a shared
machine disturb far less than wall time; the JSON has both. No GPU is used. Accuracy: MAE (ms) of PR, QRS and QT and the abstain rate per interval on a phantom
cohort at 100 Hz (exact ground truth; records whose reference is undefined, e.g. PR in atrial
fibrillation, are left out of the MAE) and on the QT Database sample against annotator 1
(``--qtdb``; default: the shared data folder). A model whose optional package is missing is
listed as such.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.errors import ConfigError
from ecgbench.registry import Registry
from ecgbench.runner import resolve_model_config
from ecgbench.specs import load_object

MODELS = ("featuredb", "neurokit-dwt", "ecgdeli")
INTERVALS = ("pr", "qrs", "qt")


def _default_qtdb() -> Path:
    configured = os.environ.get("ECGBENCH_SHARED_DATA")
    root = Path(configured) if configured else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return root / "qtdb-sample"


def build(registry: Registry, name: str):
    """The model with its ci config, or None when its optional package is missing."""
    spec = registry.model(name)
    config = resolve_model_config(spec, "ci", {})
    try:
        return load_object(spec.factory)(config, RunContext(quiet=True))
    except ConfigError as exc:
        print(f"# {name}: {exc}")
        return None


def lead_ii_only(signals: np.ndarray) -> np.ndarray:
    """float32[n, 12, T] with every lead but II missing, so each model reads exactly one lead."""
    out = np.full_like(signals, np.nan)
    out[:, 1] = signals[:, 1]
    return out


def ms_per_record(model, data: ECGDataset, repeat: int) -> tuple[float, float]:
    """(CPU, wall) milliseconds per record, medians over ``repeat`` calls."""
    signals = lead_ii_only(data.signals)
    model.measure(signals[:2], data.fs)
    cpu, wall = [], []
    for _ in range(repeat):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        model.measure(signals, data.fs)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    return 1000.0 * statistics.median(cpu) / len(data), 1000.0 * statistics.median(wall) / len(data)


def accuracy(model, data: ECGDataset) -> dict[str, float]:
    """MAE (ms) and abstain rate per interval against ``data.intervals``."""
    m = model.measure(data.signals, data.fs)
    out: dict[str, float] = {}
    for name in INTERVALS:
        measured = getattr(m, name)
        reference = data.intervals[name].to_numpy(dtype=np.float64)
        defined = np.isfinite(reference)
        both = defined & np.isfinite(measured)
        out[f"{name}_mae"] = float(np.abs(measured[both] - reference[both]).mean()) if both.any() else float("nan")
        out[f"{name}_abstain"] = float(np.mean(~np.isfinite(measured[defined]))) if defined.any() else float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--n-speed", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-phantom", type=int, default=300)
    parser.add_argument("--qtdb", type=Path, default=_default_qtdb())
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args()

    speed_sets = {fs: load_phantom(PhantomConfig(n_records=args.n_speed, fs=fs, seed=11, cache=False)) for fs in (100, 500)}
    phantom = load_phantom(PhantomConfig(n_records=args.n_phantom, fs=100, seed=0, cache=False))
    qtdb = None
    if args.qtdb.is_dir():
        from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir

        qtdb = load_wfdb_dir(WFDBDirConfig(path=args.qtdb, cache=False))
    registry = Registry()
    rows = []
    for name in args.models:
        model = build(registry, name)
        if model is None:
            rows.append({"model": name, "missing": True})
            continue
        row: dict[str, object] = {"model": name}
        for fs, data in speed_sets.items():
            row[f"cpu_ms_per_record_{fs}hz"], row[f"wall_ms_per_record_{fs}hz"] = ms_per_record(model, data, args.repeat)
        row["phantom"] = accuracy(model, phantom)
        if qtdb is not None:
            row["qtdb"] = accuracy(model, qtdb)
        rows.append(row)

    if args.json:
        print(json.dumps({"n_speed": args.n_speed, "n_phantom": args.n_phantom,
                          "qtdb_windows": None if qtdb is None else len(qtdb), "rows": rows}, indent=2))
        return
    print(f"speed: lead II of {args.n_speed} phantom records per rate; phantom: {args.n_phantom} records at 100 Hz; "
          f"QT Database sample: {'absent' if qtdb is None else f'{len(qtdb)} windows at {qtdb.fs:g} Hz (annotator 1)'}")
    print("MAE in ms (abstain rate); abstain counts only records whose reference is defined\n")
    print(f"load average while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    header = "| model | CPU ms/record 100 Hz | CPU ms/record 500 Hz | phantom PR | phantom QRS | phantom QT | QTDB PR | QTDB QRS | QTDB QT |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        if row.get("missing"):
            print(f"| {row['model']} | not installed | | | | | | | |")
            continue
        cells = [f"{row['cpu_ms_per_record_100hz']:.1f}", f"{row['cpu_ms_per_record_500hz']:.1f}"]
        for where in ("phantom", "qtdb"):
            scores = row.get(where)
            for name in INTERVALS:
                cells.append("–" if scores is None else f"{scores[f'{name}_mae']:.1f} ({scores[f'{name}_abstain']:.0%})")
        print(f"| {row['model']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
