"""``ecgbench score``: apply a task's evaluator to a samples file made anywhere.

The file is a ``.npz`` in the samples format of run records (``docs/records.md``), so
published predictions and harness runs are scored in the same terms. Each task names its
scorer in its spec (``TaskSpec.scorer``); the built-in tasks read:

- classify-71-labels: ``y_true``, ``y_score`` ``[n, 71]``; optional ``label_codes``,
  ``val_y_true`` and ``val_y_score`` (for the validation-chosen Fmax threshold);
- measure-intervals: ``reference_<i>`` and ``measured_<i>`` for i in pr, qrs, qt, qtc, hr;
  optional ``sex``, ``qtc_formula``, ``avb1_truth``, ``lqt_truth`` and ``recording`` (the source
  recording of each window: the bootstrap then resamples recordings, as the run does);
- interpret-image: ``question_type``, ``question``, ``answer``, ``target``; optional ``options``
  (joined by " | ") and ``target_codes`` (joined by ",");
- generate: ``generated`` and ``real`` ``[n, 12, T]`` in mV, ``fs``; optional
  ``generated_labels`` and ``real_labels``, and ``reference`` ``[m, 12, T]``: the real records
  that fix the metric space (normalisation, MMD bandwidth; a run uses its training split),
  else ``real`` fixes it (the samples file of a run holds per-record values only, so
  rescoring a generator needs its records).

With ``bootstrap_ids`` (``int[n_boot, n]``) every bootstrap over the n scored records uses
exactly those resamples, so a published interval can be reproduced.

The file is checked before anything is scored, with the same clauses a run applies to a model's
output: a DataError names the file, the array and the problem (not a .npz archive; no records;
arrays of different lengths; scores outside [0, 1]; label codes that are no SCP statement).
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import numpy as np

from ecgbench.contracts.intervals import INTERVALS
from ecgbench.data.labels import SCP_CODES
from ecgbench.data.qa_types import OPTION_SEPARATOR, QAItem
from ecgbench.errors import ConfigError, DataError
from ecgbench.metrics.bootstrap import MetricValue, fixed_resamples
from ecgbench.registry import Registry
from ecgbench.specs import load_object


def _require(arrays: dict[str, np.ndarray], path: Path, *names: str) -> list[np.ndarray]:
    missing = [n for n in names if n not in arrays]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; it has {sorted(arrays)}")
    return [arrays[n] for n in names]


def _numbers(a: dict, path: Path, name: str, ndim: int, finite: bool = True) -> np.ndarray:
    """Array ``name`` as float64 with ``ndim`` dimensions and at least one record."""
    value = a[name]
    if value.ndim != ndim or not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        raise DataError(f"{path}: {name} must be a {ndim}-d array of numbers, got {value.ndim}-d {value.dtype}")
    if value.shape[0] == 0:
        raise DataError(f"{path}: {name} holds no records (shape {list(value.shape)})")
    value = value.astype(np.float64)
    if finite and not np.isfinite(value).all():
        raise DataError(f"{path}: {name} holds {int((~np.isfinite(value)).sum())} NaN or infinite values")
    return value


def _same_length(path: Path, arrays: dict[str, np.ndarray]) -> int:
    lengths = {name: len(value) for name, value in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(f"{path}: arrays of different lengths (records): {lengths}")
    return next(iter(lengths.values()))


def _label_pair(a: dict, path: Path, true_name: str, score_name: str, codes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Labels (0/1) and scores in [0, 1], both [n, len(codes)]."""
    y_true, y_score = _numbers(a, path, true_name, 2), _numbers(a, path, score_name, 2)
    for name, value in ((true_name, y_true), (score_name, y_score)):
        if value.shape[1] != len(codes):
            raise DataError(f"{path}: {name} has {value.shape[1]} columns, one per label code ({len(codes)})")
    _same_length(path, {true_name: y_true, score_name: y_score})
    if not np.isin(y_true, (0, 1)).all():
        raise DataError(f"{path}: {true_name} must hold 0 and 1 only, got values {np.unique(y_true)[:5].tolist()}")
    lo, hi = float(y_score.min()), float(y_score.max())
    if lo < 0 or hi > 1:
        raise DataError(
            f"{path}: {score_name} must be probabilities in [0, 1] (as a run requires of a model), "
            f"got the range [{lo:.4g}, {hi:.4g}]"
        )
    return y_true, y_score


def _label_codes(a: dict, path: Path) -> tuple[str, ...]:
    if "label_codes" not in a:
        return SCP_CODES
    codes = tuple(str(c) for c in np.atleast_1d(a["label_codes"]))
    unknown = [c for c in codes if c not in SCP_CODES]
    if unknown:
        raise DataError(
            f"{path}: label_codes {unknown[:10]} are not among the 71 SCP statements "
            f"(ecgbench.data.labels.SCP_CODES); the subset metrics would lose them"
        )
    if len(set(codes)) != len(codes):
        raise DataError(f"{path}: label_codes name a code twice")
    return codes


def score_classify(a: dict, path: Path, seed: int) -> list[MetricValue]:
    """classify-71-labels: macro AUROC (and subsets) and Fmax of ``y_score`` against ``y_true``."""
    from ecgbench.metrics.classification import classification_suite

    _require(a, path, "y_true", "y_score")
    codes = _label_codes(a, path)
    _, y_score = _label_pair(a, path, "y_true", "y_score", codes)
    if ("val_y_true" in a) != ("val_y_score" in a):
        raise DataError(f"{path}: val_y_true and val_y_score go together; it has only one of them")
    if "val_y_true" in a:
        _label_pair(a, path, "val_y_true", "val_y_score", codes)
    return classification_suite(a["y_true"], y_score, val_true=a.get("val_y_true"), val_score=a.get("val_y_score"),
                                seed=seed, codes=codes)


