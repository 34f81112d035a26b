"""Answer parsing for interpret-image and its scores."""

from __future__ import annotations

import pytest

from ecgbench.data.labels import SCP_CODES
from ecgbench.data.qa_types import QAItem
from ecgbench.errors import DataError
from ecgbench.metrics.text import image_suite, parse_choice, parse_codes

RHYTHMS = ("sinus rhythm", "sinus tachycardia", "atrial fibrillation")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Sinus tachycardia.", "sinus tachycardia"),
        ("The rhythm is ATRIAL FIBRILLATION", "atrial fibrillation"),
        ("B", "sinus tachycardia"),
        ("(b)", "sinus tachycardia"),
        ("c.", "atrial fibrillation"),
        ("Answer: A", "sinus rhythm"),
        ("The answer is (c)", "atrial fibrillation"),
        ("b) sinus tachycardia", "sinus tachycardia"),
        ("It is not atrial fibrillation, it is sinus rhythm", "sinus rhythm"),
    ],
)
def test_parse_choice_finds_the_named_option(answer, expected):
    assert parse_choice(answer, RHYTHMS) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "sinus rhythm or sinus tachycardia",  # two options
        "(A) atrial fibrillation",  # letter and text disagree
        "D",  # no fourth option
        "I cannot tell",
        "",
        "A normal rhythm",  # an article, not a letter
    ],
)
def test_parse_choice_returns_none_instead_of_guessing(answer):
    assert parse_choice(answer, RHYTHMS) is None


def test_letters_are_ignored_for_unlettered_options():
    assert parse_choice("B", RHYTHMS, lettered=False) is None


def test_parse_choice_needs_word_boundaries():
    assert parse_choice("rhythm unclear", ("rhythm unclear", "rhythm")) == "rhythm unclear"
    assert parse_choice("nothing", ("no", "yes")) is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Yes", "yes"),
        ("No.", "no"),
        ("No, it is not present", "no"),
        ("yes, there is LBBB", "yes"),
        ("yes and no", None),
    ],
)
def test_yes_no_answers(answer, expected):
    assert parse_choice(answer, ("yes", "no")) == expected


def test_range_options_with_symbols_and_dashes():
    options = ("< 120 ms", "120-200 ms", "> 200 ms")
    assert parse_choice("120\u2013200 ms", options) == "120-200 ms"
    assert parse_choice("PR is > 200 ms", options) == "> 200 ms"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Sinus rhythm with first-degree AV block.", {"SR", "1AVB"}),
        ("Normal ECG", {"NORM"}),
        ("normal sinus rhythm", {"SR"}),
        ("Incomplete right bundle branch block", {"IRBBB"}),
        ("complete RBBB and LBBB", {"CRBBB", "CLBBB"}),
        ("inferior MI; old anteroseptal infarct", {"IMI", "ASMI"}),
        ("anterior myocardial infarction", {"AMI"}),
        ("LVH with ST depression and ST elevation", {"LVH", "STD_", "STE_"}),
        ("STD_ STE_ 1AVB", {"STD_", "STE_", "1AVB"}),
        ("frequent PVCs", {"PVC"}),
        ("Atrial fibrillation (AF)", {"AFIB"}),
        ("long QT interval", {"LNGQT"}),
        ("sinus bradycardia, sinus arrhythmia", {"SBRAD", "SARRH"}),
        ("possible left ventricular hypertrophy", {"LVH"}),
        ("atrial fibrillation with absent P waves", {"AFIB"}),
    ],
)
def test_parse_codes_finds_codes_and_phrases(answer, expected):
    assert parse_codes(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("No atrial fibrillation.", set()),
        ("Sinus rhythm, no atrial fibrillation", {"SR"}),
        ("There is no evidence of LVH", set()),
        ("without ST elevation", set()),
        ("Atrial fibrillation is not present. Sinus rhythm.", {"SR"}),
        ("LBBB has been ruled out", set()),
        ("Atrial fibrillation: absent", set()),
        ("doesn't show LVH but shows RVH", {"RVH"}),
        ("negative for long QT", set()),
        ("No ST depression, left bundle branch block present", {"CLBBB"}),
    ],
)
def test_negated_mentions_do_not_count(answer, expected):
    assert parse_codes(answer) == expected


def test_english_words_are_not_codes():
    assert parse_codes("the norm is to pace the reading and dig deeper") == set()
    assert parse_codes("NORM") == {"NORM"}


def test_every_code_is_found_by_its_own_name():
    for code in SCP_CODES:
        assert parse_codes(f"Findings: {code}.") == {code}, code


def test_image_suite_hand_computed():
    items = [
        QAItem("1", "r1", 0, "rhythm", "rhythm?", "sinus rhythm", RHYTHMS),
        QAItem("2", "r2", 1, "rhythm", "rhythm?", "atrial fibrillation", RHYTHMS),
        QAItem("3", "r3", 2, "finding", "LBBB?", "yes", ("yes", "no")),
        QAItem("4", "r1", 0, "labels", "findings?", "SR, 1AVB", (), ("SR", "1AVB")),
        QAItem("5", "r2", 1, "labels", "findings?", "AFIB, LVH", (), ("AFIB", "LVH")),
    ]
    answers = [
        "A",
        "sinus rhythm",
        "maybe",
        "sinus rhythm, first degree AV block",
        "atrial fibrillation, RVH",
    ]
    metrics = {m.name: m for m in image_suite(items, answers, n_boot=20)}
    assert metrics["accuracy"].value == pytest.approx(2 / 5)
    assert metrics["accuracy_rhythm"].value == pytest.approx(1 / 2)
    assert metrics["accuracy_finding"].value == 0.0
    assert metrics["accuracy_labels"].value == pytest.approx(1 / 2)
    # tp 3 (SR, 1AVB, AFIB), fp 1 (RVH), fn 1 (LVH)
    assert metrics["label_f1"].params["precision"] == pytest.approx(3 / 4)
    assert metrics["label_f1"].params["recall"] == pytest.approx(3 / 4)
    assert metrics["label_f1"].value == pytest.approx(3 / 4)
    assert metrics["unparseable_rate"].value == pytest.approx(1 / 5)


def test_image_suite_needs_one_answer_per_question():
    item = QAItem("1", "r1", 0, "rhythm", "rhythm?", "sinus rhythm", RHYTHMS)
    with pytest.raises(DataError, match="1 questions"):
        image_suite([item], [])
