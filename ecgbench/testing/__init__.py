"""Test support for plugin authors: a tiny dataset, dummy models and contract test classes.

A plugin's test suite holds every model to the same clauses with one line per model::

    from ecgbench.testing import GenerateContract

    class TestContract(GenerateContract):
        model = "my-generator"
        overrides = {"n_iters": 2}   # optional, on top of the spec's validate_overrides
"""

from ecgbench.testing.contracts import (
    ClassifyContract,
    GenerateContract,
    ImageContract,
    IntervalsContract,
    TaskContract,
)
from ecgbench.testing.dummies import (
    DummyClassifier,
    DummyGenerator,
    DummyImageInterpreter,
    DummyMeasurer,
)
from ecgbench.validate import tiny_dataset

__all__ = [
    "ClassifyContract",
    "DummyClassifier",
    "DummyGenerator",
    "DummyImageInterpreter",
    "DummyMeasurer",
    "GenerateContract",
    "ImageContract",
    "IntervalsContract",
    "TaskContract",
    "tiny_dataset",
]
