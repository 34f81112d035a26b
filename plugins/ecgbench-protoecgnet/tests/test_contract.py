"""The classify-71-labels contract clauses every classifier is held to."""

from ecgbench.testing import ClassifyContract


class TestContract(ClassifyContract):
    model = "protoecgnet"
