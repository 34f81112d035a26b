"""Leave-one-record-out (LORO) choice of FeatureDB's delineation thresholds on the QT Database
development set, and the frozen result the configuration ships.

    python -m ecgbench_featuredb.selection --data ../shared/data/qtdb-dev [--out FILE]

The procedure (docs/qtdb-protocol.md describes the data it reads):

1. Every 10-s window of the development set is measured on each of its two channels: the
   method reads one lead, and scoring both keeps the thresholds from fitting the shapes of one
   lead. Filtering, R-peaks and average beats do not depend on the thresholds and are computed
   once; each candidate setting re-delineates the average beats.
2. A setting's loss on a recording: per scored boundary, the mean over the recording's
   reference beats (both channels) of min(|error|, CAP_MS); a beat that is missed or abstained
   on costs CAP_MS, so declining a hard recording is never cheaper than a fair attempt.
   Recordings weigh equally, whatever their number of beats.
3. :data:`STAGES` in order, each choosing its parameters by the boundaries it moves, with the
   earlier stages' choices fixed: QRS (its onset and offset), T (its offset), P (its onset).
   Candidate grids list the published value (or, where none is published, the previous one)
   first; ties go to the earlier candidate.
4. LORO: for each recording, every stage is chosen on the other recordings (nested: the T stage
   builds on the QRS choice made without that recording), and the errors on the held-out
   recording with those choices are kept. Those held-out errors are the honest estimate of
   the method's error on a new recording; they are in the output as ``loro``.
5. The frozen setting is the one chosen on all recordings. ``FeatureDBConfig``'s defaults
   equal it (a test checks), and a slow test re-runs this procedure and compares.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from itertools import product
from pathlib import Path

import numpy as np

from ecgbench.contracts.intervals import FIDUCIAL_NAMES, BeatFiducials
from ecgbench_featuredb.config import FeatureDBConfig
from ecgbench_featuredb.delineation import DelineationSettings, delineate
from ecgbench_featuredb.featuredb import FeatureDB, LeadAnalysis, beat_fiducials

#: Error (ms) at which a boundary's loss saturates; a miss or an abstention costs this much.
CAP_MS = 80.0
#: Where the frozen selection is stored (package data).
SELECTION_FILE = "selection.json"


@dataclass(frozen=True)
class Stage:
    """One step of the selection: the parameters it chooses, their candidates (the published or
    previous value first) and the boundaries whose errors decide."""

    name: str
    boundaries: tuple[str, ...]
    grid: dict[str, tuple[float, ...]]

    def settings(self, base: DelineationSettings) -> list[DelineationSettings]:
        names = list(self.grid)
        return [replace(base, **dict(zip(names, values, strict=True))) for values in product(*self.grid.values())]


STAGES: tuple[Stage, ...] = (
    Stage("qrs", ("qrs_on", "qrs_off"), {
        "xi_qrs_on": (0.05, 0.02, 0.08, 0.12, 0.16, 0.2),
        "xi_qrs_off": (0.125, 0.08, 0.2, 0.3, 0.4),
        "qrs_significant": (0.08, 0.04, 0.06, 0.12),
        "qrs_gap_s": (0.05, 0.03, 0.07),
    }),
    Stage("t", ("t_off",), {
        "xi_t_off": (0.4, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.6),
        "t_window_s": (0.75, 0.5, 0.6),
        "biphasic_ratio": (0.5, 0.3, 0.8),
        "t_min_amplitude_mv": (0.03, 0.05, 0.08),
    }),
    Stage("p", ("p_on",), {
        "xi_p_on": (0.5, 0.3, 0.4, 0.6, 0.7),
        "p_dominance": (1.2, 1.0, 1.5, 2.0),
    }),
)


@dataclass
class DevelopmentSet:
    """The average beats of every (window, channel) and the reference beats, grouped by recording.

    analyses    LeadAnalysis per measured (window, channel) row
    rows        int64[m]: the window of each analysis
    recordings  str[n_windows]: the source recording of each window
    reference   the reference beats of :func:`ecgbench.data.wave_marks.reference_beats`, with
                their rows repeated once per channel and ``record`` pointing at analysis rows
    duration_s  length of a window
    """

    analyses: list[LeadAnalysis]
    rows: np.ndarray
    recordings: np.ndarray
    reference: dict[str, np.ndarray]
    duration_s: float

    @property
    def beat_recordings(self) -> np.ndarray:
        return self.recordings[self.rows[self.reference["record"]]]


def load_development_set(path: Path, config: FeatureDBConfig | None = None) -> DevelopmentSet:
    """Read the QT Database folder and analyse each window's channels up to the average beat."""
    from ecgbench.data.wave_marks import reference_beats
    from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir

    data = load_wfdb_dir(WFDBDirConfig(path=path, cache=False))
    reference = reference_beats(data)
    if reference is None:
        raise ValueError(f"{path}: no wave marks to select thresholds on")
    model = FeatureDB(config or FeatureDBConfig())
    analyses, rows = [], []
    for i in range(len(data)):
        for lead in np.flatnonzero(np.isfinite(data.signals[i, :, 0])):
            analyses.append(model.analyse(data.signals[i, lead], data.fs))
            rows.append(i)
    rows_arr = np.asarray(rows, dtype=np.int64)
    # Each reference beat once per analysis row of its window.
    parts = {key: [] for key in reference}
    for row, window in enumerate(rows_arr):
        mine = reference["record"] == window
        for key, values in reference.items():
            parts[key].append(np.full(mine.sum(), row) if key == "record" else values[mine])
    expanded = {key: np.concatenate(values) for key, values in parts.items()}
    return DevelopmentSet(analyses, rows_arr, data.meta["record"].astype(str).to_numpy(), expanded,
                          data.n_samples / data.fs)


