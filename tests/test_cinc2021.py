"""The Challenge 2021 layout (.hea + .mat, SNOMED Dx) read by wfdb-dir, and the SNOMED -> SCP table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from shared_data import shared_sample, uses_shared_data

from ecgbench.data.cinc2021 import dx_codes, expressible_scp_codes, map_dx, snomed_table
from ecgbench.data.labels import SCP_CODES, SCP_INDEX
from ecgbench.data.leads import LEADS
from ecgbench.data.wfdb_dir import WFDBDirConfig, load_wfdb_dir


@pytest.fixture(scope="module")
def cinc_dir() -> Path:
    return shared_sample("cinc2021-sample")


@pytest.fixture(scope="module")
def cinc(cinc_dir: Path):
    return load_wfdb_dir(WFDBDirConfig(path=cinc_dir, cache=False))


def _dx(cinc_dir: Path, record: str) -> list[str]:
    comments = wfdb.rdheader(str(cinc_dir / record)).comments
    return next(c.split(":", 1)[1].strip().split(",") for c in comments if c.startswith("Dx"))


@uses_shared_data
def test_reads_the_50_ten_second_records_as_whole_windows(cinc) -> None:
    assert cinc.signals.shape == (50, 12, 5000)
    assert cinc.fs == 500
    assert cinc.record_ids[:2].tolist() == ["E07500", "E07501"]
    assert cinc.info["layout"] == "cinc2021"


@uses_shared_data
def test_the_all_zero_chest_leads_of_two_ningbo_records_are_missing_leads(cinc) -> None:
    """JS20004 and JS20008 store V2, V4 and V6 as zeros: flat leads, so absent, and reported."""
    flat = {"JS20004", "JS20008"}
    ids = cinc.record_ids.tolist()
    missing = {(ids[i], LEADS[j]) for i, j in zip(*np.nonzero(~cinc.lead_present), strict=True)}
    assert missing == {(r, lead) for r in flat for lead in ("V2", "V4", "V6")}
    assert cinc.info["flat_leads"] == [{"record": r, "leads": ["V2", "V4", "V6"]} for r in sorted(flat)]


@uses_shared_data
def test_signals_equal_wfdb_rdsamp_of_the_mat_files(cinc, cinc_dir: Path) -> None:
    for row in (0, 25, 49):
        expected, _ = wfdb.rdsamp(str(cinc_dir / cinc.record_ids[row]))
        np.testing.assert_allclose(cinc.signals[row], expected.T, atol=1e-6)


@uses_shared_data
def test_dx_codes_become_scp_labels(cinc) -> None:
    row = cinc.record_ids.tolist().index("E07500")  # Dx: 67741000119109 (LAE), 426177001 (SB)
    assert {SCP_CODES[i] for i in np.flatnonzero(cinc.labels[row])} == {"LAO/LAE", "SBRAD"}


@uses_shared_data
def test_every_mapped_dx_code_is_a_label_and_no_other(cinc, cinc_dir: Path) -> None:
    table = snomed_table()
    for row, record in enumerate(cinc.record_ids):
        expected = {table[c]["scp"] for c in _dx(cinc_dir, record) if table[c]["scp"]}
        assert {SCP_CODES[i] for i in np.flatnonzero(cinc.labels[row])} == expected


@uses_shared_data
def test_sinus_rhythm_count_equals_the_nsr_code_count(cinc, cinc_dir: Path) -> None:
    n_nsr = sum("426783006" in _dx(cinc_dir, r) for r in cinc.record_ids)
    assert n_nsr == 15
    assert cinc.labels[:, SCP_INDEX["SR"]].sum() == n_nsr


@uses_shared_data
def test_unmapped_codes_are_counted_and_expressed_codes_are_the_mappable_ones(cinc) -> None:
    assert cinc.expressed == expressible_scp_codes()
    assert cinc.info["unmapped_snomed"] == {
        "164930006": 1,
        "251187003": 1,
        "365413008": 1,
        "428750005": 1,
    }


@uses_shared_data
def test_age_sex_and_dx_come_from_the_header(cinc) -> None:
    hr = cinc.meta.set_index("record").loc["HR06000"]
    assert (hr["sex"], hr["age"], hr["dx"]) == ("F", 59.0, "164934002,426783006")


@uses_shared_data
def test_table_covers_every_code_of_the_challenge_tables_with_their_names(cinc_dir: Path) -> None:
    published = pd.concat(
        [
            pd.read_csv(cinc_dir / "dx_mapping_scored.csv"),
            pd.read_csv(cinc_dir / "dx_mapping_unscored.csv"),
        ]
    )
    table = snomed_table()
    assert set(published["SNOMEDCTCode"].astype(str)) == set(table)
    for _, row in published.iterrows():
        assert table[str(row["SNOMEDCTCode"])]["abbreviation"] == row["Abbreviation"]


def test_every_target_is_one_of_the_71_statements() -> None:
    targets = {entry["scp"] for entry in snomed_table().values() if entry["scp"]}
    assert targets <= set(SCP_CODES)
    assert expressible_scp_codes() == tuple(c for c in SCP_CODES if c in targets)


def test_acute_mi_is_not_mistaken_for_scp_anterior_mi() -> None:
    table = snomed_table()
    assert table["57054005"]["scp"] is None  # acute myocardial infarction
    assert table["54329005"]["scp"] == "AMI"  # anterior myocardial infarction


def test_equivalent_challenge_classes_map_to_one_statement() -> None:
    assert map_dx(["164909002", "733534002"])[0] == ["CLBBB"]
    assert map_dx(["59118001", "713427006"])[0] == ["CRBBB"]
    assert map_dx(["63593006", "284470004"])[0] == ["PAC"]
    assert map_dx(["17338001", "427172004"])[0] == ["PVC"]


def test_map_dx_returns_the_codes_it_cannot_map() -> None:
    assert map_dx(["426783006", "39732003", "123"]) == (["SR"], ["39732003", "123"])


def test_dx_line_is_optional() -> None:
    assert dx_codes(["Age: 59", "Dx: 164934002, 426783006"]) == ["164934002", "426783006"]
    assert dx_codes(["69 M 1085 1629 x1"]) is None
