"""Speed and accuracy of the measure-intervals models: featuredb, neurokit-dwt, ecgdeli.

    python benchmarks/interval_speed.py [--models featuredb neurokit-dwt ecgdeli]
        [--n-speed 64] [--repeat 3] [--n-phantom 300] [--qtdb DIR] [--json]

Runs on **one CPU core**: the process pins itself to one core and sets the BLAS/OpenMP thread
counts to 1 before numpy loads. Speed: milliseconds per 10-s single-lead record (lead II of
phantom records at 100 Hz and 500 Hz, and the lead-II slot of the QT Database windows at
250 Hz, ``--qtdb``, default the shared qtdb-dev), the median of ``--repeat`` timed calls of
``measure`` on ``--n-speed`` records after one untimed warm-up call. The table shows the
process's CPU time, which other jobs on a shared machine disturb far less than wall time; the
JSON has both. No GPU is used. Accuracy: MAE (ms) of PR, QRS and QT and the abstain rate per
interval on a phantom cohort at 100 Hz (exact ground truth; records whose reference is
undefined, e.g. PR in atrial fibrillation, are left out of the MAE); the QT Database agreement
is ``benchmarks/qtdb_agreement.py``'s. A model whose optional package is missing is listed as
such.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402  (the thread settings must precede numpy)
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from ecgbench.context import RunContext  # noqa: E402
from ecgbench.data.dataset import ECGDataset  # noqa: E402
from ecgbench.data.phantom import PhantomConfig, load_phantom  # noqa: E402
from ecgbench.errors import ConfigError  # noqa: E402
from ecgbench.registry import Registry  # noqa: E402
from ecgbench.runner import resolve_model_config  # noqa: E402
from ecgbench.specs import load_object  # noqa: E402

MODELS = ("featuredb", "neurokit-dwt", "ecgdeli")
INTERVALS = ("pr", "qrs", "qt")


def _default_qtdb() -> Path:
    configured = os.environ.get("ECGBENCH_SHARED_DATA")
    root = Path(configured) if configured else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return root / "qtdb-dev"


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
    if not np.isfinite(signals[:, 1]).all():
        raise ValueError(f"{data.name}: some records have no lead II to time")
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
    parser.add_argument("--qtdb", type=Path, default=_default_qtdb(), help="QT Database folder timed at its own rate")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args()

    speed_sets = {f"{fs} Hz phantom": load_phantom(PhantomConfig(n_records=args.n_speed, fs=fs, seed=11, cache=False))
                  for fs in (100, 500)}
    if args.qtdb.is_dir():
        from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir

        qtdb = load_wfdb_dir(WFDBDirConfig(path=args.qtdb, cache=False))
        speed_sets[f"{qtdb.fs:g} Hz QTDB"] = qtdb.subset(np.arange(min(args.n_speed, len(qtdb))))
    phantom = load_phantom(PhantomConfig(n_records=args.n_phantom, fs=100, seed=0, cache=False))
    registry = Registry()
    rows = []
    for name in args.models:
        model = build(registry, name)
        if model is None:
            rows.append({"model": name, "missing": True})
            continue
        row: dict[str, object] = {"model": name, "cpu_ms_per_record": {}, "wall_ms_per_record": {}}
        for label, data in speed_sets.items():
            row["cpu_ms_per_record"][label], row["wall_ms_per_record"][label] = ms_per_record(model, data, args.repeat)
        row["phantom"] = accuracy(model, phantom)
        rows.append(row)

    if args.json:
        print(json.dumps({"n_speed": args.n_speed, "n_phantom": args.n_phantom, "cores": 1, "rows": rows}, indent=2))
        return
    print(f"one CPU core; speed: lead II of up to {args.n_speed} records per set; phantom accuracy: "
          f"{args.n_phantom} records at 100 Hz")
    print("MAE in ms (abstain rate); abstain counts only records whose reference is defined\n")
    print(f"load average while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    labels = list(speed_sets)
    print("| model | " + " | ".join(f"CPU ms/record {label}" for label in labels)
          + " | phantom PR | phantom QRS | phantom QT |")
    print("|---|" + "---:|" * (len(labels) + 3))
    for row in rows:
        if row.get("missing"):
            print(f"| {row['model']} | not installed |" + " |" * (len(labels) + 2))
            continue
        cells = [f"{row['cpu_ms_per_record'][label]:.1f}" for label in labels]
        scores = row["phantom"]
        cells += [f"{scores[f'{name}_mae']:.1f} ({scores[f'{name}_abstain']:.0%})" for name in INTERVALS]
        print(f"| {row['model']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
