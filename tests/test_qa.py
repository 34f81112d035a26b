"""Question–answer items about ECG images: what is asked, the answers, determinism, JSONL."""

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pydantic import ValidationError

from ecgbench.data.dataset import ECGDataset, empty_meta
from ecgbench.data.labels import SCP_CODES, multi_hot
from ecgbench.data.qa import (
    INTERVAL_QUESTIONS,
    LABELS_QUESTION,
    NO,
    NO_FINDINGS,
    YES,
    QAConfig,
    build_qa,
    describe,
    finding_codes,
    finding_question,
    interval_question,
    labels_answer,
    read_jsonl,
    rhythm_question,
    write_jsonl,
)
from ecgbench.errors import ConfigError, DataError
from ecgbench.metrics.text import parse_choice, parse_codes

RHYTHMS = ("SR", "STACH", "SBRAD", "SARRH", "AFIB")


def _dataset(codes: list[list[str]], intervals: pd.DataFrame | None = None, name: str = "qa") -> ECGDataset:
    n = len(codes)
    return ECGDataset(
        name=name, signals=np.zeros((n, 12, 20), dtype=np.float32), fs=100.0,
        record_ids=np.array([f"r{i:04d}" for i in range(n)]), labels=multi_hot(codes),
        folds=np.ones(n, dtype=int), meta=empty_meta(n), intervals=intervals,
    )


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (n, 6, 8, 3), dtype=np.uint8)


def _cohort(n: int = 400, seed: int = 0) -> ECGDataset:
    """Random label sets over a few statements, one rhythm each (most records)."""
    rng = np.random.default_rng(seed)
    findings = ["NORM", "CLBBB", "IMI", "LVH", "1AVB", "PVC"]
    codes = []
    for _ in range(n):
        record = [str(rng.choice(RHYTHMS, p=[0.6, 0.1, 0.1, 0.1, 0.1]))] if rng.random() < 0.95 else []
        record += [c for c, p in zip(findings, [0.4, 0.1, 0.15, 0.2, 0.1, 0.1], strict=True) if rng.random() < p]
        codes.append(record)
    return _dataset(codes)


def _qa(data: ECGDataset, config: QAConfig | None = None, seed: int = 0):
    return build_qa(data, _images(len(data)), config or QAConfig(), seed=seed)


def test_the_rhythm_question_names_its_options_and_the_answer_is_the_labelled_rhythm():
    qa = _qa(_dataset([["STACH", "NORM"], ["AFIB"]]))
    rhythm = [i for i in qa.items if i.question_type == "rhythm"]
    assert [i.target for i in rhythm] == ["sinus tachycardia", "atrial fibrillation"]
    assert rhythm[0].options == ("sinus rhythm", "sinus tachycardia", "sinus bradycardia", "sinus arrhythmia",
                                 "atrial fibrillation")
    assert all(option in rhythm[0].question for option in rhythm[0].options)
    assert rhythm[1].target_codes == ("AFIB",)


def test_a_record_with_no_or_two_listed_rhythms_gets_no_rhythm_question():
    qa = _qa(_dataset([["NORM"], ["SR", "SARRH"], ["SR"]]))
    assert [i.record_id for i in qa.items if i.question_type == "rhythm"] == ["r0002"]


def test_finding_questions_are_yes_or_no_with_the_code_as_target_when_yes():
    qa = _qa(_cohort())
    findings = [i for i in qa.items if i.question_type == "finding"]
    assert findings
    for item in findings:
        code = item.item_id.rsplit(":", 1)[1]
        present = code in {SCP_CODES[j] for j in np.flatnonzero(qa.labels[item.image_index])}
        assert item.options == (YES, NO)
        assert item.question == finding_question(code)
        assert item.target == (YES if present else NO)
        assert item.target_codes == ((code,) if present else ())


