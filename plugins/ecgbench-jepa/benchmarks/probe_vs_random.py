"""Time the ci budget and compare the JEPA-pre-trained probe with the random-init probe.

    python benchmarks/probe_vs_random.py [--budget ci] [--threads 2] [--set key=value ...]

Loads the phantom cohort (3,000 records at 100 Hz; folds 1-8 train, 9 validation, 10 test),
runs jepa-linear (pre-training included, into a fresh cache), jepa-finetune (reusing that
pre-training) and jepa-linear-random, and prints the wall and CPU seconds of each and the test
macro AUROC (sklearn, over the statements with positives and negatives in fold 10).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from ecgbench_jepa import plugin

from ecgbench.context import RunContext
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.metrics.classification import macro_auroc
from ecgbench.specs import load_object


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="ci", choices=["ci", "paper"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="jepa-linear,jepa-finetune,jepa-linear-random")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (JSON value)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}

    specs: dict = {}
    plugin.ecgbench_register_models(lambda spec: specs.setdefault(spec.name, spec))
    train, val, test = load_phantom(PhantomConfig()).split()
    with tempfile.TemporaryDirectory() as cache:
        for name in args.models.split(","):
            spec = specs[name]
            config = load_object(spec.config)(**{**spec.budgets[args.budget], **overrides})
            ctx = RunContext(seed=args.seed, cache_dir=Path(cache), quiet=True)
            wall, cpu = time.perf_counter(), time.process_time()
            model = load_object(spec.factory)(config, ctx).fit(train, val)
            score = model.predict_proba(test.signals)
            report = {
                "model": name,
                "wall_s": round(time.perf_counter() - wall, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
                "test_macro_auroc": round(macro_auroc(test.labels, score)[0], 4),
                **{k: v for k, v in ctx.notes.items() if k != "pretrain_key"},
            }
            print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
