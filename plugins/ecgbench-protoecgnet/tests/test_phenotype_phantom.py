"""Prototype phenotypes on the phantom: an outcome driven by a hidden generator parameter
inside one class (the QRS axis among LBBB records) is carried by single prototypes, while the
class label is constant there and no class score is associated with it.

Trained with the ``ci`` budget on the default phantom cohort and applied, unchanged, to a second
phantom population (another generator seed), as the follow-up paper applies a PTB-XL model to
another hospital's ECGs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.model import ProtoECGNet
from ecgbench_protoecgnet.plugin import CI_BUDGET

from ecgbench.context import RunContext
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.phenotype_run import run_phenotype


def within_class(cohort, code: str, parameter: str, above: bool) -> np.ndarray:
    """1 where the hidden parameter is above (or below) its median among the class's records,
    0 for the class's other records, NaN outside the class."""
    member = cohort.labels[:, SCP_INDEX[code]] == 1
    value = cohort.meta[parameter].to_numpy(dtype=float)
    cut = np.median(value[member])
    hit = value > cut if above else value < cut
    return np.where(member, hit.astype(float), np.nan)


@pytest.mark.slow
def test_a_prototype_carries_the_axis_among_lbbb_records_where_no_class_score_does(tmp_path):
    train, val, _ = load_phantom().split()
    model = ProtoECGNet(
        ProtoECGNetConfig(**CI_BUDGET), RunContext(seed=0, cache_dir=tmp_path, quiet=True)
    )
    model.fit(train, val)
    cohort = load_phantom(PhantomConfig(seed=1, n_records=3000, cache=False))
    outcome = within_class(cohort, "CLBBB", "axis_deg", above=False)
    member = ~np.isnan(outcome)
    assert cohort.labels[member, SCP_INDEX["CLBBB"]].min() == 1  # the class label cannot tell

    table = pd.DataFrame({"record_id": cohort.record_ids.astype(str), "left_axis_in_lbbb": outcome})
    report = run_phenotype(model, cohort, table, tmp_path / "phenotype", n_boot=200)

    per_prototype = pd.read_csv(report["files"]["per_prototype"])
    per_class = pd.read_csv(report["files"]["per_class"])
    best = per_prototype.sort_values("q_beyond_class").iloc[0]
    assert best["q_beyond_class"] < 0.05
    assert best["auroc_low"] > 0.5 or best["auroc_high"] < 0.5
    assert per_class["q_value"].min() >= 0.05
