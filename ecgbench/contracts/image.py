"""Contract of the ``interpret-image`` task: answer questions about printed 12-lead ECGs.

An interpreter is fitted on rendered training images with question–answer pairs and then
answers test questions in free text. The evaluator parses the text (closed questions: the
option it names; findings: SCP codes) and never guesses for an answer it cannot parse.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ecgbench.contracts.checks import require
from ecgbench.data.qa_types import ImageQASet

MAX_ANSWER_CHARS = 4000


@runtime_checkable
class ImageInterpreter(Protocol):
    """What an ``interpret-image`` model implements."""

    def fit(self, train: ImageQASet) -> ImageInterpreter: ...

    def answer(self, images: np.ndarray, questions: list[str]) -> list[str]:
        """``images``: ``uint8[n, H, W, 3]``, ``questions``: n strings -> n answer strings."""
        ...


def check_answers(answers: object, *, n: int, model: str) -> list[str]:
    """Validate ``answer`` output against every clause of the contract."""
    require(isinstance(answers, list), model, "answer() returns a list", f"got {type(answers).__name__}")
    assert isinstance(answers, list)
    require(len(answers) == n, model, "one answer per question", f"{len(answers)} answers for {n} questions")
    for i, a in enumerate(answers):
        require(isinstance(a, str), model, "every answer is a str", f"answer {i} is {type(a).__name__}")
        require(
            len(a) <= MAX_ANSWER_CHARS, model, f"answers are at most {MAX_ANSWER_CHARS} characters",
            f"answer {i} has {len(a)}",
        )
    return answers
