"""Question–answer items about rendered ECG images, and their ECGInstruct-like JSONL form.

Four question types, each built only where the record's labels (or reference intervals)
settle the answer:

``rhythm``    multiple choice among sinus rhythm, sinus tachycardia, sinus bradycardia, sinus
              arrhythmia and atrial fibrillation; asked when exactly one of them is labelled.
``finding``   "Does this ECG show <statement>?" -> "yes" / "no", for a few statements per image,
              drawn so that every statement is answered "yes" and "no" equally often in
              expectation (the question text alone never gives the answer away).
``interval``  multiple choice over ranges: PR, QRS, QTc (Bazett) and heart rate. From the
              dataset's reference intervals when it has them, else from the labels that imply a
              range (1AVB/LPR: PR over 200 ms; CLBBB/CRBBB/IVCD: QRS 120 ms or more; ...);
              a record whose labels settle nothing gets no interval question.
``labels``    "List the findings on this ECG." -> the statements' descriptions joined by "; ",
              e.g. "atrial fibrillation; complete left bundle branch block".

Closed answers are exactly the text of one option, and every question names its options, so
a model that only sees the question text knows what it may answer. No option is contained in
another, so a parser can find the one an answer names. Everything is fixed by the seed: each
record's questions come from a generator seeded by (seed, record id).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import SCP_CODES, SCP_INDEX, statement
from ecgbench.data.qa_types import ImageQASet, QAItem
from ecgbench.data.render import record_rng, save_png
from ecgbench.errors import ConfigError, DataError

QUESTION_TYPES: tuple[str, ...] = ("rhythm", "finding", "interval", "labels")
YES, NO = "yes", "no"
LABELS_QUESTION = "List the findings on this ECG."
NO_FINDINGS = "no findings"


def describe(code: str) -> str:
    """The printed name of an SCP statement: its PTB-XL description without parenthetical notes.

    'CLBBB' -> 'complete left bundle branch block'; 'VCLVH' -> 'voltage criteria for left
    ventricular hypertrophy' (PTB-XL: 'voltage criteria (QRS) for ...').
    """
    return re.sub(r"\s*\([^)]*\)", "", str(statement(code)["description"])).strip()


class IntervalQuestion(BaseModel):
    """A multiple-choice question over ranges of one reference interval.

    ``edges`` split the value into ``len(edges) + 1`` classes named by ``options``: class k
    holds the values below ``edges[k]`` (edge, inclusive) — at or below it when inclusive — and
    not in an earlier class; the last class holds the rest.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    stem: str
    edges: tuple[tuple[float, bool], ...]
    options: tuple[str, ...]

    def class_of(self, value: float) -> str:
        """The option a value falls in, e.g. PR 200 ms -> '120 to 200 ms'."""
        for k, (edge, inclusive) in enumerate(self.edges):
            if value < edge or (inclusive and value == edge):
                return self.options[k]
        return self.options[-1]


INTERVAL_QUESTIONS: tuple[IntervalQuestion, ...] = (
    IntervalQuestion(key="pr", stem="What is the PR interval?", edges=((120, False), (200, True)),
                     options=("under 120 ms", "120 to 200 ms", "over 200 ms")),
    IntervalQuestion(key="qrs", stem="What is the QRS duration?", edges=((120, False),),
                     options=("under 120 ms", "120 ms or more")),
    IntervalQuestion(key="qtc", stem="What is the QTc interval (Bazett)?", edges=((460, True),),
                     options=("460 ms or less", "over 460 ms")),
    IntervalQuestion(key="hr", stem="What is the heart rate?", edges=((60, False), (100, True)),
                     options=("under 60 bpm", "60 to 100 bpm", "over 100 bpm")),
)
_INTERVAL_BY_KEY = {q.key: q for q in INTERVAL_QUESTIONS}


