"""Every registered model meets the classify-71-labels contract (tiny settings)."""

from __future__ import annotations

from ecgbench.testing import ClassifyContract


class TestLinearProbeContract(ClassifyContract):
    model = "jepa-linear"


class TestFinetuneContract(ClassifyContract):
    model = "jepa-finetune"


class TestRandomInitProbeContract(ClassifyContract):
    model = "jepa-linear-random"
