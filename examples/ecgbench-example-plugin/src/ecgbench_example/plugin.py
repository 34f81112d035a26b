"""Registration only: no heavy imports here, the model is named by import strings."""

from ecgbench import ModelSpec, hookimpl


@hookimpl
def ecgbench_register_models(register):
    register(
        ModelSpec(
            name="example-knn",
            task="classify-71-labels",
            summary="k nearest neighbours on 10 Hz-downsampled signals (example plugin)",
            factory="ecgbench_example.model:create",
            config="ecgbench_example.model:KNNConfig",
            budgets={"ci": {}, "paper": {"k": 25}},
        )
    )
