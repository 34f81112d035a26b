"""The ``measure-intervals`` task: per-record PR, QRS, QT, QTc and HR against a reference.

Which records are measured: a measurer that learns (has ``fit``) is fitted on the training
split and scored on the test split; a rule-based measurer sees no training data, so it is
scored on every record of the dataset (``split="auto"``), which matters for small annotated
sets such as QT Database windows.

The reference QTc is the reference QT corrected with the formula the measurer names, so both
sides use one formula. When the dataset has beat-level reference marks (``dataset.beats``, e.g.
the QT Database's ``.q1c``) and the measurer returns beat fiducials, P onset, QRS onset, QRS
offset and T offset are scored beat by beat as well. Windows cut from one source recording
(``meta["record"]``) are resampled together by every bootstrap, and the samples file and an
error-per-recording plot break the errors down by recording (docs/qtdb-protocol.md). First-degree AV block and long-QT truth come from the dataset's SCP
labels (1AVB, LNGQT) when it carries them, else from the reference intervals (PR > 200 ms;
QTc over the sex-specific cut-off).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.context import RunContext
from ecgbench.contracts.intervals import (
    INTERVALS,
    IntervalMeasurer,
    check_measurements,
    qtc,
)
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.wave_marks import reference_beats
from ecgbench.metrics.intervals import (
    AVB1_PR_MS,
    ERROR_INTERVALS,
    LQT_CUTOFFS_MS,
    fiducial_errors,
    fiducial_suite,
    interval_suite,
)
from ecgbench.metrics.plots import bland_altman_png, errors_by_recording_png
from ecgbench.tasks.result import TaskResult

UNITS = {"pr": "ms", "qrs": "ms", "qt": "ms", "qtc": "ms", "hr": "bpm"}


class IntervalsTaskConfig(BaseModel):
    """Evaluator settings; they are written into every record."""

    eval_seed: int = Field(default=0, description="seed of the bootstrap")
    n_boot: int = Field(default=200, description="bootstrap resamples per metric")
    split: Literal["auto", "test", "all"] = Field(
        default="auto", description="records scored: 'auto' = test split for measurers with fit(), else all"
    )
    avb1_pr_ms: float = Field(default=AVB1_PR_MS, description="PR above this is first-degree AV block")
    lqt_male_ms: float = Field(default=LQT_CUTOFFS_MS["M"], description="long-QT QTc cut-off for men")
    lqt_female_ms: float = Field(default=LQT_CUTOFFS_MS["F"], description="long-QT QTc cut-off for women (and unknown sex uses the male one)")
    plots: bool = Field(default=True, description="write a Bland–Altman PNG per interval and an error-per-recording PNG")


def _truth_from_labels(data: ECGDataset, code: str) -> np.ndarray | None:
    if code in data.expressed:
        return data.labels[:, SCP_INDEX[code]].astype(bool)
    return None


def recording_groups(data: ECGDataset) -> np.ndarray | None:
    """str[n]: the source recording of each record when records are windows of longer
    recordings (``meta["record"]``, as wfdb-dir writes it) and some recording has several;
    else None (every record is its own unit)."""
    if "record" not in data.meta.columns:
        return None
    groups = data.meta["record"].astype(str).to_numpy()
    return groups if len(np.unique(groups)) < len(groups) else None


def run(
    model: IntervalMeasurer,
    model_name: str,
    dataset: ECGDataset,
    folds: FoldSplit,
    config: IntervalsTaskConfig,
    ctx: RunContext,
) -> TaskResult:
    learns = callable(getattr(model, "fit", None))
    split = config.split if config.split != "auto" else ("test" if learns else "all")
    splits: dict[str, int] = {}
    if split == "test" or learns:
        train, _, test = dataset.split(folds)
        if learns:
            with ctx.phase("fit"):
                model.fit(train)  # type: ignore[attr-defined]
            splits["train"] = len(train)
        scored = test if split == "test" else dataset
    else:
        scored = dataset
    splits["scored"] = len(scored)
    scored = scored.loaded()  # measurers take one array of every scored record

    with ctx.phase("measure"):
        measured = check_measurements(model.measure(scored.signals, scored.fs), n=len(scored), model=model_name,
                                      duration_s=scored.n_samples / scored.fs)
    values = measured.as_dict()
    groups = recording_groups(scored)
    beats = reference_beats(scored)

    if scored.intervals is not None:
        ref = {k: scored.intervals[k].to_numpy(dtype=np.float64) for k in ("pr", "qrs", "qt", "hr")}
        ref["qtc"] = qtc(scored.intervals["qt"].to_numpy(dtype=np.float64), scored.intervals["rr"].to_numpy(dtype=np.float64), measured.qtc_formula)
    else:
        ref = {k: np.full(len(scored), np.nan) for k in INTERVALS}
    sex = np.asarray(scored.meta["sex"].astype(str), dtype=str)
    cutoffs = {"M": config.lqt_male_ms, "F": config.lqt_female_ms, "": config.lqt_male_ms}

    with ctx.phase("evaluate"):
        metrics = interval_suite(
            ref, values, sex=sex, qtc_formula=measured.qtc_formula,
            avb1_truth=_truth_from_labels(scored, "1AVB"), lqt_truth=_truth_from_labels(scored, "LNGQT"),
            avb1_pr_ms=config.avb1_pr_ms, lqt_cutoffs_ms=cutoffs, groups=groups, seed=config.eval_seed,
            n_boot=config.n_boot,
        )
        beat_errors: dict[str, np.ndarray] = {}
        if beats is not None and measured.fiducials is not None:
            metrics += fiducial_suite(beats, measured.fiducials, groups=groups, seed=config.eval_seed,
                                      n_boot=config.n_boot)
            beat_errors, _ = fiducial_errors(beats, measured.fiducials)
        artifacts = []
        if config.plots:
            ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
            for name in INTERVALS:
                if np.isfinite(ref[name]).sum() >= 3 and np.isfinite(values[name] - ref[name]).sum() >= 3:
                    path = bland_altman_png(ref[name], values[name], name.upper(), UNITS[name],
                                            ctx.artifacts_dir / f"bland-altman-{name}.png")
                    artifacts.append((path, "plot"))
            if groups is not None:
                panels = {name.upper(): (groups, values[name] - ref[name]) for name in ERROR_INTERVALS
                          if np.isfinite(values[name] - ref[name]).any()}
                for name, errors in beat_errors.items():
                    if beats is not None and np.isfinite(errors).any():
                        panels[f"{name} (beats)"] = (groups[beats["record"]], errors)
                if panels:
                    path = errors_by_recording_png(panels, "ms", ctx.artifacts_dir / "errors-by-recording.png")
                    artifacts.append((path, "plot"))

    samples = {"record_id": scored.record_ids.astype(str), "sex": sex}
    if groups is not None:
        samples["recording"] = groups.astype(str)
    for name in INTERVALS:
        samples[f"reference_{name}"] = ref[name]
        samples[f"measured_{name}"] = values[name]
    if beat_errors and beats is not None:
        samples["beat_record"] = beats["record"]
        samples["beat_time"] = beats["time"]
        for name, errors in beat_errors.items():
            samples[f"beat_error_{name}"] = errors
    notes = {"qtc_formula": measured.qtc_formula, "scored_split": split,
             "truth_source": {"avb1": "labels" if "1AVB" in scored.expressed else "reference PR",
                              "lqt": "labels" if "LNGQT" in scored.expressed else "reference QTc"},
             "fiducials": ("scored against beat marks" if beat_errors else
                           "not scored: " + ("the measurer returns none" if measured.fiducials is None
                                             else "the dataset has no beat marks"))}
    if groups is not None:
        notes["per_recording"] = per_recording_table(groups, ref, values, beats, beat_errors)
    return TaskResult(metrics=metrics, samples=samples, artifacts=artifacts, splits=splits, notes=notes)


def per_recording_table(
    groups: np.ndarray,
    reference: dict[str, np.ndarray],
    measured: dict[str, np.ndarray],
    beats: dict[str, np.ndarray] | None,
    beat_errors: dict[str, np.ndarray],
) -> dict[str, dict]:
    """Per source recording: windows, then per interval the MAE and mean signed error (ms) over
    its windows with both values, and per boundary the mean and SD of its beats' errors (ms)."""

    def summary(errors: np.ndarray) -> dict:
        e = errors[np.isfinite(errors)]
        if not len(e):
            return {"n": 0}
        return {"n": int(len(e)), "mae": round(float(np.abs(e).mean()), 2), "mean": round(float(e.mean()), 2),
                "sd": round(float(e.std(ddof=1)), 2) if len(e) >= 2 else None}

    table: dict[str, dict] = {}
    for recording in sorted(set(groups.tolist())):
        rows = groups == recording
        entry: dict = {"windows": int(rows.sum())}
        for name in ERROR_INTERVALS:
            entry[name] = summary(measured[name][rows] - reference[name][rows])
        if beats is not None:
            beat_rows = rows[beats["record"]]
            for name, errors in beat_errors.items():
                entry[name] = summary(errors[beat_rows])
        table[recording] = entry
    return table
