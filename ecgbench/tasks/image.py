"""The ``interpret-image`` task: render records as printed ECGs, ask questions, score answers.

Training images come from the training split and test images from the test split, so a
model never sees a test record's image while it learns. Answers are parsed
(:mod:`ecgbench.metrics.text`); an answer the parser cannot read counts as wrong.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from ecgbench.context import RunContext
from ecgbench.contracts.image import ImageInterpreter, check_answers
from ecgbench.data.dataset import ECGDataset, FoldSplit
from ecgbench.data.qa import QAConfig, build_qa, finding_codes
from ecgbench.data.qa_types import OPTION_SEPARATOR
from ecgbench.data.render import RenderConfig, render_dataset, save_png
from ecgbench.metrics.text import image_suite
from ecgbench.tasks.result import TaskResult


class ImageTaskConfig(BaseModel):
    """Evaluator settings; they are written into every record."""

    eval_seed: int = Field(default=0, description="seed of rendering distortions, question sampling and the bootstrap")
    n_boot: int = Field(default=200, description="bootstrap resamples (over questions) per metric")
    max_train_images: int = Field(default=600, description="training records rendered (a stratified-free prefix of the split)")
    max_test_images: int = Field(default=200, description="test records rendered")
    render: RenderConfig = Field(default_factory=RenderConfig, description="how records are drawn")
    qa: QAConfig = Field(default_factory=QAConfig, description="which questions are asked")
    batch_size: int = Field(default=32, description="questions per answer() call")
    example_images: int = Field(default=2, description="test images saved as PNG artifacts")


def _build(data: ECGDataset, limit: int, config: ImageTaskConfig, seed: int, ctx: RunContext, what: str):
    part = data.subset(np.arange(min(limit, len(data))))
    with ctx.phase(f"render_{what}"):
        images = render_dataset(part, config.render, seed=seed)
    return build_qa(part, images, config.qa, seed=seed)


def run(
    model: ImageInterpreter,
    model_name: str,
    dataset: ECGDataset,
    folds: FoldSplit,
    config: ImageTaskConfig,
    ctx: RunContext,
) -> TaskResult:
    train, _, test = dataset.split(folds)
    if config.qa.findings is None:  # ask about the same statements in training and test questions
        config = config.model_copy(update={"qa": config.qa.model_copy(update={"findings": finding_codes(train, config.qa.min_positives)})})
    train_qa = _build(train, config.max_train_images, config, config.eval_seed, ctx, "train")
    test_qa = _build(test, config.max_test_images, config, config.eval_seed + 1, ctx, "test")
    with ctx.phase("fit"):
        model.fit(train_qa)
    answers: list[str] = []
    with ctx.phase("answer"):
        items = list(test_qa.items)
        starts = range(0, len(items), config.batch_size)
        for start in ctx.progress(starts, desc="answering", total=len(starts)):
            batch = items[start: start + config.batch_size]
            images = test_qa.images[[item.image_index for item in batch]]
            reply = model.answer(images, [item.question for item in batch])
            answers += check_answers(reply, n=len(batch), model=model_name)
    with ctx.phase("evaluate"):
        metrics = image_suite(items, answers, seed=config.eval_seed, n_boot=config.n_boot)
    artifacts = []
    for k in range(min(config.example_images, len(test_qa.images))):
        path = ctx.artifacts_dir / f"test-image-{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_png(test_qa.images[k], path)
        artifacts.append((path, "image"))
    samples = {
        "record_id": np.array([item.record_id for item in items]),
        "item_id": np.array([item.item_id for item in items]),
        "question_type": np.array([item.question_type for item in items]),
        "question": np.array([item.question for item in items]),
        "answer": np.array(answers, dtype=str),
        "target": np.array([item.target for item in items]),
        "options": np.array([OPTION_SEPARATOR.join(item.options) for item in items]),
        "target_codes": np.array([",".join(item.target_codes) for item in items]),
    }
    return TaskResult(
        metrics=metrics, samples=samples, artifacts=artifacts,
        splits={"train_images": len(train_qa.images), "train_questions": len(train_qa.items),
                "test_images": len(test_qa.images), "test_questions": len(items)},
    )
