"""Registration of FlowECG (no torch import here)."""

from ecgbench import ModelSpec, WeightsSpec, hookimpl
from ecgbench.nn.generator_config import CI_BACKBONE, GENERATOR_ADAPTABLE, VALIDATE_BACKBONE

FLOWECG = ModelSpec(
    name="flowecg",
    aliases=("flow-ecg",),
    task="generate",
    summary="FlowECG: conditional flow matching on the SSSD-ECG S4 network, ODE sampling at a settable NFE",
    factory="ecgbench_flowecg.model:create",
    config="ecgbench_flowecg.config:FlowECGConfig",
    budgets={"ci": {**CI_BACKBONE}, "paper": {}},
    validate_overrides={**VALIDATE_BACKBONE, "nfe": 4, "solver": "euler"},
    citation="FlowECG: Using Flow Matching to Create a More Efficient ECG Signal Generator. arXiv:2509.10491 "
    "(2025). Re-implemented from the paper's description on the SSSD-ECG network (no public code).",
    reference="https://arxiv.org/abs/2509.10491",
    license="MIT",
    weights=WeightsSpec(accepts=("flowecg",), adaptable=(*GENERATOR_ADAPTABLE, "nfe", "solver")),
)


@hookimpl
def ecgbench_register_models(register):
    register(FLOWECG)
