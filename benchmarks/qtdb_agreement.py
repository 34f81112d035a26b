"""Agreement of the interval measurers with the QT Database marks, lead by lead and best lead.

    python benchmarks/qtdb_agreement.py [--data DIR ...] [--models featuredb ecgdeli neurokit-dwt] [--json]

For each QT Database folder (default: the shared qtdb-dev and qtdb-sample) and each model
(ci config), the model measures every 10-s window twice: once on the lead-II slot alone (what
the leaderboard scores: MLII, or the first channel without a standard name), once on the
record's other channel alone. Reported per
boundary (P on, QRS on, QRS off, T off): mean ± SD of the signed beat errors (ms), the mean
of the per-recording SDs, the share of reference beats within ±20 ms, and per interval
(PR, QRS, QT) the window MAE, for

- ``lead II`` and ``other``: one lead, as a single-lead measurer works;
- ``best lead``: per beat and boundary, the channel with the smaller error, the protocol of
  Martínez et al. (2004) and most QT Database delineation papers. It chooses with the
  reference, so it bounds what a single-lead method could reach by choosing its lead; it is
  what published delineator errors are comparable with.

docs/qtdb-protocol.md describes the reference; nothing here is tuned.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import FIDUCIAL_NAMES
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.wave_marks import reference_beats
from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir
from ecgbench.errors import ConfigError
from ecgbench.metrics.intervals import fiducial_errors
from ecgbench.registry import Registry
from ecgbench.runner import resolve_model_config
from ecgbench.specs import load_object

MODELS = ("featuredb", "ecgdeli", "neurokit-dwt")
INTERVALS = ("pr", "qrs", "qt")


def _default_folders() -> list[Path]:
    configured = os.environ.get("ECGBENCH_SHARED_DATA")
    root = Path(configured) if configured else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return [root / "qtdb-dev", root / "qtdb-sample"]


def channel(data: ECGDataset, k: int) -> ECGDataset:
    """The dataset with only its k-th present lead (harness lead order: the lead-II slot first),
    moved to the lead-II slot."""
    signals = np.full_like(data.signals, np.nan)
    for i in range(len(data)):
        present = np.flatnonzero(np.isfinite(data.signals[i, :, 0]))
        signals[i, 1] = data.signals[i, present[min(k, len(present) - 1)]]
    return replace(data, signals=signals)


def build(registry: Registry, name: str):
    spec = registry.model(name)
    try:
        return load_object(spec.factory)(resolve_model_config(spec, "ci", {}), RunContext(quiet=True))
    except ConfigError as exc:
        print(f"# {name}: {exc}")
        return None


def summary(errors: np.ndarray, marked: np.ndarray, recordings: np.ndarray) -> dict:
    """mean, sd, mean within-recording sd, share within ±20 ms of the marked beats, n."""
    ok = np.isfinite(errors)
    e = errors[ok]
    sds = [float(np.std(errors[(recordings == r) & ok], ddof=1)) for r in np.unique(recordings)
           if ((recordings == r) & ok).sum() >= 2]
    return {
        "mean": float(e.mean()) if len(e) else float("nan"),
        "sd": float(e.std(ddof=1)) if len(e) >= 2 else float("nan"),
        "sd_within_recording_mean": float(np.mean(sds)) if sds else float("nan"),
        "within_20ms": float(np.mean(np.abs(errors[marked]) <= 20.0)),
        "n": int(ok.sum()),
        "n_marked": int(marked.sum()),
    }


def evaluate(model, data: ECGDataset) -> dict:
    beats = reference_beats(data)
    assert beats is not None
    recordings = data.meta["record"].astype(str).to_numpy()[beats["record"]]
    per_channel, out = [], {}
    for k, label in ((0, "lead II"), (1, "other")):
        one = channel(data, k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = model.measure(one.signals, one.fs)
        errors, _ = fiducial_errors(beats, m.fiducials) if m.fiducials is not None else ({}, None)
        per_channel.append(errors)
        row = {name: summary(errors[name], np.isfinite(beats[name]), recordings) for name in errors}
        for name in INTERVALS:
            e = getattr(m, name) - data.intervals[name].to_numpy()
            ok = np.isfinite(e)
            row[f"{name}_mae"] = float(np.abs(e[ok]).mean()) if ok.any() else float("nan")
            row[f"{name}_abstain"] = float(1.0 - ok.mean())
        out[label] = row
    if per_channel[0]:
        best = {}
        for name in FIDUCIAL_NAMES:
            a, b = per_channel[0][name], per_channel[1][name]
            pick = np.isnan(a) | (np.abs(b) < np.abs(a))
            best[name] = summary(np.where(pick, b, a), np.isfinite(beats[name]), recordings)
        out["best lead"] = best
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=_default_folders())
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    registry = Registry()
    results: dict = {}
    for folder in args.data:
        if not folder.is_dir():
            print(f"# {folder}: absent, skipped")
            continue
        data = load_wfdb_dir(WFDBDirConfig(path=folder, cache=False))
        for name in args.models:
            model = build(registry, name)
            if model is not None:
                results.setdefault(folder.name, {})[name] = evaluate(model, data)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    for folder, models in results.items():
        print(f"\n## {folder}: beat errors, mean ± SD (mean within-recording SD) ms, within ±20 ms")
        print("| model | lead | P on | QRS on | QRS off | T off | PR MAE | QRS MAE | QT MAE |")
        print("|---|---|---|---|---|---|---:|---:|---:|")
        for name, rows in models.items():
            for lead, row in rows.items():
                cells = []
                for b in FIDUCIAL_NAMES:
                    s = row.get(b)
                    cells.append("–" if s is None else
                                 f"{s['mean']:+.1f} ± {s['sd']:.1f} ({s['sd_within_recording_mean']:.1f}), "
                                 f"{s['within_20ms']:.0%}")
                cells += [f"{row[f'{i}_mae']:.1f}" if f"{i}_mae" in row else "" for i in INTERVALS]
                print(f"| {name} | {lead} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
