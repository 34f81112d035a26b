"""The phenotype entry: the model is fitted on train/val folds and the test folds are analysed."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
from ecgbench_protoecgnet.plugin import VALIDATE_OVERRIDES

from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.errors import DataError
from ecgbench.phenotype_run import read_outcomes, run_phenotype_command


def _namespace(tmp_path, outcomes_path, **extra) -> argparse.Namespace:
    sets = [f"{k}={json.dumps(v)}" for k, v in VALIDATE_OVERRIDES.items()] + [
        "data.n_records=200",
        "data.cache=false",
    ]
    values = {
        "plugin": "protoecgnet", "outcomes": outcomes_path, "dataset": None, "data_path": None, "fs": None,
        "skip_bad": False, "folds": None, "budget": "ci", "seed": 0, "set": sets, "out": tmp_path / "out",
        "quiet": True,
    }  # fmt: skip
    return argparse.Namespace(**{**values, **extra})


def test_the_cli_entry_analyses_the_test_folds_and_writes_the_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ECGBENCH_CACHE", str(tmp_path / "cache"))
    data = load_phantom(PhantomConfig(n_records=200, cache=False))
    rng = np.random.default_rng(0)
    outcomes = pd.DataFrame(
        {"record_id": data.record_ids.astype(str), "coin": rng.integers(0, 2, len(data))}
    )
    path = tmp_path / "outcomes.csv"
    outcomes.to_csv(path, index=False)
    assert run_phenotype_command(_namespace(tmp_path, path)) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["summary"]["coin"]["n"] == int((data.folds == 10).sum())
    assert (tmp_path / "out" / "volcano.png").stat().st_size > 0


def test_an_outcome_file_without_record_ids_is_rejected_naming_it(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,death\na,1\n")
    with pytest.raises(DataError, match="bad.csv.*record_id"):
        read_outcomes(path)