def test_every_statement_is_answered_yes_about_as_often_as_no():
    qa = _qa(_cohort(2000), QAConfig(findings_per_image=3))
    per_code = Counter((i.item_id.rsplit(":", 1)[1], i.target) for i in qa.items if i.question_type == "finding")
    for code in {code for code, _ in per_code}:
        yes, no = per_code[(code, YES)], per_code[(code, NO)]
        assert 0.35 < yes / (yes + no) < 0.65, (code, yes, no)


def test_about_findings_per_image_statements_are_asked_per_record():
    data = _cohort(2000)
    qa = _qa(data, QAConfig(findings_per_image=2))
    n_findings = sum(i.question_type == "finding" for i in qa.items)
    assert 1.5 < n_findings / len(data) < 2.2


def test_default_findings_are_the_statements_with_enough_positives_and_negatives():
    data = _dataset([["NORM"]] * 6 + [["IMI"]] * 3 + [["LVH"]] * 5)
    assert finding_codes(data, min_positives=5) == ("LVH", "NORM")


def test_interval_answers_come_from_reference_values_with_edges_in_the_lower_class():
    intervals = pd.DataFrame({
        "pr": [200.0, 200.1, np.nan, 119.9], "qrs": [119.9, 120.0, 90.0, 90.0],
        "qt": [400.0, 400.0, 400.0, 440.0], "rr": [1000.0, 1000.0, 1000.0, 900.0], "hr": [60.0, 100.0, 100.1, 59.9],
    })
    qa = _qa(_dataset([["SR"]] * 4, intervals))
    got = {(i.record_id, i.item_id.rsplit(":", 1)[1]): i.target for i in qa.items if i.question_type == "interval"}
    assert got[("r0000", "pr")] == "120 to 200 ms" and got[("r0001", "pr")] == "over 200 ms"
    assert ("r0002", "pr") not in got  # no PR (e.g. atrial fibrillation): no question
    assert got[("r0003", "pr")] == "under 120 ms"
    assert got[("r0000", "qrs")] == "under 120 ms" and got[("r0001", "qrs")] == "120 ms or more"
    assert got[("r0000", "hr")] == "60 to 100 bpm" and got[("r0001", "hr")] == "60 to 100 bpm"
    assert got[("r0002", "hr")] == "over 100 bpm" and got[("r0003", "hr")] == "under 60 bpm"
    # QTc (Bazett) = 440 / sqrt(0.9) = 463.8 ms
    assert got[("r0000", "qtc")] == "460 ms or less" and got[("r0003", "qtc")] == "over 460 ms"
    assert qa.info["interval_source"] == "reference"


def test_without_reference_intervals_only_labels_that_imply_a_range_give_interval_questions():
    qa = _qa(_dataset([["1AVB", "SR"], ["CLBBB", "AFIB"], ["IMI"], ["NORM", "SBRAD"]]))
    got = {(i.record_id, i.item_id.rsplit(":", 1)[1]): i.target for i in qa.items if i.question_type == "interval"}
    assert got == {
        ("r0000", "pr"): "over 200 ms", ("r0000", "hr"): "60 to 100 bpm",
        ("r0001", "qrs"): "120 ms or more",
        ("r0003", "pr"): "120 to 200 ms", ("r0003", "qrs"): "under 120 ms", ("r0003", "qtc"): "460 ms or less",
        ("r0003", "hr"): "under 60 bpm",
    }
    assert qa.info["interval_source"] == "labels"


def test_the_labels_answer_lists_the_descriptions_in_scp_order():
    qa = _qa(_dataset([["CLBBB", "AFIB"], []]))
    listed = [i for i in qa.items if i.question_type == "labels"]
    assert listed[0].question == LABELS_QUESTION
    assert listed[0].target == "atrial fibrillation; complete left bundle branch block"
    assert listed[0].target_codes == ("AFIB", "CLBBB")
    assert listed[1].target == NO_FINDINGS and listed[1].target_codes == ()


def test_every_closed_target_is_exactly_one_option_and_parses_back_to_itself():
    qa = _qa(_cohort())
    for item in qa.items:
        if item.options:
            assert item.target in item.options
            assert parse_choice(item.target, item.options) == item.target


