"""Speed and conditioning checks of the generators on the SSSD-ECG backbone (sssd, flowecg).

    python benchmarks/generators.py timing [--budget ci|paper] [--threads N]
        seconds per training step and per network evaluation of one record, per model, and the
        projected ci run: training time, and sampling time for the phantom test fold.

    python benchmarks/generators.py conditioning [--models ...] [--pairs afib-sr stach-sbrad clbbb-norm]
        does the label condition come through? Per label pair (e.g. AFIB vs SR), a logistic
        regression on hand-made rhythm, beat and spectral features (ecgbench.features) is trained
        on real phantom training records, then scores records generated with the test fold's
        label vectors of the two classes (each `--repeats` times); reports AUROC and balanced
        accuracy (the classifier on real test records gives the ceiling). Models train
        with their ci budget, or reuse the weights an earlier `ecgbench run` cached (same seed).

    python benchmarks/generators.py nfe-curve [--model flowecg] [--nfe 4 10 20 50]
        the four generation metrics at several NFE (steps for sssd), weights from the cache.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ecgbench.context import RunContext
from ecgbench.data.dataset import ECGDataset
from ecgbench.data.labels import SCP_INDEX
from ecgbench.data.phantom import PhantomConfig, load_phantom
from ecgbench.registry import Registry
from ecgbench.runner import resolve_model_config
from ecgbench.specs import load_object

BACKBONE_MODELS = ("sssd", "flowecg")


def _context(seed: int = 0) -> RunContext:
    return RunContext(seed=seed)


def _model(name: str, budget: str, overrides: dict | None = None, ctx: RunContext | None = None):
    spec = Registry().model(name)
    config = resolve_model_config(spec, budget, overrides or {})
    return load_object(spec.factory)(config, ctx or _context()), config


def timing(budget: str, records: int) -> dict:
    """Seconds per training step and per record-evaluation, measured on random inputs."""
    import torch

    from ecgbench.nn.distributed import BatchDraws
    from ecgbench.nn.sssd_backbone import count_parameters

    out = {}
    for name in BACKBONE_MODELS:
        model, config = _model(name, budget)
        torch.manual_seed(0)
        net = model.build_network(1000).to(model.device)
        optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
        x = torch.randn(config.batch_size, 8, 1000, generator=torch.Generator().manual_seed(0))
        labels = torch.zeros(config.batch_size, 71)
        step_seconds = []
        for i in range(6):
            began = time.perf_counter()
            loss = model.training_loss(net, x, labels, BatchDraws(torch.Generator().manual_seed(i), len(x)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step_seconds.append(time.perf_counter() - began)
        batch = min(config.sample_batch_size, records)
        noise = torch.randn(batch, 8, 1000)
        t, cond = torch.full((batch,), 10.0), torch.zeros(batch, 71)
        eval_seconds = []
        with torch.inference_mode():
            for _ in range(4):
                began = time.perf_counter()
                net(noise, t, cond)
                eval_seconds.append(time.perf_counter() - began)
        per_step = float(np.median(step_seconds[1:]))
        per_eval = float(np.median(eval_seconds[1:])) / batch
        nfe = model.evaluations(model.sampling_steps(None))
        out[name] = {
            "n_parameters": count_parameters(net),
            "seconds_per_train_step": round(per_step, 4),
            "batch_size": config.batch_size,
            "seconds_per_record_evaluation": round(per_eval, 5),
            "projected_train_seconds": round(per_step * config.n_iters, 1),
            "nfe": nfe,
            "projected_sample_seconds": round(per_eval * nfe * records, 1),
            "records": records,
        }
    return out


#: Label pairs the check can use: (positive, negative). The negative class excludes the positive.
PAIRS = {"afib-sr": ("AFIB", "SR"), "stach-sbrad": ("STACH", "SBRAD"), "clbbb-norm": ("CLBBB", "NORM")}


def _pair_rows(data: ECGDataset, positive: str, negative: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices of records labelled ``positive``, and of records labelled ``negative`` but not ``positive``."""
    pos = data.labels[:, SCP_INDEX[positive]] == 1
    neg = (data.labels[:, SCP_INDEX[negative]] == 1) & ~pos
    return np.flatnonzero(pos), np.flatnonzero(neg)


