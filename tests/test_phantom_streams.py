"""The phantom's random streams never coincide across purposes."""

from __future__ import annotations

import numpy as np

from ecgbench.data.phantom.streams import Domain, stream


def _first_draws(seed: int, domain: Domain, *keys: int) -> tuple[int, int]:
    return tuple(int(v) for v in stream(seed, domain, *keys).integers(0, 2**63, size=2))


def test_no_two_purposes_share_a_stream():
    """numpy pads short seed lists with zeros ([s, 3] == [s, 3, 0]); the domains keep the
    fold, block, noise and report streams of a 4,000-record cohort apart all the same."""
    seed = 0
    keys = [(Domain.FOLDS,)]
    keys += [(Domain.BLOCK, block, kind) for block in range(16) for kind in range(3)]
    keys += [(Domain.NOISE, i) for i in range(4000)]
    keys += [(Domain.REPORT, i) for i in range(4000)]
    draws = [_first_draws(seed, *k) for k in keys]
    assert len(set(draws)) == len(draws)


def test_padding_with_zeros_is_why_domains_are_needed():
    """The numpy behaviour the domains guard against (if numpy ever changes it, the domains
    are still harmless)."""
    a = np.random.default_rng([0, 3]).integers(0, 2**63)
    b = np.random.default_rng([0, 3, 0]).integers(0, 2**63)
    assert a == b
