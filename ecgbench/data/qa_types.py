"""Types of the image question–answer data used by the ``interpret-image`` task."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: How a closed question's options are joined into one string in samples files.
OPTION_SEPARATOR = " | "


@dataclass(frozen=True)
class QAItem:
    """One question about one image.

    question_type  e.g. 'rhythm' (multiple choice), 'finding' (yes/no for one statement),
                   'interval' (multiple choice over ranges), 'labels' (free text: list findings).
    options        the allowed answers for closed questions (empty for free text).
    target         the correct answer text (one of ``options`` for closed questions).
    target_codes   the SCP codes the correct answer stands for (for label F1 on free text).
    """

    item_id: str
    record_id: str
    image_index: int
    question_type: str
    question: str
    target: str
    options: tuple[str, ...] = ()
    target_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageQASet:
    """Rendered ECG images and questions about them.

    images      uint8[m, H, W, 3] RGB.
    record_ids  str[m], the source record of each image.
    labels      uint8[m, 71] SCP labels of each image's record.
    items       the questions; ``item.image_index`` indexes ``images``.
    """

    images: np.ndarray
    record_ids: np.ndarray
    labels: np.ndarray
    items: tuple[QAItem, ...]
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    def question_types(self) -> tuple[str, ...]:
        return tuple(sorted({item.question_type for item in self.items}))
