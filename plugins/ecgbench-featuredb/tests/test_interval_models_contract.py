"""Both models held to every clause of the measure-intervals contract (ecgbench.testing)."""

from __future__ import annotations

import importlib.util

import pytest

from ecgbench.testing import IntervalsContract


class TestFeatureDBContract(IntervalsContract):
    model = "featuredb"


@pytest.mark.skipif(importlib.util.find_spec("ecgdeli") is None, reason="the optional ecgdeli extra is not installed")
class TestECGdeliContract(IntervalsContract):
    model = "ecgdeli"
