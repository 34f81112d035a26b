"""The interpret-image contract clauses, as for every model."""


from ecgbench.testing import ImageContract


class TestContract(ImageContract):
    model = "llama-lora"