def score_intervals(a: dict, path: Path, seed: int) -> list[MetricValue]:
    """measure-intervals: errors, agreement and AUROCs of ``measured_*`` against ``reference_*``."""
    from ecgbench.metrics.intervals import interval_suite

    _require(a, path, *(f"{kind}_{k}" for kind in ("reference", "measured") for k in INTERVALS))
    reference = {k: _numbers(a, path, f"reference_{k}", 1, finite=False) for k in INTERVALS}
    measured = {k: _numbers(a, path, f"measured_{k}", 1, finite=False) for k in INTERVALS}
    optional = {k: a[k] for k in ("sex", "avb1_truth", "lqt_truth", "recording") if k in a}
    _same_length(path, {**{f"reference_{k}": v for k, v in reference.items()},
                        **{f"measured_{k}": v for k, v in measured.items()}, **optional})
    n = len(reference["pr"])
    sex = a["sex"].astype(str) if "sex" in a else np.full(n, "")
    formula = str(a["qtc_formula"]) if "qtc_formula" in a else "bazett"
    truth = {k: a[k].astype(bool) if k in a else None for k in ("avb1_truth", "lqt_truth")}
    groups = a["recording"].astype(str) if "recording" in a else None
    return interval_suite(reference, measured, sex=sex, qtc_formula=formula, groups=groups, seed=seed, **truth)


def score_image(a: dict, path: Path, seed: int) -> list[MetricValue]:
    """interpret-image: accuracy and label F1 of the answers against the targets."""
    from ecgbench.metrics.text import image_suite

    kinds, questions, answers, targets = _require(a, path, "question_type", "question", "answer", "target")
    n = _same_length(path, {k: np.atleast_1d(a[k]) for k in ("question_type", "question", "answer", "target",
                                                           "options", "target_codes", "record_id") if k in a})
    if n == 0:
        raise DataError(f"{path}: holds no questions")
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


def score_generate(a: dict, path: Path, seed: int) -> list[MetricValue]:
    """generate: the distribution metrics of ``generated`` against ``real`` records."""
    from ecgbench.metrics.generation import generation_suite, reference_space

    _require(a, path, "generated", "real", "fs")
    generated, real = _numbers(a, path, "generated", 3), _numbers(a, path, "real", 3)
    reference, source = real, "the file's real records"
    if "reference" in a:
        reference, source = _numbers(a, path, "reference", 3, finite=False), "the file's reference records"
    for name, value in (("generated", generated), ("real", real), ("reference", reference)):
        if value.shape[1] != 12:
            raise DataError(f"{path}: {name} must be [n, 12, T] in mV, got shape {list(value.shape)}")
    for name, value in (("generated", generated), ("reference", reference)):
        if value.shape[2] != real.shape[2]:
            raise DataError(f"{path}: {name} and real differ in length: {value.shape[2]} and {real.shape[2]} samples")
    fs = a["fs"]
    if fs.size != 1 or not np.issubdtype(fs.dtype, np.number) or not float(fs) > 0:
        raise DataError(f"{path}: fs must be one positive number (Hz), got {fs!r}")
    labels = {}
    for name, n in (("generated_labels", len(generated)), ("real_labels", len(real))):
        if name in a:
            labels[name] = _numbers(a, path, name, 2)
            if labels[name].shape != (n, len(SCP_CODES)):
                raise DataError(f"{path}: {name} must be [{n}, {len(SCP_CODES)}], got {list(labels[name].shape)}")
    space = reference_space(reference.astype(np.float32), seed=seed, source=source)
    return generation_suite(generated.astype(np.float32), real.astype(np.float32), labels.get("generated_labels"),
                            labels.get("real_labels"), float(fs), seed=seed, space=space)


def score_samples(task: str, path: Path, bootstrap_ids: Path | None = None, seed: int = 0,
                  registry: Registry | None = None) -> list[MetricValue]:
    """The task's metrics on the arrays of a samples file, by the scorer its spec names (a task a
    plugin registers brings its own)."""
    spec = (registry or Registry()).task(task)
    if spec.scorer is None:
        raise ConfigError(f"task {spec.name!r} names no scorer, so `ecgbench score` cannot rescore its samples files")
    scorer = load_object(spec.scorer)
    arrays = read_samples_file(Path(path))
    guard = contextlib.nullcontext()
    if bootstrap_ids is not None:
        guard = fixed_resamples(_bootstrap_ids(Path(bootstrap_ids)))
    with guard:
        return scorer(arrays, Path(path), seed)


def read_samples_file(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` samples file; DataError saying what the file is instead."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x93NUMPY"):
        raise DataError(
            f"{path}: a single .npy array; a samples file is a .npz archive of named arrays, "
            "e.g. np.savez(path, y_true=..., y_score=...)"
        )
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a .npz archive (a zip of named .npy arrays, as np.savez writes); it starts with {head!r}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataError(f"{path}: an array holds Python objects (pickled); store numbers and strings") from None
        raise DataError(f"{path}: not a readable .npz archive ({exc})") from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc})") from exc


def _bootstrap_ids(path: Path) -> np.ndarray:
    try:
        ids = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a .npy array of bootstrap ids ({exc})") from exc
    if not isinstance(ids, np.ndarray) or ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise DataError(f"{path}: bootstrap ids must be one int[n_boot, n] .npy array")
    if ids.size == 0 or ids.min() < 0 or ids.max() >= ids.shape[1]:
        raise DataError(f"{path}: bootstrap ids must hold record indices in [0, {ids.shape[1]})")
    return ids
