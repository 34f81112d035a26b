"""The PTB-XL sample: its German free-text reports reach the models through the dataset's metadata."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ecgbench_more.baseline import TfidfCCAConfig, TfidfCCARetriever
from ecgbench_more.config import ZeroShotConfig
from ecgbench_more.model import MoreZeroShot
from ecgbench_more.plugin import TINY
from ecgbench_more.retrieval.task import RetrieveReportConfig, reports_of, run

from ecgbench.context import RunContext
from ecgbench.data.dataset import FoldSplit
from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl
from ecgbench.tasks.classify import ClassifyTaskConfig
from ecgbench.tasks.classify import run as run_classify

FOLDS = FoldSplit.parse("train=1-6,val=7,test=8")


def _sample() -> Path:
    configured = os.environ.get("ECGBENCH_SHARED_DATA")
    root = Path(configured) if configured else Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
    folder = root / "ptbxl-sample"
    if not folder.is_dir():
        pytest.skip("real data sample 'ptbxl-sample' not found (set ECGBENCH_SHARED_DATA or provide ../shared/data)")
    return folder


pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def ptbxl():
    return load_ptbxl(PTBXLConfig(path=_sample(), fs=100, cache=False))


def _ctx(tmp_path) -> RunContext:
    return RunContext(artifacts_dir=tmp_path / "artifacts", cache_dir=tmp_path / "cache", quiet=True)


def test_the_reports_are_the_cardiologists_german_text(ptbxl):
    reports = reports_of(ptbxl)
    assert (reports != "").mean() > 0.95
    assert sum("sinusrhythmus" in r for r in reports) > len(reports) / 3


def test_identical_reports_count_as_one_report_in_the_floor(ptbxl, tmp_path):
    result = run(TfidfCCARetriever(TfidfCCAConfig(), _ctx(tmp_path)), "baseline-tfidf-cca", ptbxl, FOLDS,
                 RetrieveReportConfig(n_boot=50), _ctx(tmp_path))
    assert result.notes["distinct_test_reports"] < result.splits["test"]
    recall = next(m for m in result.metrics if m.name == "recall_at_10_ecg_to_report")
    assert 0.0 <= recall.value <= 1.0


def test_zero_shot_speaks_german_on_ptbxl(ptbxl, tmp_path):
    model = MoreZeroShot(ZeroShotConfig(**TINY), _ctx(tmp_path))
    run_classify(model, "more-zeroshot", ptbxl, FOLDS, ClassifyTaskConfig(n_boot=10), model.ctx)
    assert model.ctx.notes["prompt_language"] == "de"
    assert model.ctx.notes["prompts_per_statement"] == 2