def _intervals_from_labels(codes: set[str]) -> dict[str, str]:
    """The interval classes a record's statements imply (only those they settle)."""
    answers: dict[str, str] = {}
    pr, qrs, qtc, hr = (_INTERVAL_BY_KEY[k].options for k in ("pr", "qrs", "qtc", "hr"))
    no_p_waves = bool(codes & {"AFIB", "AFLT"})
    if codes & {"1AVB", "LPR"}:
        answers["pr"] = pr[2]
    elif "WPW" in codes:
        answers["pr"] = pr[0]
    elif "NORM" in codes and not no_p_waves:
        answers["pr"] = pr[1]
    if codes & {"CLBBB", "CRBBB", "IVCD"}:
        answers["qrs"] = qrs[1]
    elif "NORM" in codes:
        answers["qrs"] = qrs[0]
    if "LNGQT" in codes:
        answers["qtc"] = qtc[1]
    elif "NORM" in codes:
        answers["qtc"] = qtc[0]
    if "STACH" in codes:
        answers["hr"] = hr[2]
    elif "SBRAD" in codes:
        answers["hr"] = hr[0]
    elif codes & {"SR", "SARRH"}:
        answers["hr"] = hr[1]
    return answers


def _intervals_from_reference(row: dict[str, float]) -> dict[str, str]:
    """Interval classes from reference values in ms (``hr`` in bpm); NaN -> no question."""
    values = {"pr": row.get("pr", math.nan), "qrs": row.get("qrs", math.nan), "hr": row.get("hr", math.nan)}
    qt, rr = row.get("qt", math.nan), row.get("rr", math.nan)
    if not np.isfinite(rr) and np.isfinite(values["hr"]) and values["hr"] > 0:
        rr = 60_000.0 / values["hr"]
    values["qtc"] = qt / math.sqrt(rr / 1000.0) if np.isfinite(qt) and np.isfinite(rr) and rr > 0 else math.nan
    return {key: _INTERVAL_BY_KEY[key].class_of(v) for key, v in values.items() if np.isfinite(v)}


class QAConfig(BaseModel):
    """Which questions are asked about each image."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question_types: tuple[str, ...] = Field(default=QUESTION_TYPES, description="subset of rhythm, finding, interval, labels")
    rhythm_codes: tuple[str, ...] = Field(
        default=("SR", "STACH", "SBRAD", "SARRH", "AFIB"),
        description="the options of the rhythm question, as SCP codes (printed as their descriptions)",
    )
    findings: tuple[str, ...] | None = Field(
        default=None,
        description="statements that get yes/no questions; None: every statement the dataset expresses "
        "with at least min_positives positives and as many negatives. Pass it explicitly to ask the "
        "same statements about two splits.",
    )
    min_positives: int = Field(default=5, ge=1, description="see findings")
    findings_per_image: float = Field(
        default=2.0, ge=0, description="yes/no questions per image on average (fewer where rare statements cap it)"
    )
    intervals: tuple[str, ...] = Field(default=tuple(q.key for q in INTERVAL_QUESTIONS), description="pr, qrs, qtc, hr")
    interval_source: Literal["auto", "reference", "labels"] = Field(
        default="auto", description="'reference' (dataset intervals), 'labels', or 'auto' (reference when present)"
    )
    questions_per_image: int | None = Field(
        default=None, ge=1, description="keep at most this many questions per image (drawn at random); None keeps all"
    )
    seed: int = Field(default=0, description="used when build_qa gets no seed")

    @field_validator("question_types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(QUESTION_TYPES)
        if unknown:
            raise ValueError(f"unknown question types {sorted(unknown)}; choose from {QUESTION_TYPES}")
        return value

    @field_validator("rhythm_codes", "findings")
    @classmethod
    def _known_codes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = [c for c in value or () if c not in SCP_INDEX]
        if unknown:
            raise ValueError(f"{unknown} are not SCP statements")
        return value

    @field_validator("intervals")
    @classmethod
    def _known_intervals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(_INTERVAL_BY_KEY)
        if unknown:
            raise ValueError(f"unknown intervals {sorted(unknown)}; choose from {sorted(_INTERVAL_BY_KEY)}")
        return value


def with_options(stem: str, options: Sequence[str]) -> str:
    """A closed question's text: the stem, then the options it may be answered with."""
    return f"{stem} Options: {'; '.join(options)}. Answer with one option."