def beat_errors(dev: DevelopmentSet, settings: DelineationSettings) -> dict[str, np.ndarray]:
    """Signed errors (ms) per expanded reference beat and boundary under ``settings``."""
    from ecgbench.metrics.intervals import fiducial_errors

    tables = []
    for row, analysis in enumerate(dev.analyses):
        fiducials = None if analysis.beat is None else delineate(analysis.beat, settings)
        tables.append(beat_fiducials(replace(analysis, fiducials=fiducials), row, dev.duration_s))
    errors, _ = fiducial_errors(dev.reference, BeatFiducials.concatenate(tables))
    return errors


def recording_losses(dev: DevelopmentSet, errors: dict[str, np.ndarray], boundaries: Iterable[str]) -> dict[str, float]:
    """Loss per recording (module docstring, step 2)."""
    labels = dev.beat_recordings
    out = {}
    for recording in np.unique(labels):
        mine = labels == recording
        loss = 0.0
        for name in boundaries:
            marked = mine & np.isfinite(dev.reference[name])
            if marked.any():
                e = np.abs(errors[name][marked])
                loss += float(np.mean(np.where(np.isfinite(e), np.minimum(e, CAP_MS), CAP_MS)))
        out[str(recording)] = loss
    return out


class Selector:
    """Evaluates settings on the development set once each and chooses by summed loss."""

    def __init__(self, dev: DevelopmentSet):
        self.dev = dev
        self._errors: dict[DelineationSettings, dict[str, np.ndarray]] = {}

    def errors(self, settings: DelineationSettings) -> dict[str, np.ndarray]:
        if settings not in self._errors:
            self._errors[settings] = beat_errors(self.dev, settings)
        return self._errors[settings]

    def choose(self, stage: Stage, base: DelineationSettings, leave_out: str | None = None) -> DelineationSettings:
        """The candidate of ``stage`` with the least loss over the recordings (but ``leave_out``)."""
        best, best_loss = base, np.inf
        for settings in stage.settings(base):
            losses = recording_losses(self.dev, self.errors(settings), stage.boundaries)
            total = sum(v for k, v in losses.items() if k != leave_out)
            if total < best_loss - 1e-9:
                best, best_loss = settings, total
        return best

    def choose_all(self, start: DelineationSettings, leave_out: str | None = None) -> DelineationSettings:
        settings = start
        for stage in STAGES:
            settings = self.choose(stage, settings, leave_out)
        return settings


def tuned_names() -> list[str]:
    """The parameters the stages choose, in stage order."""
    return [name for stage in STAGES for name in stage.grid]


def _summary(errors: np.ndarray) -> dict:
    e = errors[np.isfinite(errors)]
    return {"n": int(len(e)), "mean": round(float(e.mean()), 2), "sd": round(float(e.std(ddof=1)), 2),
            "mae": round(float(np.abs(e).mean()), 2)}


def select(dev: DevelopmentSet) -> dict:
    """Run the whole procedure; the JSON-ready result (frozen values, LORO choices and errors).

    The thresholds no stage chooses come from ``FeatureDBConfig``'s defaults; every chosen one is
    set by its stage's grid, so the result does not depend on the config's current values."""
    start = FeatureDBConfig().delineation()
    selector = Selector(dev)
    frozen = selector.choose_all(start)
    held_out = {name: np.full(len(dev.reference["record"]), np.nan) for name in FIDUCIAL_NAMES}
    labels = dev.beat_recordings
    choices = {}
    for recording in sorted(set(labels.tolist())):
        chosen = selector.choose_all(start, leave_out=recording)
        choices[recording] = {name: getattr(chosen, name) for name in tuned_names()}
        errors = selector.errors(chosen)
        mine = labels == recording
        for name in FIDUCIAL_NAMES:
            held_out[name][mine] = errors[name][mine]
    in_sample = selector.errors(frozen)
    return {
        "procedure": "leave-one-record-out, staged (qrs, t, p); loss = mean min(|error|, cap) per recording; "
                     "see ecgbench_featuredb.selection",
        "cap_ms": CAP_MS,
        "stages": [{"name": s.name, "boundaries": list(s.boundaries), "grid": {k: list(v) for k, v in s.grid.items()}}
                   for s in STAGES],
        "recordings": sorted(set(labels.tolist())),
        "frozen": {name: getattr(frozen, name) for name in tuned_names()},
        "loro_choices": choices,
        "loro_errors_ms": {name: _summary(held_out[name]) for name in FIDUCIAL_NAMES},
        "in_sample_errors_ms": {name: _summary(in_sample[name]) for name in FIDUCIAL_NAMES},
    }


def frozen_selection() -> dict:
    """The selection stored with the package (``selection.json``)."""
    return json.loads(resources.files("ecgbench_featuredb").joinpath(SELECTION_FILE).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the QT Database development folder (qtdb-dev)")
    parser.add_argument("--out", type=Path, help="write the selection here (default: print it)")
    args = parser.parse_args()
    result = select(load_development_set(args.data))
    result["data"] = args.data.name
    text = json.dumps(result, indent=1) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
