"""The delineation thresholds the config ships are the leave-one-record-out selection's."""

from __future__ import annotations

import pytest
from ecgbench_featuredb.config import FeatureDBConfig
from ecgbench_featuredb.selection import CAP_MS, STAGES, frozen_selection, tuned_names


def test_shipped_config_equals_the_frozen_selection():
    frozen = frozen_selection()["frozen"]
    config = FeatureDBConfig()
    assert set(frozen) == set(tuned_names())
    assert {name: getattr(config, name) for name in frozen} == frozen


def test_the_stored_selection_was_made_with_this_procedure():
    stored = frozen_selection()
    assert stored["cap_ms"] == CAP_MS
    assert stored["stages"] == [
        {"name": s.name, "boundaries": list(s.boundaries), "grid": {k: list(v) for k, v in s.grid.items()}}
        for s in STAGES
    ]
    assert stored["data"] == "qtdb-dev" and len(stored["recordings"]) == 24


def test_every_stage_lists_the_published_value_first():
    published = {"xi_qrs_on": 0.05, "xi_qrs_off": 0.125, "xi_t_off": 0.4, "xi_p_on": 0.5}
    for stage in STAGES:
        for name, value in published.items():
            if name in stage.grid:
                assert stage.grid[name][0] == value


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_selection_on_the_development_set_reproduces_the_frozen_values(qtdb_dev):
    from ecgbench_featuredb.selection import load_development_set, select

    result = select(load_development_set(qtdb_dev))
    stored = frozen_selection()
    assert result["frozen"] == stored["frozen"]
    assert result["loro_choices"] == stored["loro_choices"]
    assert result["loro_errors_ms"] == stored["loro_errors_ms"]
