from ecgbench.testing import ClassifyContract


class TestContract(ClassifyContract):
    model = "example-knn"