def rhythm_question(rhythm_codes: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """(question text, options) of the rhythm question over these codes."""
    options = tuple(describe(c) for c in rhythm_codes)
    return with_options("What is the rhythm of this ECG?", options), options


def finding_question(code: str) -> str:
    """The yes/no question about one statement."""
    subject = "Is this a normal ECG?" if code == "NORM" else f"Does this ECG show {describe(code)}?"
    return f"{subject} Answer yes or no."


def interval_question(key: str) -> tuple[str, tuple[str, ...]]:
    """(question text, options) of the multiple-choice question about one interval."""
    question = _INTERVAL_BY_KEY[key]
    return with_options(question.stem, question.options), question.options


def labels_answer(codes: Sequence[str]) -> str:
    """The free-text target listing statements: descriptions in SCP order joined by '; '."""
    ordered = sorted(set(codes), key=SCP_INDEX.__getitem__)
    return "; ".join(describe(c) for c in ordered) if ordered else NO_FINDINGS


def finding_codes(dataset: ECGDataset, min_positives: int = 5) -> tuple[str, ...]:
    """Statements the dataset expresses with at least ``min_positives`` positives and negatives."""
    positives = dataset.labels.sum(axis=0)
    n = len(dataset)
    return tuple(
        c for c in SCP_CODES
        if c in dataset.expressed and positives[SCP_INDEX[c]] >= min_positives and n - positives[SCP_INDEX[c]] >= min_positives
    )


def _asking_rates(dataset: ECGDataset, findings: Sequence[str], per_image: float) -> list[tuple[str, float, float]]:
    """(code, P(ask | present), P(ask | absent)) so that each statement's yes and no are equally likely.

    A statement of prevalence p is asked about a record that shows it with probability
    a = min(1, s / 2p) and about one that does not with a·p / (1 − p): the expected numbers of
    "yes" and "no" answers are both n·p·a, so the question alone never tells the answer. s is
    set so that about ``per_image`` statements are asked per record.
    """
    prevalence = dataset.labels.mean(axis=0) if len(dataset) else np.zeros(len(SCP_CODES))
    usable = [(c, float(prevalence[SCP_INDEX[c]])) for c in findings if 0 < prevalence[SCP_INDEX[c]] < 1]
    if not usable or per_image <= 0:
        return []
    share = per_image / len(usable)
    rates = []
    for code, p in usable:
        ask_positive = min(1.0, share / (2 * p))
        rates.append((code, ask_positive, min(1.0, ask_positive * p / (1 - p))))
    return rates


def _record_items(
    index: int, record_id: str, codes: set[str], intervals: dict[str, str], findings: list[tuple[str, float, float]],
    config: QAConfig, rng: np.random.Generator,
) -> list[QAItem]:
    items: list[QAItem] = []

    def add(kind: str, key: str, question: str, target: str, options: tuple[str, ...] = (), target_codes=()) -> None:
        items.append(QAItem(
            item_id=f"{record_id}:{kind}" + (f":{key}" if key else ""), record_id=record_id, image_index=index, question_type=kind,
            question=question, target=target, options=options, target_codes=tuple(target_codes),
        ))

    if "rhythm" in config.question_types:
        present = [c for c in config.rhythm_codes if c in codes]
        if len(present) == 1:
            question, options = rhythm_question(config.rhythm_codes)
            add("rhythm", "", question, describe(present[0]), options, present)
    if "finding" in config.question_types:
        for code, ask_positive, ask_negative in findings:
            present = code in codes
            if rng.random() < (ask_positive if present else ask_negative):
                add("finding", code, finding_question(code), YES if present else NO, (YES, NO), (code,) if present else ())
    if "interval" in config.question_types:
        for key in config.intervals:
            if key in intervals:
                question, options = interval_question(key)
                add("interval", key, question, intervals[key], options)
    if "labels" in config.question_types:
        add("labels", "", LABELS_QUESTION, labels_answer(sorted(codes)), (), sorted(codes, key=SCP_INDEX.__getitem__))
    if config.questions_per_image is not None and len(items) > config.questions_per_image:
        keep = np.sort(rng.choice(len(items), size=config.questions_per_image, replace=False))
        items = [items[k] for k in keep]
    return items


def build_qa(dataset: ECGDataset, images: np.ndarray, config: QAConfig | None = None, seed: int | None = None) -> ImageQASet:
    """Questions about the images of a dataset's records (``images[i]`` shows record ``i``).

    ``images``: ``uint8[n, H, W, 3]``. ``seed`` (default ``config.seed``) fixes which findings
    are asked and which questions are kept; the same seed and record give the same questions.
    """
    config = config or QAConfig()
    seed = config.seed if seed is None else seed
    if images.ndim != 4 or images.shape[0] != len(dataset) or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise DataError(
            f"build_qa: dataset {dataset.name!r} has {len(dataset)} records; images must be uint8[{len(dataset)}, H, W, 3], "
            f"got {images.dtype}{list(images.shape)}"
        )
    source = config.interval_source
    if source == "auto":
        source = "reference" if dataset.intervals is not None else "labels"
    if source == "reference" and dataset.intervals is None:
        raise ConfigError(f"interval_source='reference' but dataset {dataset.name!r} has no reference intervals")
    findings = config.findings if config.findings is not None else finding_codes(dataset, config.min_positives)
    asking = _asking_rates(dataset, findings, config.findings_per_image) if "finding" in config.question_types else []
    reference = dataset.intervals.to_dict("records") if source == "reference" and dataset.intervals is not None else None
    items: list[QAItem] = []
    for i, record_id in enumerate(dataset.record_ids.tolist()):
        codes = {SCP_CODES[j] for j in np.flatnonzero(dataset.labels[i])}
        intervals = _intervals_from_reference(reference[i]) if reference is not None else _intervals_from_labels(codes)
        items += _record_items(i, str(record_id), codes, intervals, asking, config, record_rng(seed, str(record_id)))
    info = {"seed": seed, "config": config.model_dump(mode="json"), "findings": list(findings), "interval_source": source}
    return ImageQASet(images=images, record_ids=dataset.record_ids, labels=dataset.labels, items=tuple(items), info=info)


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def write_jsonl(qa: ImageQASet, path: str | Path, image_dir: str | Path) -> Path:
    """Write the items as ECGInstruct-like JSON lines and each image once as PNG.

    One line per item: ``{"id", "image", "conversations": [{"from": "human", "value":
    "<image>\\n<question>"}, {"from": "gpt", "value": "<target>"}], "question_type", "options",
    "target_codes", "record_id"}``. ``image`` is the PNG's path relative to the JSONL's folder.
    Image files are named by their index, never by anything printed on them.
    """
    path, image_dir = Path(path), Path(image_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    files: dict[int, str] = {}
    for index in sorted({item.image_index for item in qa.items}):
        png = save_png(qa.images[index], image_dir / f"{index:06d}.png")
        files[index] = Path(os.path.relpath(png, path.parent)).as_posix()
    with open(path, "w", encoding="utf-8") as out:
        for item in qa.items:
            line = {
                "id": item.item_id,
                "image": files[item.image_index],
                "conversations": [
                    {"from": "human", "value": f"<image>\n{item.question}"},
                    {"from": "gpt", "value": item.target},
                ],
                "question_type": item.question_type,
                "options": list(item.options),
                "target_codes": list(item.target_codes),
                "record_id": item.record_id,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


_REQUIRED = ("id", "image", "conversations")


def read_jsonl(path: str | Path) -> list[dict]:
    """The items of a JSONL file written by :func:`write_jsonl` (or any ECGInstruct-like file)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{path}, line {number}: not JSON ({error.msg})") from error
            missing = [k for k in _REQUIRED if k not in row]
            if missing:
                raise DataError(f"{path}, line {number}: missing field(s) {missing}")
            rows.append(row)
    return rows
