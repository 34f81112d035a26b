"""Shared fixtures: a few phantom records printed as ECG images with their questions."""

import numpy as np
import pytest
import torch
from ecgbench_llama_lora.config import LlamaLoraConfig
from ecgbench_llama_lora.model import LlamaLoraInterpreter

from ecgbench.context import RunContext
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.data.qa import build_qa
from ecgbench.data.qa_types import ImageQASet
from ecgbench.data.render import RenderConfig, render_dataset


@pytest.fixture(scope="session")
def qa() -> ImageQASet:
    data = load_phantom(PhantomConfig(n_records=12, cache=False))
    return build_qa(data, render_dataset(data, RenderConfig(px_per_mm=2.0), seed=0), seed=0)


@pytest.fixture
def ctx(tmp_path) -> RunContext:
    return RunContext(seed=0, quiet=True, cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "artifacts")


def tiny(ctx: RunContext, **settings) -> LlamaLoraInterpreter:
    """The tiny model with quick settings (overridable)."""
    base = {"tiny": True, "max_steps": 2, "batch_size": 4, "grad_accum": 1, "lora_dropout": 0.0,
            "learning_rate": 1e-2, "max_new_tokens": 6, "tiny_image_size": 56}
    return LlamaLoraInterpreter(LlamaLoraConfig(**{**base, **settings}), ctx)


def batch(qa: ImageQASet, n: int = 4):
    items = qa.items[:n]
    return [qa.images[i.image_index] for i in items], [i.question for i in items], [i.target for i in items]


@pytest.fixture
def images_questions(qa):
    images, questions, _ = batch(qa)
    return np.stack(images), questions


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny model's ops are too small to share: threads only add waiting (as fit() does)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
