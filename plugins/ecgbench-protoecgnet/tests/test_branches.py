"""The label -> branch assignment file."""

from __future__ import annotations

import pytest
from ecgbench_protoecgnet.branches import BRANCHES, load_branches

from ecgbench.data.labels import SCP_CODES
from ecgbench.errors import DataError


def test_branch_file_covers_the_71_statements_exactly_once():
    branches = load_branches()
    codes = [c for b in BRANCHES for c in branches[b]]
    assert sorted(codes) == sorted(SCP_CODES)
    assert len(codes) == len(set(codes)) == 71


def test_branch_sizes_are_16_rhythm_52_local_3_global():
    branches = load_branches()
    assert {b: len(c) for b, c in branches.items()} == {"rhythm": 16, "local": 52, "global": 3}


def test_global_branch_holds_dig_norm_el_and_rhythm_holds_the_conduction_timing_codes():
    branches = load_branches()
    assert set(branches["global"]) == {"DIG", "NORM", "EL"}
    assert {"1AVB", "2AVB", "3AVB", "IVCD", "AFIB", "SR", "PACE", "TRIGU"} <= set(
        branches["rhythm"]
    )
    assert {"CLBBB", "CRBBB", "IMI", "LVH", "STD_"} <= set(branches["local"])


def test_a_code_assigned_twice_is_rejected_naming_the_line(tmp_path):
    path = tmp_path / "branches.csv"
    rows = ["code,branch"] + [f"{c},local" for c in SCP_CODES] + ["SR,rhythm"]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="line 73.*'SR' is assigned twice"):
        load_branches(path)


def test_an_unknown_branch_is_rejected(tmp_path):
    path = tmp_path / "branches.csv"
    path.write_text("code,branch\nNORM,diffuse\n")
    with pytest.raises(DataError, match="diffuse"):
        load_branches(path)


def test_a_missing_code_is_reported(tmp_path):
    path = tmp_path / "branches.csv"
    path.write_text("code,branch\n" + "".join(f"{c},local\n" for c in SCP_CODES if c != "WPW"))
    with pytest.raises(DataError, match="WPW"):
        load_branches(path)
