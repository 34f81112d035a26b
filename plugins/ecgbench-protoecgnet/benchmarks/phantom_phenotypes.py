"""Prototype phenotypes on the phantom: outcomes built from hidden generator parameters inside
one class, tested against single prototypes and against every class score.

    python plugins/ecgbench-protoecgnet/benchmarks/phantom_phenotypes.py --out phenotypes/phantom

Trains ProtoECGNet with the ``ci`` budget on the default phantom cohort (or reuses the cached
checkpoint of ``ecgbench run --task classify-71-labels --plugin protoecgnet``), applies it
unchanged to a second phantom population (generator seed 1) and writes ``outcomes.csv`` and
the report of :func:`ecgbench.phenotype_run.run_phenotype` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ecgbench_protoecgnet.config import ProtoECGNetConfig
from ecgbench_protoecgnet.model import ProtoECGNet
from ecgbench_protoecgnet.plugin import CI_BUDGET

from ecgbench.context import RunContext
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.phenotype_run import run_phenotype

#: outcome name -> (class, hidden parameter, True = above the class median, False = below)
OUTCOMES: dict[str, tuple[str, str, bool]] = {
    "wide_qrs_in_lbbb": ("CLBBB", "qrs_ms", True),
    "left_axis_in_lbbb": ("CLBBB", "axis_deg", False),
    "fast_rate_in_lbbb": ("CLBBB", "hr_target", True),
    "fast_rate_in_norm": ("NORM", "hr_target", True),
}


def outcome_table(cohort) -> pd.DataFrame:
    """``record_id`` and one 0/1 column per outcome, NaN outside the outcome's class."""
    table = {"record_id": cohort.record_ids.astype(str)}
    for name, (code, parameter, above) in OUTCOMES.items():
        member = cohort.labels[:, SCP_INDEX[code]] == 1
        value = cohort.meta[parameter].to_numpy(dtype=float)
        cut = np.median(value[member])
        table[name] = np.where(
            member, ((value > cut) if above else (value < cut)).astype(float), np.nan
        )
    return pd.DataFrame(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("phenotypes/phantom"))
    parser.add_argument("--cohort-records", type=int, default=3000)
    parser.add_argument("--n-boot", type=int, default=500)
    args = parser.parse_args()
    started = time.perf_counter()
    train, val, _ = load_phantom().split()
    model = ProtoECGNet(ProtoECGNetConfig(**CI_BUDGET), RunContext(seed=0)).fit(train, val)
    cohort = load_phantom(PhantomConfig(seed=1, n_records=args.cohort_records, cache=False))
    outcomes = outcome_table(cohort)
    args.out.mkdir(parents=True, exist_ok=True)
    outcomes.to_csv(args.out / "outcomes.csv", index=False)
    report = run_phenotype(model, cohort, outcomes, args.out, n_boot=args.n_boot)
    print(json.dumps(report["summary"], indent=1, default=str))
    print(
        f"{report['n_prototypes']} projected prototypes tested; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
