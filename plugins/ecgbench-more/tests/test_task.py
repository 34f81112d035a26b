"""The retrieve-report task as this plugin registers it: listed, run, scored, rescored."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from ecgbench_more.retrieval.task import RetrieveReportConfig, run
from ecgbench_more.testing import DummyRetriever

from ecgbench.cli import main
from ecgbench.context import RunContext
from ecgbench.data.dataset import FoldSplit
from ecgbench.errors import ContractViolation, DataError
from ecgbench.registry import Registry


def _run(model, data, tmp_path):
    ctx = RunContext(artifacts_dir=tmp_path / "artifacts", cache_dir=tmp_path / "cache", quiet=True)
    return run(model, "m", data, FoldSplit(), RetrieveReportConfig(n_boot=20), ctx)


def test_the_plugin_registers_the_task_and_its_models():
    registry = Registry()
    assert registry.plugin_of("task", "retrieve-report").name == "more"
    assert {s.name for s in registry.models("retrieve-report")} >= {"more", "baseline-tfidf-cca"}
    assert {"more-zeroshot", "more-linear"} <= {s.name for s in registry.models("classify-71-labels")}


def test_ecgbench_tasks_lists_retrieve_report(capsys):
    assert main(["tasks"]) == 0
    assert "retrieve-report" in capsys.readouterr().out


def test_a_model_that_scores_every_pair_alike_is_exactly_at_chance(phantom, tmp_path):
    result = _run(DummyRetriever(), phantom, tmp_path)
    metrics = {m.name: m for m in result.metrics}
    n = result.splits["test"]
    assert metrics["recall_at_1_ecg_to_report"].value == pytest.approx(1 / n)
    assert metrics["recall_at_1_ecg_to_report"].params["chance"] == pytest.approx(1 / n)
    assert set(result.samples) >= {"record_id", "similarity", "report", "y_true"}
    assert result.samples["similarity"].shape == (n, n)


def test_records_without_a_report_are_left_out_and_counted(phantom, tmp_path):
    meta = phantom.meta.copy()
    test_rows = np.flatnonzero(phantom.folds == 10)
    meta.loc[test_rows[:3], "report"] = ""
    result = _run(DummyRetriever(), replace(phantom, meta=meta), tmp_path)
    assert result.notes["test_records_without_report"] == 3
    assert result.splits["test"] == len(test_rows) - 3


def test_a_dataset_without_reports_names_the_column(phantom, tmp_path):
    with pytest.raises(DataError, match="no free-text reports.*'report'"):
        _run(DummyRetriever(), replace(phantom, meta=phantom.meta.drop(columns="report")), tmp_path)


class _MismatchedWidths(DummyRetriever):
    def embed_reports(self, reports):
        return np.ones((len(reports), 2), dtype=np.float32)


def test_embeddings_of_different_widths_break_the_contract(phantom, tmp_path):
    with pytest.raises(ContractViolation, match="same width"):
        _run(_MismatchedWidths(), phantom, tmp_path)


def test_a_run_record_is_rescored_from_its_samples_file(tmp_path, capsys):
    results = tmp_path / "results"
    code = main(["run", "--task", "retrieve-report", "--plugin", "baseline-tfidf-cca", "--set", "data.n_records=120",
                 "--set", "task.n_boot=200", "--out", str(results), "--leaderboards", str(tmp_path / "lb"), "--quiet"])
    assert code == 0
    folder = results / "retrieve-report" / "baseline-tfidf-cca"
    record = json.loads(next(folder.glob("*.json")).read_text())
    capsys.readouterr()
    assert main(["score", "--task", "retrieve-report", "--samples", str(next(folder.glob("*.samples.npz"))), "--json"]) == 0
    rescored = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    for metric in record["metrics"]:
        assert rescored[metric["name"]]["value"] == pytest.approx(metric["value"])
        assert rescored[metric["name"]]["ci_low"] == pytest.approx(metric["ci_low"])
    assert (tmp_path / "lb" / "retrieve-report.md").exists()
