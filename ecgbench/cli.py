"""The ``ecgbench`` command. Thin: it parses options and calls the modules that do the work.

Exit codes: 0 done; 2 usage error (unknown name, bad option or setting, a folder that cannot
be written or does not exist); 3 a model broke its task contract; 4 the run failed otherwise
(the failed record is still written), or ``leaderboard`` had to leave out damaged records; 5 a
check found differences (``leaderboard --check``, ``validate``).
A run's exit code is decided by the run alone: a problem of the leaderboard rebuild that follows
it is a warning naming the file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ecgbench.errors import ConfigError, DataError, ECGBenchError, UnknownNameError

EXIT_USAGE, EXIT_CONTRACT, EXIT_FAILED, EXIT_CHECK = 2, 3, 4, 5
#: The project's own results and leaderboards folders (relative to the working directory).
RESULTS, LEADERBOARDS = Path("results"), Path("leaderboards")


def _registry():
    from ecgbench.registry import Registry

    return Registry()


# -- listings -------------------------------------------------------------------------------


def cmd_plugins(args: argparse.Namespace) -> int:
    registry = _registry()
    if args.requirements:
        for p in registry.plugins:
            if p.status == "ok" and p.name != "builtin":
                print(f"{p.dist}=={p.version}")
        return 0
    rows = [
        {"name": p.name, "dist": p.dist, "version": p.version, "status": p.status, "error": p.error,
         "registered": p.registered}
        for p in registry.plugins
    ]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        names = "; ".join(f"{kind}s: {', '.join(items)}" for kind, items in row["registered"].items() if items)
        line = f"{row['name']:<14} {row['dist']} {row['version']:<10} {row['status']:<12} {names}"
        print(line.rstrip())
        if row["error"]:
            print(f"{'':14} reason: {row['error']}")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    registry = _registry()
    for spec in sorted(registry.specs["task"].values(), key=lambda s: s.name):
        print(f"{spec.name:<20} v{spec.version}  main metric {spec.main_metric:<12} {spec.summary}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    if getattr(args, "models_command", None) == "show":
        return cmd_models_show(args)
    registry = _registry()
    if args.task:
        registry.task(args.task)
    for spec in registry.models(args.task):
        aliases = f" (aka {', '.join(spec.aliases)})" if spec.aliases else ""
        owner = registry.owner[("model", spec.name)]
        rivals = registry.contested.get(("model", spec.name))
        clash = f" (name also claimed by {', '.join(rivals)}: see `ecgbench plugins`)" if rivals else ""
        print(f"{spec.name:<22} {spec.task:<20} [{owner}] {spec.summary}{aliases}{clash}")
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    from ecgbench.leaderboard import build_sections
    from ecgbench.model_card import best_results, card_json, render_text, spec_card
    from ecgbench.records import scan_results

    registry = _registry()
    spec = registry.model(args.name)
    card = spec_card(spec, registry)
    records = [r for _, r in scan_results(args.results).records] if args.results.is_dir() else []
    results = best_results(spec.name, build_sections(records))
    print(card_json(card, results) if args.json else render_text(card, results, args.results), end="")
    return 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from ecgbench.scaffold import write_plugin

    registry = _registry()
    task = registry.task(args.task).name
    folder = write_plugin(args.name, task, args.out)
    print(f"wrote {folder}/")
    print(f"next: pip install -e {folder} && pytest {folder}/tests && ecgbench validate --plugin {args.name}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    registry = _registry()
    for spec in sorted(registry.specs["dataset"].values(), key=lambda s: s.name):
        needs = " (--data-path)" if spec.needs_path else ""
        print(f"{spec.name:<12} {spec.summary}{needs}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ecgbench.records import record_json_schema

    print(json.dumps(record_json_schema(), indent=1))
    return 0


# -- run ------------------------------------------------------------------------------------


def _print_run(outcome) -> None:
    record = outcome.record
    print(f"\n{record.task.name} · {record.model.name}{' [' + record.model.variant + ']' if record.model.variant else ''} "
          f"· {record.dataset.name if record.dataset else '?'} · budget {record.budget} · seed {record.seed}")
    if record.metrics:
        from ecgbench.leaderboard import fmt

        width = max(len(m.name) for m in record.metrics)
        for m in record.metrics:
            ci = f"  [{fmt(m.ci_low)}, {fmt(m.ci_high)}]" if m.ci_low is not None else ""
            arrow = {True: "↑", False: "↓", None: " "}[m.higher_is_better]
            floor = m.params.get("floor")
            floor_text = f"   real data {fmt(floor.get('value'))}" if isinstance(floor, dict) else ""
            print(f"  {m.name:<{width}} {arrow} {fmt(m.value):>10}{ci}{floor_text}{'   (main)' if m.is_main else ''}")
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in record.phases.items())
    print(f"  wall {record.wall_seconds:.1f}s ({phases})")
    for error in record.errors:
        print(f"  FAILED in {error.stage}: {error.type}: {error.message}", file=sys.stderr)
    print(f"record: {outcome.path}")


def _leaderboards_of(args: argparse.Namespace) -> Path | None:
    """The leaderboards a run rebuilds: the ones named by --leaderboards, else the project's own
    when the run writes to the project's results folder, else none (tables built from another
    results tree would replace the project's rows with that tree's)."""
    if not args.rebuild_leaderboard:
        return None
    if args.leaderboards is not None:
        return args.leaderboards
    return LEADERBOARDS if args.out.resolve() == RESULTS.resolve() else None


def _rebuild_after_run(results: Path, leaderboards: Path) -> None:
    """Rebuild the tables; whatever goes wrong is a warning that names the file, never the run's failure."""
    from ecgbench.leaderboard import build

    try:
        rebuild = build(results, leaderboards)
    except (ECGBenchError, OSError) as exc:
        print(f"warning: leaderboards in {leaderboards}/ not rebuilt: {exc}", file=sys.stderr)
        return
    print(f"leaderboards rebuilt in {leaderboards}/")
    for problem in rebuild.damaged:
        print(f"warning: left out of the leaderboards: {problem}", file=sys.stderr)
    for orphan in rebuild.orphans:
        print(f"warning: {orphan}", file=sys.stderr)


