"""Registration of ``featuredb`` and ``ecgdeli`` (import-light: no numpy, scipy or ecgdeli here)."""

from ecgbench import ModelSpec, hookimpl

FEATUREDB = ModelSpec(
    name="featuredb",
    aliases=("feature-db",),
    task="measure-intervals",
    summary="FeatureDB: single-lead average beat + à-trous wavelet delineation -> PR, QRS, QT, QTc, HR",
    factory="ecgbench_featuredb.featuredb:create",
    config="ecgbench_featuredb.config:FeatureDBConfig",
    # Rule-based, nothing is trained: both budgets run the same published pipeline.
    budgets={"ci": {}, "paper": {}},
    citation=(
        "Fan et al., On-device Computation of Single-lead ECG Parameters for Real-time Remote "
        "Cardiac Health Assessment: A Real-world Validation Study. arXiv:2502.17499 (v1/v2, 2025)"
    ),
    reference="https://arxiv.org/abs/2502.17499",
    license="MIT",
)

ECGDELI = ModelSpec(
    name="ecgdeli",
    aliases=("deli",),
    task="measure-intervals",
    summary="ECGdeli (KIT-IBT) delineation via the ecgdeli port; PR = its PQ (needs the [ecgdeli] extra, GPL)",
    factory="ecgbench_featuredb.ecgdeli_model:create",
    config="ecgbench_featuredb.config:ECGdeliConfig",
    budgets={"ci": {}, "paper": {}},
    citation=(
        "Pilia N, Nagel C, Lenis G, Becker S, Dössel O, Loewe A. ECGdeli – An open source ECG "
        "delineation toolbox for MATLAB. SoftwareX 13:100639 (2021)"
    ),
    reference="https://github.com/KIT-IBT/ECGdeli",
    license="GPL-3.0-or-later",
)


@hookimpl
def ecgbench_register_models(register):
    register(FEATUREDB)
    register(ECGDELI)
