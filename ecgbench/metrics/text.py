"""Scoring free-text answers about ECG images.

Two parsers turn an answer into something comparable with the target:

- :func:`parse_choice` finds the one option of a closed question that the answer names (or
  its letter, "B" / "(b)" / "Answer: B"); zero or several named options give None, which is
  scored wrong. Unlike the PULSE scorer, nothing is ever guessed at random.
- :func:`parse_codes` finds the SCP statements an answer asserts, by code ("LBBB" is not a
  code, "CLBBB" is) or by a phrase from :data:`SYNONYMS` ("left bundle branch block"),
  case-insensitively and on word boundaries (PULSE matches case-sensitive substrings).
  Overlapping mentions resolve to the longest ("incomplete right bundle branch block" is
  IRBBB, not also CRBBB). A negated mention ("no atrial fibrillation", "LVH is not present")
  does not count. Hedged mentions ("possible LVH") count as asserted.

Negation: a mention is negated when, in its clause (text between . ; ! ? , newline or
but / however / although / whereas), one of the words "no", "not", "without", "absence of",
"negative for", "free of", "neither", "nor" or a "n't" contraction stands at most
:data:`NEGATION_WINDOW` words before it, or "is/are not", "is/are absent", "not present /
seen / detected / found / evident / identified", "ruled out" or "excluded" follows it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ecgbench.data.labels import SCP_CODES, statement
from ecgbench.data.qa_types import QAItem
from ecgbench.errors import DataError
from ecgbench.metrics.bootstrap import MetricValue, bootstrap_ci

NEGATION_WINDOW = 6

#: Phrases (case-insensitive; hyphens and spaces interchangeable; an optional plural "s" or
#: "es") that name a statement, beyond its PTB-XL description, which is always a synonym.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "NORM": ("normal ecg", "normal ekg", "normal electrocardiogram", "normal tracing", "within normal limits"),
    "SR": ("sinus rhythm", "normal sinus rhythm", "nsr"),
    "STACH": ("sinus tachycardia",),
    "SBRAD": ("sinus bradycardia",),
    "SARRH": ("sinus arrhythmia",),
    "AFIB": ("atrial fibrillation", "afib", "a fib"),
    "AFLT": ("atrial flutter", "aflutter"),
    "1AVB": ("first degree av block", "1st degree av block", "first degree atrioventricular block",
             "1st degree atrioventricular block", "first degree heart block", "1st degree heart block",
             "1° av block", "av block i", "av block first degree"),
    "2AVB": ("second degree av block", "2nd degree av block", "second degree atrioventricular block",
             "second degree heart block", "mobitz", "wenckebach"),
    "3AVB": ("third degree av block", "3rd degree av block", "third degree atrioventricular block",
             "third degree heart block", "complete heart block", "complete av block"),
    "LNGQT": ("long qt", "long qt interval", "long qtc", "prolonged qt", "prolonged qt interval", "prolonged qtc",
              "qt prolongation", "qtc prolongation"),
    "LPR": ("prolonged pr", "long pr", "long pr interval"),
    "CLBBB": ("left bundle branch block", "complete left bundle branch block", "lbbb", "complete lbbb"),
    "CRBBB": ("right bundle branch block", "complete right bundle branch block", "rbbb", "complete rbbb"),
    "ILBBB": ("incomplete left bundle branch block", "incomplete lbbb"),
    "IRBBB": ("incomplete right bundle branch block", "incomplete rbbb"),
    "LAFB": ("left anterior fascicular block", "left anterior hemiblock"),
    "LPFB": ("left posterior fascicular block", "left posterior hemiblock"),
    "IVCD": ("intraventricular conduction delay", "intraventricular conduction disturbance",
             "nonspecific intraventricular conduction delay"),
    "WPW": ("wolff parkinson white", "wolf parkinson white", "wolff parkinson white syndrome", "pre excitation",
            "preexcitation"),
    "LVH": ("left ventricular hypertrophy",),
    "RVH": ("right ventricular hypertrophy",),
    "SEHYP": ("septal hypertrophy",),
    "LAO/LAE": ("left atrial enlargement", "left atrial overload", "left atrial abnormality"),
    "RAO/RAE": ("right atrial enlargement", "right atrial overload", "right atrial abnormality"),
    "PVC": ("premature ventricular contraction", "premature ventricular complex", "premature ventricular beat",
            "ventricular premature beat", "ventricular premature contraction", "ventricular extrasystole",
            "ventricular ectopic beat", "ventricular ectopy", "ventricular ectopic"),
    "PAC": ("premature atrial contraction", "premature atrial complex", "premature atrial beat",
            "atrial premature beat", "atrial premature contraction", "atrial extrasystole", "atrial ectopic beat"),
    "PRC(S)": ("premature complex", "premature beat", "premature contraction", "extrasystole"),
    "BIGU": ("bigeminy", "bigeminal pattern"),
    "TRIGU": ("trigeminy", "trigeminal pattern"),
    "SVTAC": ("supraventricular tachycardia", "svt"),
    "PSVT": ("paroxysmal supraventricular tachycardia", "paroxysmal svt"),
    "SVARR": ("supraventricular arrhythmia",),
    "PACE": ("pacemaker", "paced rhythm", "pacemaker rhythm", "artificial pacemaker"),
    "STD_": ("st depression", "st segment depression", "depressed st segment", "nonspecific st depression"),
    "STE_": ("st elevation", "st segment elevation", "elevated st segment", "nonspecific st elevation"),
    "NST_": ("nonspecific st changes", "non specific st changes", "nonspecific st segment changes",
             "st changes", "st segment changes"),
    "NT_": ("nonspecific t wave changes", "non specific t wave changes", "t wave changes"),
    "INVT": ("inverted t wave", "t wave inversion", "t inversion"),
    "LOWT": ("low t wave", "low amplitude t wave", "flat t wave", "flattened t wave"),
    "TAB_": ("t wave abnormality", "t wave abnormalities", "abnormal t wave"),
    "QWAVE": ("q wave", "pathological q wave", "pathologic q wave"),
    "LVOLT": ("low qrs voltage", "low voltage", "low voltage qrs"),
    "HVOLT": ("high qrs voltage", "high voltage"),
    "ABQRS": ("abnormal qrs",),
    "DIG": ("digitalis effect",),
    "EL": ("electrolyte disturbance", "electrolyte abnormality"),
    "ANEUR": ("ventricular aneurysm",),
    "ISC_": ("ischemia", "ischaemia", "ischemic changes", "ischaemic changes", "nonspecific ischemia"),
    "ISCAL": ("anterolateral ischemia", "anterolateral ischaemia"),
    "ISCAN": ("anterior ischemia", "anterior ischaemia"),
    "ISCAS": ("anteroseptal ischemia", "anteroseptal ischaemia"),
    "ISCIL": ("inferolateral ischemia", "inferolateral ischaemia"),
    "ISCIN": ("inferior ischemia", "inferior ischaemia"),
    "ISCLA": ("lateral ischemia", "lateral ischaemia"),
}
#: Infarction codes: "<location> myocardial infarction / MI / infarct / infarction" (also
#: "<location> wall ...").
INFARCT_LOCATIONS: dict[str, str] = {
    "AMI": "anterior", "ASMI": "anteroseptal", "ALMI": "anterolateral", "IMI": "inferior",
    "ILMI": "inferolateral", "IPMI": "inferoposterior", "IPLMI": "inferoposterolateral", "LMI": "lateral",
    "PMI": "posterior",
}
#: Abbreviations matched only in capitals, because in lower case they are English words.
CASE_SENSITIVE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "AFIB": ("AF",), "LAO/LAE": ("LAE", "LAO"), "RAO/RAE": ("RAE", "RAO"), "PRC(S)": ("PRC",),
}
#: Codes that are English words; as codes they are matched only in capitals.
CASE_SENSITIVE_CODES = frozenset({"NORM", "PACE", "DIG", "EL"})
#: Options of yes/no questions, which are never themselves negated.
POLAR_OPTIONS = frozenset({"yes", "no", "true", "false"})

_BEFORE = r"(?<![A-Za-z0-9])"
_AFTER = r"(?![A-Za-z0-9])"
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})
_CLAUSE_BREAK = re.compile(r"[.;!?,\n]|\b(?:but|however|although|though|whereas)\b", re.IGNORECASE)
_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|without|absence\s+of|negative\s+for|free\s+of|neither|nor)\b|n't\b", re.IGNORECASE
)
_NEGATION_AFTER = re.compile(
    r"^\s*(?:[:\-]\s*(?:absent|no|none|negative)\b|(?:is|are|was|were)\s+(?:not|absent)\b"
    r"|(?:(?:is|are|was|were|has\s+been|have\s+been)\s+)?(?:ruled\s+out|excluded)\b"
    r"|not\s+(?:present|seen|detected|found|evident|identified)\b)",
    re.IGNORECASE,
)


def _phrase_pattern(phrase: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", phrase.strip()) if w]
    return _BEFORE + r"[\s\-]+".join(words) + r"(?:e?s)?" + _AFTER


def _code_pattern(code: str) -> str:
    core = re.escape(code.rstrip("_")) + (r"_?" if code.endswith("_") else "")
    return _BEFORE + core + r"s?" + _AFTER


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    key: str


@cache
def _code_matchers() -> tuple[tuple[re.Pattern, str], ...]:
    matchers: list[tuple[re.Pattern, str]] = []
    for code in SCP_CODES:
        flags = 0 if code in CASE_SENSITIVE_CODES else re.IGNORECASE
        matchers.append((re.compile(_code_pattern(code), flags), code))
        description = re.sub(r"\([^)]*\)", " ", statement(code)["description"])
        phrases = {description, *SYNONYMS.get(code, ())}
        if code in INFARCT_LOCATIONS:
            loc = INFARCT_LOCATIONS[code]
            phrases |= {f"{loc}{wall} {mi}" for wall in ("", " wall")
                        for mi in ("myocardial infarction", "mi", "infarct", "infarction")}
        for phrase in sorted(phrases):
            matchers.append((re.compile(_phrase_pattern(phrase), re.IGNORECASE), code))
        for abbreviation in CASE_SENSITIVE_SYNONYMS.get(code, ()):
            matchers.append((re.compile(_BEFORE + re.escape(abbreviation) + r"s?" + _AFTER), code))
    return tuple(matchers)


def _longest_mentions(text: str, matchers) -> list[_Mention]:
    """All matches, overlaps resolved in favour of the longest (then the earliest)."""
    found = [_Mention(m.start(), m.end(), key) for pattern, key in matchers for m in pattern.finditer(text)]
    found.sort(key=lambda m: (-(m.end - m.start), m.start))
    taken: list[_Mention] = []
    for mention in found:
        if all(mention.end <= t.start or mention.start >= t.end for t in taken):
            taken.append(mention)
    return sorted(taken, key=lambda m: m.start)


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    breaks = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(text)]
    left = max((e for s, e in breaks if e <= start), default=0)
    right = min((s for s, e in breaks if s >= end), default=len(text))
    return left, right


def is_negated(text: str, start: int, end: int) -> bool:
    """Whether the mention ``text[start:end]`` is negated in its clause (rules in the module
    docstring)."""
    left, right = _clause_bounds(text, start, end)
    before = text[left:start].split()
    window = " ".join(before[-NEGATION_WINDOW:])
    return bool(_NEGATION_BEFORE.search(window) or _NEGATION_AFTER.search(text[end:right]))


def parse_codes(answer: str) -> set[str]:
    """The SCP codes that the text asserts (see the module docstring)."""
    text = answer.translate(_DASHES)
    return {m.key for m in _longest_mentions(text, _code_matchers()) if not is_negated(text, m.start, m.end)}


_LETTER_PATTERNS = (
    re.compile(r"^\(?([A-Za-z])\)?[.:)]?$"),
    re.compile(r"^(?:the\s+)?(?:correct\s+)?(?:answer|option|choice)\s*(?:is\s*)?[:\-]?\s*\(?([A-Za-z])\)?(?![A-Za-z0-9])",
               re.IGNORECASE),
    re.compile(r"^\(([A-Za-z])\)"),
    re.compile(r"^([A-Za-z])[).:]\s"),
)


def _letter_choice(answer: str, n_options: int) -> int | None:
    stripped = answer.strip()
    for pattern in _LETTER_PATTERNS:
        m = pattern.match(stripped)
        if m:
            index = ord(m.group(1).lower()) - ord("a")
            return index if index < n_options else None
    return None


def parse_choice(answer: str, options: Sequence[str], *, lettered: bool = True) -> str | None:
    """The single option that ``answer`` names, else None.

    Options are matched case-insensitively on word boundaries (longest mention wins where
    options overlap; negated mentions do not count, except for yes/no options). With
    ``lettered`` the letter forms "B", "(b)", "b)", "B. ...", "Answer: B" pick the option at
    that position; a letter and a named option that disagree give None.
    """
    text = answer.translate(_DASHES)
    matchers = tuple(
        (re.compile(_phrase_pattern(option.translate(_DASHES)), re.IGNORECASE), str(i))
        for i, option in enumerate(options) if option.strip()
    )
    named = set()
    for mention in _longest_mentions(text, matchers):
        option = options[int(mention.key)]
        if option.strip().lower() in POLAR_OPTIONS or not is_negated(text, mention.start, mention.end):
            named.add(int(mention.key))
    letter = _letter_choice(text, len(options)) if lettered else None
    if letter is not None and named <= {letter}:
        return options[letter]
    if letter is None and len(named) == 1:
        return options[named.pop()]
    return None


# --------------------------------------------------------------------------- the suite


def _normalise(text: str) -> str:
    return " ".join(text.casefold().translate(_DASHES).split()).rstrip(".")


def image_suite(items: Sequence[QAItem], answers: Sequence[str], *, seed: int = 0, n_boot: int = 200) -> list[MetricValue]:
    """``accuracy`` (all items), ``accuracy_<question_type>``, ``label_f1`` (micro F1 of
    :func:`parse_codes` against ``target_codes`` over free-text items that have target codes;
    precision and recall in params) and ``unparseable_rate``.

    An item is correct when its parsed answer equals the target: the option from
    :func:`parse_choice` for closed questions, the exact code set for free-text items with
    target codes, the normalised text (case, spaces, final period) otherwise. Answers that
    parse to nothing are wrong and counted in ``unparseable_rate``.
    """
    if len(items) != len(answers):
        raise DataError(f"{len(answers)} answers for {len(items)} questions")
    correct = np.zeros(len(items), dtype=bool)
    unparseable = np.zeros(len(items), dtype=bool)
    f1_counts = []  # (tp, fp, fn) per free-text item with target codes
    for i, (item, answer) in enumerate(zip(items, answers, strict=True)):
        if item.options:
            choice = parse_choice(answer, item.options)
            unparseable[i] = choice is None
            correct[i] = choice is not None and _normalise(choice) == _normalise(item.target)
        elif item.target_codes:
            codes, target = parse_codes(answer), set(item.target_codes)
            unparseable[i] = not codes
            correct[i] = codes == target
            f1_counts.append((len(codes & target), len(codes - target), len(target - codes)))
        else:
            unparseable[i] = not answer.strip()
            correct[i] = _normalise(answer) == _normalise(item.target)

    def accuracy_metric(name: str, mask: np.ndarray) -> MetricValue:
        values = correct[mask].astype(np.float64)
        low, high = bootstrap_ci(lambda idx: values[idx].mean(), len(values), n_boot=n_boot, seed=seed)
        return MetricValue(name, float(values.mean()), low, high, n=int(mask.sum()), params={
            "definition": "share of items whose parsed answer equals the target; unparseable = wrong",
            "seed": seed, "n_boot": n_boot, "ci": "95% percentile bootstrap interval, items resampled"})

    types = np.array([item.question_type for item in items])
    out = []
    if len(items):
        out.append(accuracy_metric("accuracy", np.ones(len(items), dtype=bool)))
        out.extend(accuracy_metric(f"accuracy_{qt}", types == qt) for qt in sorted(set(types.tolist())))
    if f1_counts:
        counts = np.array(f1_counts, dtype=np.float64)

        def micro(idx: np.ndarray) -> tuple[float, float, float]:
            tp, fp, fn = counts[idx].sum(axis=0)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            return f1, precision, recall

        f1, precision, recall = micro(np.arange(len(counts)))
        low, high = bootstrap_ci(lambda idx: micro(idx)[0], len(counts), n_boot=n_boot, seed=seed)
        out.append(MetricValue("label_f1", f1, low, high, n=len(counts), params={
            "definition": "micro F1 of the SCP codes parsed from free-text answers vs the target codes",
            "precision": precision, "recall": recall, "parser": "ecgbench.metrics.text.parse_codes",
            "seed": seed, "n_boot": n_boot, "ci": "95% percentile bootstrap interval, items resampled"}))
    if len(items):
        out.append(MetricValue("unparseable_rate", float(unparseable.mean()), n=len(items), params={
            "definition": "share of answers from which no option / no code could be parsed"}))
    return out
