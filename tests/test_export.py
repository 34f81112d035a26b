"""`ecgbench data export phantom --layout ptbxl`: a PTB-XL-shaped folder the ptbxl reader loads back."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from ecgbench import cli
from ecgbench.data.export import ADC_GAIN, export_ptbxl_layout, record_path
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.data.ptbxl import PTBXLConfig, load_ptbxl
from ecgbench.errors import ConfigError


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """40 phantom records at 100 Hz, exported and read back with the ptbxl reader (no cache)."""
    config = PhantomConfig(n_records=40, fs=100, seed=3, cache=False)
    out = tmp_path_factory.mktemp("export") / "phantom-ptbxl"
    export_ptbxl_layout(config, out)
    return load_phantom(config), load_ptbxl(PTBXLConfig(path=out, fs=100, cache=False)), out


def test_the_reader_gets_back_the_signals_to_the_adc_resolution(exported):
    phantom, ptbxl, _ = exported
    assert ptbxl.signals.shape == phantom.signals.shape
    assert np.abs(np.asarray(ptbxl.signals) - phantom.signals).max() <= 0.5 / ADC_GAIN + 1e-6


def test_the_reader_gets_back_labels_folds_reports_sex_and_age(exported):
    phantom, ptbxl, _ = exported
    assert ptbxl.record_ids.tolist() == [str(i) for i in range(1, 41)]
    assert np.array_equal(ptbxl.labels, phantom.labels)
    assert np.array_equal(ptbxl.folds, phantom.folds)
    assert ptbxl.meta["report"].tolist() == phantom.meta["report"].tolist()
    assert ptbxl.meta["sex"].tolist() == phantom.meta["sex"].tolist()
    assert np.array_equal(ptbxl.meta["age"].to_numpy(), np.round(phantom.meta["age"].to_numpy()))


def test_the_folder_has_ptbxl_file_names_and_statement_likelihoods(exported):
    _, _, out = exported
    table = pd.read_csv(out / "ptbxl_database.csv")
    assert table["filename_lr"].iloc[0] == "records100/00000/00001_lr"
    assert table["filename_hr"].iloc[0] == "records500/00000/00001_hr"
    assert (out / "records100" / "00000" / "00040_lr.dat").is_file()
    assert not (out / "records500").exists()
    first = ast.literal_eval(table["scp_codes"].iloc[0])
    assert all(value in (0.0, 100.0) for value in first.values())
    assert "Not PTB-XL" in (out / "PROVENANCE.md").read_text()


def test_records_are_grouped_in_folders_of_a_thousand():
    assert record_path(21799, 500) == "records500/21000/21799_hr"
    assert record_path(999, 100) == "records100/00000/00999_lr"


def test_a_500_hz_export_reads_back_at_500_hz(tmp_path):
    config = PhantomConfig(n_records=6, fs=500, cache=False)
    export_ptbxl_layout(config, tmp_path / "p500")
    back = load_ptbxl(PTBXLConfig(path=tmp_path / "p500", fs=500, cache=False))
    assert back.signals.shape == (6, 12, 5000)
    assert np.abs(np.asarray(back.signals) - load_phantom(config).signals).max() <= 0.5 / ADC_GAIN + 1e-6


def test_an_existing_folder_is_never_replaced(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ConfigError, match="exists"):
        export_ptbxl_layout(PhantomConfig(n_records=2, cache=False), tmp_path / "taken")
    assert list(tmp_path.iterdir()) == [tmp_path / "taken"]


def test_the_command_writes_a_folder_the_summary_reads(tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["data", "export", "phantom", "--layout", "ptbxl", "--n", "12", "--fs", "100",
                     "--out", str(out), "--quiet"]) == 0
    assert cli.main(["data", "summary", "ptbxl", "--data-path", str(out), "--fs", "100", "--json"]) == 0
    assert '"n_records": 12' in capsys.readouterr().out


def test_the_command_takes_the_record_count_only_as_an_option(tmp_path, capsys):
    code = cli.main(["data", "export", "phantom", "--layout", "ptbxl", "--n", "2", "--out", str(tmp_path / "x"),
                     "--set", "n_records=5"])
    assert code == cli.EXIT_USAGE and "--n" in capsys.readouterr().err
