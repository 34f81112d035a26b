"""The paper's central claim at a small scale: a probe on the JEPA-pre-trained encoder beats
the same probe on a randomly initialised encoder on held-out phantom records."""

from __future__ import annotations

import pytest
from ecgbench_jepa.config import LinearProbeConfig, RandomInitProbeConfig
from ecgbench_jepa.model import create_linear

from ecgbench.context import RunContext
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.metrics.classification import macro_auroc

SMALL = dict(dim=64, depth=3, n_heads=4, predictor_depth=2, pretrain_crop_s=2.5, pretrain_steps=800,
             pretrain_batch_size=32, pretrain_warmup_steps=80, steps=500, eval_every=100)


@pytest.mark.slow
def test_pretrained_probe_beats_random_init_probe_on_held_out_records(tmp_path) -> None:
    train, val, test = load_phantom(PhantomConfig(n_records=800, seed=1, cache=False)).split()
    scores, notes = {}, {}
    for name, config in (("jepa", LinearProbeConfig(**SMALL)), ("random", RandomInitProbeConfig(**SMALL))):
        ctx = RunContext(seed=0, cache_dir=tmp_path, quiet=True)
        model = create_linear(config, ctx).fit(train, val)
        scores[name] = macro_auroc(test.labels, model.predict_proba(test.signals))[0]
        notes[name] = ctx.notes
    assert notes["jepa"]["pretrain_final_loss"] < notes["jepa"]["pretrain_first_loss"]
    # no collapse: the target features keep their spread across patches and records
    assert notes["jepa"]["pretrain_final_target_std"] > 0.5 * notes["jepa"]["pretrain_first_target_std"]
    assert scores["jepa"] > 0.6  # above chance (0.5)
    assert scores["jepa"] > scores["random"] + 0.03, scores