def _launch_processes(nproc: int, argv: list[str]) -> int:
    """``ecgbench run --nproc N ...``: start N processes of the same run on this machine with
    torch's elastic launcher (what ``torchrun --standalone --nproc-per-node N -m ecgbench run ...``
    does); each runs ``argv`` without ``--nproc``."""
    from ecgbench.runner import launched_processes

    if launched_processes() > 1:
        raise ConfigError(f"--nproc {nproc}: this process was launched as one of {os.environ['WORLD_SIZE']} "
                          "already (torchrun); give the number of processes to the launcher only")
    try:
        from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
        from torch.distributed.run import main as torchrun
    except ImportError:
        raise ConfigError("--nproc needs torch (torch.distributed), which is not installed") from None
    try:
        torchrun(["--standalone", "--nproc-per-node", str(nproc), "-m", "ecgbench", *argv])
    except ChildFailedError as exc:
        print(f"error: a process of the run failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            out.append(item)
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from ecgbench import __version__
    from ecgbench.runner import RunRequest, execute

    if args.nproc is not None and args.nproc < 1:
        raise ConfigError(f"--nproc {args.nproc}: the number of processes is at least 1")
    if args.nproc and args.nproc > 1:
        return _launch_processes(args.nproc, _without_nproc(args.argv))
    registry = _registry()
    plugins = ", ".join(f"{d}-{v}" for d, v in sorted(registry.versions().items()))
    if os.environ.get("RANK", "0") == "0":  # one line per run, not per process
        print(f"ecgbench {__version__} | plugins: {plugins}", file=sys.stderr)
    leaderboards = _leaderboards_of(args)
    request = RunRequest(
        task=args.task, model=args.plugin, dataset=args.dataset, data_path=args.data_path, fs=args.fs,
        folds=args.folds, skip_bad=args.skip_bad, budget=args.budget, seed=args.seed, device=args.device,
        sets=args.set or [], results=args.out, leaderboards=leaderboards, quiet=args.quiet,
        argv=args.argv, weights=args.weights,
    )
    outcome = execute(request, registry)
    if outcome is None:  # a rank other than 0 of a multi-process run: it trained, rank 0 reports
        return 0
    _print_run(outcome)
    if outcome.record.status == "completed":
        if leaderboards is not None:
            _rebuild_after_run(args.out, leaderboards)
        elif args.rebuild_leaderboard:
            print(f"leaderboards not rebuilt: {args.out} is not the project's {RESULTS}/ folder; "
                  f"`ecgbench leaderboard --results {args.out} --out DIR` builds tables from it")
        return 0
    return EXIT_CONTRACT if any(e.type == "ContractViolation" for e in outcome.record.errors) else EXIT_FAILED


def cmd_validate(args: argparse.Namespace) -> int:
    from ecgbench.runner import parse_sets
    from ecgbench.validate import validate_model

    registry = _registry()
    spec = registry.model(args.plugin)
    if args.task and spec.task != registry.task(args.task).name:
        raise ConfigError(f"model {spec.name!r} implements {spec.task!r}, not {args.task!r}")
    checks = validate_model(spec.name, parse_sets(args.set or [])["model"], registry=registry)
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.clause}{': ' + check.detail if check.detail else ''}")
    return 0 if all(c.ok for c in checks) else EXIT_CHECK


