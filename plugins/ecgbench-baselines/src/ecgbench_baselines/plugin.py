"""Registration of the reference models (no heavy imports here)."""

from ecgbench import ModelSpec, hookimpl

MODELS = (
    ModelSpec(
        name="baseline-template",
        aliases=("template-generator",),
        task="generate",
        summary="class-conditional template generator: mean beat per label vector, jittered rhythm, noise",
        factory="ecgbench_baselines.template_generator:create",
        config="ecgbench_baselines.template_generator:TemplateGeneratorConfig",
        budgets={"ci": {}, "paper": {}},
    ),
    ModelSpec(
        name="baseline-features",
        aliases=("features-logreg",),
        task="classify-71-labels",
        summary="logistic regression per statement on hand-made rhythm, median-beat and spectral features",
        factory="ecgbench_baselines.feature_classifier:create",
        config="ecgbench_baselines.feature_classifier:FeatureClassifierConfig",
        budgets={"ci": {}, "paper": {}},
    ),
    ModelSpec(
        name="neurokit-dwt",
        aliases=("neurokit",),
        task="measure-intervals",
        summary="NeuroKit2 R peaks + DWT delineation (Martínez et al. 2004), medians over beats",
        factory="ecgbench_baselines.neurokit_intervals:create",
        config="ecgbench_baselines.neurokit_intervals:NeurokitConfig",
        budgets={"ci": {}, "paper": {}},
        citation="Makowski et al., NeuroKit2: A Python toolbox for neurophysiological signal processing. "
        "Behav Res Methods 53, 1689–1696 (2021)",
        reference="https://github.com/neuropsychology/NeuroKit",
        license="MIT",
    ),
    ModelSpec(
        name="baseline-image",
        task="interpret-image",
        summary="small-image features + one linear classifier per closed question",
        factory="ecgbench_baselines.image:create",
        config="ecgbench_baselines.image:ImageBaselineConfig",
        budgets={"ci": {}, "paper": {}},
    ),
)


@hookimpl
def ecgbench_register_models(register):
    for spec in MODELS:
        register(spec)
