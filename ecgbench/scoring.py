"""``ecgbench score``: apply a task's evaluator to a samples file made anywhere.

The file is a ``.npz`` in the samples format of run records (``docs/records.md``), so
published predictions and harness runs are scored in the same terms:

- classify-71-labels: ``y_true``, ``y_score`` ``[n, 71]``; optional ``label_codes``,
  ``val_y_true`` and ``val_y_score`` (for the validation-chosen Fmax threshold);
- measure-intervals: ``reference_<i>`` and ``measured_<i>`` for i in pr, qrs, qt, qtc, hr;
  optional ``sex``, ``qtc_formula``, ``avb1_truth``, ``lqt_truth``;
- interpret-image: ``question_type``, ``question``, ``answer``, ``target``; optional ``options``
  (joined by " | ") and ``target_codes`` (joined by ",");
- generate: ``generated`` and ``real`` ``[n, 12, T]`` in mV, ``fs``; optional
  ``generated_labels`` and ``real_labels`` (the samples file of a run holds per-record values
  only, so rescoring a generator needs its records).

With ``bootstrap_ids`` (``int[n_boot, n]``) every bootstrap over the n scored records uses
exactly those resamples, so a published interval can be reproduced.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from ecgbench.contracts.intervals import INTERVALS
from ecgbench.data.labels import SCP_CODES
from ecgbench.data.qa_types import OPTION_SEPARATOR, QAItem
from ecgbench.errors import ConfigError, DataError
from ecgbench.metrics.bootstrap import MetricValue, fixed_resamples


def _require(arrays: dict[str, np.ndarray], path: Path, *names: str) -> list[np.ndarray]:
    missing = [n for n in names if n not in arrays]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; it has {sorted(arrays)}")
    return [arrays[n] for n in names]


def _classify(a: dict, path: Path, seed: int) -> list[MetricValue]:
    from ecgbench.metrics.classification import classification_suite

    y_true, y_score = _require(a, path, "y_true", "y_score")
    codes = tuple(str(c) for c in a["label_codes"]) if "label_codes" in a else SCP_CODES
    return classification_suite(y_true, y_score.astype(np.float64), val_true=a.get("val_y_true"),
                                val_score=a.get("val_y_score"), seed=seed, codes=codes)


def _intervals(a: dict, path: Path, seed: int) -> list[MetricValue]:
    from ecgbench.metrics.intervals import interval_suite

    reference = dict(zip(INTERVALS, _require(a, path, *(f"reference_{k}" for k in INTERVALS)), strict=True))
    measured = dict(zip(INTERVALS, _require(a, path, *(f"measured_{k}" for k in INTERVALS)), strict=True))
    n = len(reference["pr"])
    sex = a["sex"].astype(str) if "sex" in a else np.full(n, "")
    formula = str(a["qtc_formula"]) if "qtc_formula" in a else "bazett"
    truth = {k: a[k].astype(bool) if k in a else None for k in ("avb1_truth", "lqt_truth")}
    return interval_suite(reference, measured, sex=sex, qtc_formula=formula, seed=seed, **truth)


def _image(a: dict, path: Path, seed: int) -> list[MetricValue]:
    from ecgbench.metrics.text import image_suite

    kinds, questions, answers, targets = _require(a, path, "question_type", "question", "answer", "target")
    options = a.get("options", np.full(len(kinds), ""))
    codes = a.get("target_codes", np.full(len(kinds), ""))
    items = [
        QAItem(item_id=str(i), record_id=str(a["record_id"][i]) if "record_id" in a else str(i), image_index=i,
               question_type=str(kinds[i]), question=str(questions[i]), target=str(targets[i]),
               options=tuple(o for o in str(options[i]).split(OPTION_SEPARATOR) if o),
               target_codes=tuple(c for c in str(codes[i]).split(",") if c))
        for i in range(len(kinds))
    ]
    return image_suite(items, [str(x) for x in answers], seed=seed)


def _generate(a: dict, path: Path, seed: int) -> list[MetricValue]:
    from ecgbench.metrics.generation import generation_suite

    generated, real, fs = _require(a, path, "generated", "real", "fs")
    return generation_suite(generated.astype(np.float32), real.astype(np.float32), a.get("generated_labels"),
                            a.get("real_labels"), float(fs), seed=seed)


SCORERS = {"classify-71-labels": _classify, "measure-intervals": _intervals, "interpret-image": _image,
           "generate": _generate}


def score_samples(task: str, path: Path, bootstrap_ids: Path | None = None, seed: int = 0) -> list[MetricValue]:
    """The task's metrics on the arrays of a samples file."""
    if task not in SCORERS:
        raise ConfigError(f"ecgbench score knows the tasks {sorted(SCORERS)}, not {task!r}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz samples file ({exc})") from exc
    guard = contextlib.nullcontext()
    if bootstrap_ids is not None:
        guard = fixed_resamples(np.load(bootstrap_ids, allow_pickle=False))
    with guard:
        return SCORERS[task](arrays, Path(path), seed)