# -- weights --------------------------------------------------------------------------------


def cmd_weights_convert(args: argparse.Namespace) -> int:
    from ecgbench.conversion import convert_checkpoint
    from ecgbench.weights import n_parameters, read_header

    path, metadata = convert_checkpoint(_registry(), args.format, args.source, args.out)
    facts = metadata.converted_from.facts if metadata.converted_from else {}
    print(f"{path}: {metadata.contents} weights of {metadata.architecture} for model {metadata.model}, "
          f"{n_parameters(path):,} values in {len(read_header(path)[1])} tensors")
    for key in sorted(facts):
        if not isinstance(facts[key], dict):
            print(f"  {key}: {facts[key]}")
    config = " ".join(f"--set {k}={json.dumps(v)}" for k, v in sorted(metadata.config.items()))
    print(f"evaluate with: ecgbench run --plugin {metadata.model} --weights {path} (config: {config})")
    return 0


def cmd_weights_formats(args: argparse.Namespace) -> int:
    from ecgbench.conversion import converters

    for fmt, (spec, target) in converters(_registry()).items():
        print(f"{fmt:<14} -> {spec.name:<22} {target}")
    return 0


def cmd_weights_show(args: argparse.Namespace) -> int:
    from ecgbench.records import sha256_file
    from ecgbench.weights import n_parameters, read_metadata

    metadata = read_metadata(args.file)
    doc = {**metadata.model_dump(mode="json"), "sha256": sha256_file(args.file), "values": n_parameters(args.file)}
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    for key, value in doc.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
    return 0


# -- leaderboard, score, data, phenotype ----------------------------------------------------


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from ecgbench.leaderboard import build, check

    site = args.html if args.html is not None else args.out / "site"
    if args.check:
        result = check(args.results, args.out, site)
        for orphan in result.orphans:
            print(f"warning: {orphan}", file=sys.stderr)
        for problem in result.damaged:
            print(f"damaged record: {problem}", file=sys.stderr)
        if result.differing:
            shown = ", ".join(result.differing[:20])
            if len(result.differing) > 20:
                shown += f" and {len(result.differing) - 20} more"
            print(f"{args.out}/ or {site}/ differs from a rebuild of {args.results}/: {shown}", file=sys.stderr)
            print("run `ecgbench leaderboard` and commit the result", file=sys.stderr)
        if not result.ok:
            return EXIT_CHECK
        print(f"{args.out}/ and {site}/ match a rebuild from {args.results}/")
        return 0
    rebuild = build(args.results, args.out, site)
    for path in rebuild.written:
        if not path.is_relative_to(site):
            print(path)
    pages = [p for p in rebuild.written if p.is_relative_to(site)]
    size = sum(p.stat().st_size for p in pages)
    print(f"{site / 'index.html'} ({len(pages)} files, {size / 1e6:.1f} MB)")
    for orphan in rebuild.orphans:
        print(f"warning: {orphan}", file=sys.stderr)
    for problem in rebuild.damaged:
        print(f"error: left out of the leaderboards: {problem}", file=sys.stderr)
    return EXIT_FAILED if rebuild.damaged else 0


