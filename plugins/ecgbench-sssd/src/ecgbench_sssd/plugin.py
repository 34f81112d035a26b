"""Registration of SSSD-ECG (no torch import here)."""

from ecgbench import ModelSpec, WeightsSpec, hookimpl
from ecgbench.nn.generator_config import CI_BACKBONE, GENERATOR_ADAPTABLE, VALIDATE_BACKBONE

SSSD = ModelSpec(
    name="sssd",
    aliases=("sssd-ecg",),
    task="generate",
    summary="SSSD-ECG: label-conditional DDPM (T=200) on a DiffWave network with S4 layers; 8 leads + 4 derived",
    factory="ecgbench_sssd.model:create",
    config="ecgbench_sssd.config:SSSDConfig",
    budgets={"ci": {**CI_BACKBONE}, "paper": {}},
    validate_overrides={**VALIDATE_BACKBONE, "steps": 10},
    citation="Alcaraz, J. M. L. & Strodthoff, N. Diffusion-based conditional ECG generation with structured "
    "state space models. Computers in Biology and Medicine 163, 107115 (2023). arXiv:2301.08227",
    reference="https://github.com/AI4HealthUOL/SSSD-ECG",
    license="MIT",
    weights=WeightsSpec(
        accepts=("sssd",),
        adaptable=(*GENERATOR_ADAPTABLE, "steps", "sampler"),
        converters={"sssd-ecg": "ecgbench_sssd.convert:convert"},
    ),
)


@hookimpl
def ecgbench_register_models(register):
    register(SSSD)
