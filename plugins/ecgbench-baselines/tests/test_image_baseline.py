"""The image baseline: answers in the questions' own terms and beats the majority answer on held-out phantom images."""

import copy
from collections import Counter

import numpy as np
import pytest
from ecgbench_baselines.image import ImageBaseline, ImageBaselineConfig, create, features, ink_map

from ecgbench.context import RunContext
from ecgbench.data.dataset import FoldSplit
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.data.qa import NO, YES, QAConfig, build_qa, finding_codes, finding_question
from ecgbench.data.qa_types import ImageQASet
from ecgbench.data.render import RenderConfig, render_dataset
from ecgbench.metrics.text import parse_codes

RENDER = RenderConfig(px_per_mm=2.0)  # half resolution keeps the test quick; features are size-free


@pytest.fixture(scope="module")
def split() -> tuple[ImageQASet, ImageQASet]:
    data = load_phantom(PhantomConfig(n_records=700, cache=False))
    train, _, test = data.split(FoldSplit(train=tuple(range(1, 9)), val=(9,), test=(10,)))
    qa = QAConfig(findings=finding_codes(data))
    return (build_qa(train, render_dataset(train, RENDER, seed=0), qa, seed=0),
            build_qa(test, render_dataset(test, RENDER, seed=1), qa, seed=1))


@pytest.fixture(scope="module")
def fitted(split) -> ImageBaseline:
    return create(ImageBaselineConfig(), RunContext(quiet=True)).fit(split[0])


@pytest.fixture(scope="module")
def answered(split, fitted) -> list[tuple]:
    test = split[1]
    items = list(test.items)
    answers = fitted.answer(test.images[[i.image_index for i in items]], [i.question for i in items])
    return list(zip(items, answers, strict=True))


def _majority_rate(train: ImageQASet, pairs: list[tuple], question_type: str) -> float:
    """Accuracy of answering each test question with its most frequent training answer."""
    majority = {}
    for question in {i.question for i in train.items}:
        majority[question] = Counter(i.target for i in train.items if i.question == question).most_common(1)[0][0]
    chosen = [(item, majority.get(item.question)) for item, _ in pairs if item.question_type == question_type]
    return float(np.mean([answer == item.target for item, answer in chosen]))


def _accuracy(pairs: list[tuple], question_type: str) -> float:
    return float(np.mean([answer == item.target for item, answer in pairs if item.question_type == question_type]))


@pytest.mark.slow
@pytest.mark.parametrize("question_type", ["rhythm", "finding", "interval"])
def test_it_beats_the_majority_answer_on_held_out_phantom_images(split, answered, question_type):
    majority = _majority_rate(split[0], answered, question_type)
    assert _accuracy(answered, question_type) > majority + 0.04, (question_type, majority)


@pytest.mark.slow
def test_listed_findings_parse_back_and_overlap_the_truth(answered):
    tp = fp = fn = 0
    for item, answer in answered:
        if item.question_type == "labels":
            codes, truth = parse_codes(answer), set(item.target_codes)
            assert codes, answer
            tp, fp, fn = tp + len(codes & truth), fp + len(codes - truth), fn + len(truth - codes)
    assert 2 * tp / (2 * tp + fp + fn) > 0.5


@pytest.mark.slow
def test_closed_answers_are_always_one_of_the_options(answered):
    for item, answer in answered:
        if item.options:
            assert answer in item.options


@pytest.mark.slow
def test_an_unasked_yes_no_question_is_answered_from_the_statement_models(fitted, split):
    code = "CLBBB"
    model = copy.copy(fitted)
    model.closed = {q: m for q, m in fitted.closed.items() if q != finding_question(code)}
    assert code in model.statements
    test = split[1]
    present = test.labels[:, SCP_INDEX[code]] == 1
    rows = np.concatenate([np.flatnonzero(present)[:5], np.flatnonzero(~present)[:5]])
    answers = model.answer(test.images[rows], [finding_question(code)] * len(rows))
    assert set(answers) <= {YES, NO} and len(set(answers)) == 2


@pytest.mark.slow
def test_a_question_of_unknown_form_gets_an_empty_answer(fitted, split):
    assert fitted.answer(split[1].images[:1], ["What colour is the paper?"]) == [""]


@pytest.mark.slow
def test_fitting_twice_gives_the_same_answers(split):
    train, test = split
    small = ImageQASet(train.images, train.record_ids, train.labels, tuple(i for i in train.items if i.image_index < 120))
    items = test.items[:40]
    images, questions = test.images[[i.image_index for i in items]], [i.question for i in items]
    first, second = (create(ImageBaselineConfig(), RunContext(quiet=True)).fit(small) for _ in range(2))
    assert first.answer(images, questions) == second.answer(images, questions)


def test_the_ink_map_keeps_the_black_trace_and_drops_the_red_grid_and_paper():
    config = RenderConfig()
    pixels = np.array([[config.paper_rgb, config.grid_minor_rgb, config.grid_major_rgb, config.trace_rgb]], dtype=np.uint8)
    assert ink_map(pixels).tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_features_have_the_same_length_at_any_resolution():
    config = ImageBaselineConfig()
    small = np.full((2, 270, 530, 3), 255, dtype=np.uint8)
    large = np.full((1, 540, 1060, 3), 255, dtype=np.uint8)
    assert features(small, config).shape[1] == features(large, config).shape[1]


def test_answering_before_fitting_is_an_error():
    with pytest.raises(RuntimeError, match="before fit"):
        create(ImageBaselineConfig(), RunContext(quiet=True)).answer(np.zeros((1, 8, 8, 3), np.uint8), ["q"])