def cmd_score(args: argparse.Namespace) -> int:
    from ecgbench.scoring import score_samples

    metrics = score_samples(args.task, args.samples, args.bootstrap_ids, seed=args.seed)
    if args.json:
        print(json.dumps([m.__dict__ for m in metrics], indent=1, default=str))
    else:
        from ecgbench.leaderboard import fmt

        for m in metrics:
            ci = f" [{fmt(m.ci_low)}, {fmt(m.ci_high)}]" if m.ci_low is not None else ""
            print(f"{m.name:<28} {fmt(m.value):>10}{ci}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ecgbench.comparison import compare_classifiers
    from ecgbench.leaderboard import fmt

    result = compare_classifiers(args.a, args.b, n_boot=args.n_boot, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
        return 0
    print(f"{result['metric']} on {result['n_records']} shared records, {args.n_boot} paired resamples")
    print(f"  a  {fmt(result['value_a']):>8}  {args.a}")
    print(f"  b  {fmt(result['value_b']):>8}  {args.b}")
    print(f"  a - b = {fmt(result['difference'])} [{fmt(result['ci_low'])}, {fmt(result['ci_high'])}], p = {fmt(result['p_value'])}")
    return 0


def _load_dataset_from_args(args: argparse.Namespace):
    from ecgbench.runner import dataset_config, parse_sets
    from ecgbench.specs import load_object

    spec = _registry().dataset(args.name)
    sets = parse_sets([f"data.{item}" for item in getattr(args, "set", None) or []])["data"]
    config = dataset_config(spec, sets, args.data_path, args.fs, getattr(args, "skip_bad", False))
    return load_object(spec.factory)(config)


def cmd_data_summary(args: argparse.Namespace) -> int:
    from ecgbench.data.summary import summarize

    summary = summarize(_load_dataset_from_args(args))
    if args.json:
        print(json.dumps(summary, indent=1, default=str))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


def cmd_data_export(args: argparse.Namespace) -> int:
    from ecgbench.data.export import export_ptbxl_layout
    from ecgbench.data.phantom import PhantomConfig
    from ecgbench.runner import build_config, parse_sets

    sets = parse_sets([f"data.{item}" for item in args.set or []])["data"]
    for key in ("n_records", "fs", "seed", "cache"):
        if key in sets:
            raise ConfigError(f"--set {key}: give it as an option of `data export` (--n, --fs, --seed)")
    config = build_config(PhantomConfig, {**sets, "n_records": args.n, "fs": args.fs, "seed": args.seed,
                                          "cache": False}, "phantom export", exact=sets)
    progress = None
    if not args.quiet:
        from tqdm.auto import tqdm

        def progress(items, desc, total):
            return tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)

    summary = export_ptbxl_layout(config, args.out, progress)
    print(f"{summary.path}: {summary.n_records} phantom records at {summary.fs} Hz in the PTB-XL layout "
          f"({summary.bytes_written / 1e6:.0f} MB); read it with --dataset ptbxl --data-path {summary.path} "
          f"--fs {summary.fs}")
    return 0


def cmd_data_plot(args: argparse.Namespace) -> int:
    import numpy as np

    from ecgbench.data.labels import SCP_CODES
    from ecgbench.data.plot import plot_12lead

    data = _load_dataset_from_args(args)
    ids = data.record_ids.astype(str).tolist()
    wanted = args.record or ids[:1]
    args.out.mkdir(parents=True, exist_ok=True)
    for record_id in wanted:
        if record_id not in ids:
            raise DataError(f"dataset {data.name!r} has no record {record_id!r}")
        i = ids.index(record_id)
        codes = [SCP_CODES[j] for j in np.flatnonzero(data.labels[i])]
        path = args.out / f"{record_id.replace(':', '_')}.png"
        plot_12lead(data.signals[i], data.fs, path, title=record_id, labels=codes)
        print(path)
    return 0


def cmd_phenotype(args: argparse.Namespace) -> int:
    from ecgbench.phenotype_run import run_phenotype_command

    return run_phenotype_command(args, _registry())


# -- parser ---------------------------------------------------------------------------------


def _seed(text: str) -> int:
    """--seed: a whole number from 0 to 2**32 - 1 (what numpy, torch and scikit-learn all take)."""
    from ecgbench.runner import check_seed

    try:
        return check_seed(int(text))
    except (ValueError, ConfigError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed: use a whole number from 0 to {2**32 - 1}") from None


def _fold_override(text: str) -> str:
    """--folds: checked here, so that a malformed override stops the command before any work."""
    from ecgbench.data.dataset import FoldSplit

    try:
        FoldSplit.parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-path", type=Path, help="local copy of the dataset (ptbxl, wfdb-dir)")
    p.add_argument("--fs", type=int, help="sampling rate in Hz (100 or 500 for ptbxl)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable records and report them")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecgbench", description="ECG model registry and evaluation harness")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="installed plugins, their status and what they register")
    p.add_argument("--json", action="store_true")
    p.add_argument("--requirements", action="store_true", help="print dist==version pins")
    p.set_defaults(func=cmd_plugins)
    sub.add_parser("tasks", help="the task contracts").set_defaults(func=cmd_tasks)
    p = sub.add_parser("models", help="registered models; `models show NAME` prints a model card")
    p.add_argument("--task")
    p.set_defaults(func=cmd_models)
    models_sub = p.add_subparsers(dest="models_command")
    q = models_sub.add_parser("show", help="a model card: citation, licence, budgets, settings, best results")
    q.add_argument("name", help="model name or alias")
    q.add_argument("--results", type=Path, default=Path("results"), help="results folder for the best results")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models)
    sub.add_parser("datasets", help="registered datasets").set_defaults(func=cmd_datasets)
    sub.add_parser("schema", help="JSON Schema of the run record").set_defaults(func=cmd_schema)

    p = sub.add_parser("run", help="run one model on one task and write its record")
    p.add_argument("--task", required=True)
    p.add_argument("--plugin", "--model", dest="plugin", required=True, help="model name or alias")
    p.add_argument("--dataset", help="dataset name (default: the task's, phantom)")
    _add_data_options(p)
    p.add_argument("--folds", type=_fold_override, help="fold override, e.g. train=1-6,val=7,test=8")
    p.add_argument("--budget", choices=("ci", "paper"), default="ci")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a model setting (task.KEY / data.KEY for the evaluator / dataset)")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    p.add_argument("--leaderboards", type=Path,
                   help="leaderboards to rebuild after the run (default: leaderboards/ when --out is "
                   "results/, else none)")
    p.add_argument("--no-leaderboard", dest="rebuild_leaderboard", action="store_false",
                   help="do not rebuild the leaderboards after the run")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--weights", type=Path, metavar="FILE",
                   help="evaluate these weights (an ecgbench weights file) instead of training; their config "
                   "must match the run's, --set adapts the settings the model allows (e.g. nfe)")
    p.add_argument("--nproc", type=int, metavar="N",
                   help="train with N processes on this machine (torch.distributed; launches them with torch's "
                   "elastic launcher, like `torchrun --standalone --nproc-per-node N -m ecgbench run ...`)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("weights", help="weights files: convert published checkpoints, show what a file holds")
    weights_sub = p.add_subparsers(dest="weights_command", required=True)
    q = weights_sub.add_parser("convert", help="convert a published checkpoint into an ecgbench weights file")
    q.add_argument("--from", dest="format", required=True, metavar="FORMAT",
                   help="the checkpoint's format (`ecgbench weights formats` lists them)")
    q.add_argument("source", type=Path, metavar="IN", help="the original checkpoint (read without unpickling code)")
    q.add_argument("out", type=Path, metavar="OUT", help="the weights file to write (.safetensors)")
    q.set_defaults(func=cmd_weights_convert)
    q = weights_sub.add_parser("formats", help="the checkpoint formats the installed plugins convert")
    q.set_defaults(func=cmd_weights_formats)
    q = weights_sub.add_parser("show", help="a weights file's metadata: model, config, training data, provenance")
    q.add_argument("file", type=Path)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_weights_show)

    p = sub.add_parser("new-plugin", help="write a pip-installable plugin package to start from")
    p.add_argument("name", help="the model's name (lower case, digits, '-'), e.g. mymodel")
    p.add_argument("--task", required=True, help="the task the model implements")
    p.add_argument("--out", type=Path, default=Path("."), help="folder to write ecgbench-NAME/ into")
    p.set_defaults(func=cmd_new_plugin)

    p = sub.add_parser("validate", help="check a model's task contract on a tiny phantom batch")
    p.add_argument("--plugin", "--model", dest="plugin", required=True)
    p.add_argument("--task")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("leaderboard", help="rebuild leaderboards/ and its site from results/")
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--out", type=Path, default=LEADERBOARDS)
    p.add_argument("--html", type=Path, metavar="DIR",
                   help="where the static site goes (default: OUT/site); open DIR/index.html")
    p.add_argument("--check", action="store_true",
                   help="fail when the committed tables, model cards or site differ from a rebuild")
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("score", help="score a samples file made elsewhere with a task's evaluator")
    p.add_argument("--task", required=True)
    p.add_argument("--samples", type=Path, required=True)
    p.add_argument("--bootstrap-ids", type=Path, help=".npy of fixed bootstrap resample indices [n_boot, n]")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("compare", help="paired bootstrap of two classifiers' macro AUROC on the same test records")
    p.add_argument("a", type=Path, help="classify-71-labels samples file of model a")
    p.add_argument("b", type=Path, help="samples file of model b")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("data", help="look at a dataset")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    q = data_sub.add_parser("summary", help="record count, rate, folds, label prevalence, skipped records")
    q.add_argument("name")
    _add_data_options(q)
    q.add_argument("--set", action="append", metavar="KEY=VALUE", help="a loader setting, e.g. window_s=30")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_data_summary)
    q = data_sub.add_parser("export", help="write the phantom cohort as a PTB-XL-shaped WFDB folder")
    q.add_argument("name", choices=("phantom",), help="the dataset to write (the phantom)")
    q.add_argument("--layout", choices=("ptbxl",), required=True, help="the folder layout to write")
    q.add_argument("--n", type=int, required=True, help="number of records (PTB-XL v1.0.3: 21799)")
    q.add_argument("--fs", type=int, choices=(100, 500), default=100, help="sampling rate: records100 or records500")
    q.add_argument("--seed", type=_seed, default=0)
    q.add_argument("--set", action="append", metavar="KEY=VALUE", help="a phantom setting, e.g. noise=0.5")
    q.add_argument("--out", type=Path, required=True, help="the folder to create (must not exist)")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=cmd_data_export)
    q = data_sub.add_parser("plot", help="draw records in the 12-lead layout (PNG)")
    q.add_argument("name")
    _add_data_options(q)
    q.add_argument("--record", action="append", help="record id (repeatable; default: the first record)")
    q.add_argument("--set", action="append", metavar="KEY=VALUE", help="a loader setting, e.g. n_records=100")
    q.add_argument("--out", type=Path, default=Path("plots"))
    q.set_defaults(func=cmd_data_plot)

    p = sub.add_parser("phenotype", help="associate prototype similarities with outcomes")
    p.add_argument("--plugin", "--model", dest="plugin", required=True)
    p.add_argument("--outcomes", type=Path, required=True, help="CSV: record_id plus one 0/1 column per outcome")
    p.add_argument("--dataset")
    _add_data_options(p)
    p.add_argument("--folds", type=_fold_override)
    p.add_argument("--budget", choices=("ci", "paper"), default="ci")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, default=Path("phenotypes"))
    p.set_defaults(func=cmd_phenotype)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.func(args)
    except (UnknownNameError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ECGBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