def pair_classifier(train: ECGDataset, positive: str, negative: str):
    """Standardised logistic regression on ecgbench.features (rhythm, median beat, amplitude,
    spectrum), ``positive`` (1) vs ``negative`` (0), fitted on real training records."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ecgbench.features import extract_features

    pos, neg = _pair_rows(train, positive, negative)
    features = extract_features(train.signals[np.concatenate([pos, neg])], train.fs)
    target = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
    return classifier.fit(features, target)


def _score(classifier, signals: np.ndarray, fs: float, target: np.ndarray) -> dict:
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    from ecgbench.features import extract_features

    p = classifier.predict_proba(extract_features(signals, fs))[:, 1]
    return {
        "auroc": round(float(roc_auc_score(target, p)), 3),
        "balanced_accuracy": round(float(balanced_accuracy_score(target, p > 0.5)), 3),
        "n_positive": int(target.sum()),
        "n_negative": int(len(target) - target.sum()),
    }


def conditioning(models: list[str], pairs: list[str], seed: int, repeats: int) -> dict:
    """Per label pair: the classifier on real test records, then on each model's generated records."""
    data = load_phantom(PhantomConfig())
    train, _, test = data.split()
    fitted = {}
    for name in models:
        ctx = _context(seed)
        model, _ = _model(name, "ci", ctx=ctx)
        began = time.perf_counter()
        fitted[name] = (model.fit(train), round(time.perf_counter() - began, 1), ctx.notes.get("trained_in_this_run"))
    report = {}
    for pair in pairs:
        positive, negative = PAIRS[pair]
        classifier = pair_classifier(train, positive, negative)
        pos, neg = _pair_rows(test, positive, negative)
        target = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
        result = {"real_test_records": _score(classifier, test.signals[np.concatenate([pos, neg])], test.fs, target)}
        rows = np.concatenate([np.tile(pos, repeats), np.tile(neg, repeats)])  # each label vector `repeats` times
        target = np.concatenate([np.ones(len(pos) * repeats), np.zeros(len(neg) * repeats)])
        for name, (model, fit_seconds, trained_now) in fitted.items():
            generated = model.sample(len(rows), labels=test.labels[rows].copy(), seed=seed)
            result[name] = {**_score(classifier, generated, test.fs, target), "fit_seconds": fit_seconds,
                            "trained_in_this_run": trained_now}
        report[f"{positive} vs {negative}"] = result
    return report


def nfe_curve(model_name: str, values: list[int], seed: int) -> dict:
    from ecgbench.metrics.generation import generation_suite

    data = load_phantom(PhantomConfig())
    train, _, test = data.split()
    model, _ = _model(model_name, "ci", ctx=_context(seed))
    model.fit(train)
    curve = {}
    for value in values:
        began = time.perf_counter()
        steps = value if model_name == "sssd" else None
        if model_name != "sssd":
            model.config.nfe = value  # validated: an impossible NFE for the solver is a ConfigError
        generated = model.sample(len(test), labels=test.labels.copy(), steps=steps, seed=seed)
        seconds = time.perf_counter() - began
        metrics = generation_suite(generated, test.signals, test.labels, test.labels, test.fs, seed=0, n_boot=20)
        curve[str(model.nfe)] = {m.name: round(float(m.value), 4) for m in metrics} | {"sample_seconds": round(seconds, 1)}
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("timing")
    p.add_argument("--budget", default="ci", choices=("ci", "paper"))
    p.add_argument("--records", type=int, default=300, help="records to project sampling time for")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p = sub.add_parser("conditioning")
    p.add_argument("--models", nargs="*", default=["sssd", "flowecg", "baseline-template"])
    p.add_argument("--pairs", nargs="+", default=["afib-sr", "stach-sbrad"], choices=sorted(PAIRS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1, help="records generated per test label vector")
    p = sub.add_parser("nfe-curve")
    p.add_argument("--model", default="flowecg", choices=BACKBONE_MODELS)
    p.add_argument("--nfe", type=int, nargs="+", default=[4, 10, 20, 50])
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.command == "timing":
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        result = timing(args.budget, args.records)
    elif args.command == "conditioning":
        result = conditioning(args.models, args.pairs, args.seed, args.repeats)
    else:
        result = nfe_curve(args.model, args.nfe, args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