def test_no_option_is_contained_in_another_option_of_its_question():
    questions = [rhythm_question(RHYTHMS)[1], (YES, NO)] + [interval_question(q.key)[1] for q in INTERVAL_QUESTIONS]
    for options in questions:
        for a in options:
            assert not [b for b in options if a != b and a.lower() in b.lower()], (a, options)


def test_every_statement_listed_alone_or_in_pairs_parses_back_to_its_codes():
    for code in SCP_CODES:
        assert parse_codes(labels_answer([code])) == {code}, describe(code)
    rng = np.random.default_rng(0)
    for _ in range(300):
        codes = set(rng.choice(SCP_CODES, size=3, replace=False).tolist())
        assert parse_codes(labels_answer(sorted(codes))) == codes


def test_the_same_seed_gives_the_same_questions_and_another_seed_other_findings():
    data = _cohort()
    a, b, c = _qa(data, seed=1).items, _qa(data, seed=1).items, _qa(data, seed=2).items
    assert a == b
    assert [i.item_id for i in a if i.question_type == "finding"] != [i.item_id for i in c if i.question_type == "finding"]


def test_the_config_seed_is_used_when_no_seed_is_given():
    data = _cohort()
    assert build_qa(data, _images(len(data)), QAConfig(seed=4)).items == _qa(data, seed=4).items


def test_question_types_can_be_restricted():
    qa = _qa(_cohort(), QAConfig(question_types=("rhythm", "labels")))
    assert qa.question_types() == ("labels", "rhythm")


def test_questions_per_image_caps_the_questions_of_every_record():
    qa = _qa(_cohort(), QAConfig(questions_per_image=2))
    per_image = Counter(i.image_index for i in qa.items)
    assert max(per_image.values()) == 2


def test_item_ids_are_unique_and_never_contain_the_answer():
    qa = _qa(_cohort())
    assert len({i.item_id for i in qa.items}) == len(qa.items)
    for item in qa.items:
        if item.question_type in ("rhythm", "interval", "labels"):
            assert item.target not in item.item_id


def test_an_unknown_question_type_is_refused():
    with pytest.raises(ValidationError, match="unknown question types"):
        QAConfig(question_types=("rhythm", "morphology"))


def test_reference_intervals_are_refused_for_a_dataset_without_them():
    with pytest.raises(ConfigError, match="no reference intervals"):
        _qa(_dataset([["SR"]]), QAConfig(interval_source="reference"))


def test_images_that_do_not_match_the_records_are_refused_naming_the_dataset():
    with pytest.raises(DataError, match="'qa' has 2 records"):
        build_qa(_dataset([["SR"], ["AFIB"]]), _images(3))


def test_jsonl_lines_follow_the_ecginstruct_conversation_form(tmp_path):
    data = _dataset([["CLBBB", "SR"], ["AFIB"]])
    qa = _qa(data)
    path = write_jsonl(qa, tmp_path / "qa.jsonl", tmp_path / "images")
    rows = read_jsonl(path)
    assert len(rows) == len(qa.items)
    for row, item in zip(rows, qa.items, strict=True):
        human, gpt = row["conversations"]
        assert human == {"from": "human", "value": f"<image>\n{item.question}"}
        assert gpt == {"from": "gpt", "value": item.target}
        assert row["id"] == item.item_id and row["question_type"] == item.question_type
        assert row["options"] == list(item.options) and row["target_codes"] == list(item.target_codes)
        image = np.asarray(Image.open(tmp_path / row["image"]).convert("RGB"))
        assert np.array_equal(image, qa.images[item.image_index])


def test_jsonl_image_files_are_named_by_index_not_by_record(tmp_path):
    qa = _qa(_dataset([["SR"], ["AFIB"]]))
    write_jsonl(qa, tmp_path / "qa.jsonl", tmp_path / "images")
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["000000.png", "000001.png"]


def test_a_broken_jsonl_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "a", "image": "x.png", "conversations": []}) + "\n{not json\n")
    with pytest.raises(DataError, match="line 2"):
        read_jsonl(path)
