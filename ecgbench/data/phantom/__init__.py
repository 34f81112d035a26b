"""``phantom``: the embedded simulated 12-lead cohort (no download, deterministic from a seed).

A parametric dipole model of the heart (P, QRS, ST, T and U forces with compact support,
projected onto the 12 leads through Dower's lead matrix) with rhythms and findings that map
onto PTB-XL SCP statements, exact ground-truth fiducials and intervals, realistic noise and
ten label-stratified folds. ``docs/phantom.md`` describes the model, the label rules and how
well a standard delineator agrees with the ground truth.
"""

from __future__ import annotations

from ecgbench.data.dataset import ECGDataset
from ecgbench.data.phantom import cache
from ecgbench.data.phantom.config import PHANTOM_VERSION, PhantomConfig
from ecgbench.data.phantom.generator import generate
from ecgbench.data.phantom.statements import EXPRESSED_CODES

__all__ = ["EXPRESSED_CODES", "PHANTOM_VERSION", "PhantomConfig", "load_phantom"]


def load_phantom(config: PhantomConfig | None = None) -> ECGDataset:
    """The phantom cohort for ``config`` (defaults: 3000 records, 100 Hz, 10 s, seed 0).

    With ``config.cache`` the arrays are read from, or written to,
    ``<cache dir>/phantom/<key>.npz``; the key covers every setting, :data:`PHANTOM_VERSION`
    and a digest of the generator's source.
    """
    config = config or PhantomConfig()
    if not config.cache:
        return generate(config)
    path = cache.cache_path(cache.cache_key(config.model_dump(exclude={"cache"}), PHANTOM_VERSION))
    if path.exists():
        cached = cache.load(path, "phantom", EXPRESSED_CODES)
        if cached is not None:
            return cached
    dataset = generate(config)
    cache.save(path, dataset)
    return dataset
