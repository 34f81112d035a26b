"""``ecgbench new-plugin NAME --task TASK``: write a pip-installable plugin package to start from.

The package holds a ``pyproject.toml`` with the entry point, a ``plugin.py`` registering the
``ModelSpec``, a config class and a trivial but honest model for the task (it passes the
contract and says plainly what it does), a README, and the one-line contract test.
"""

from __future__ import annotations

import re
from pathlib import Path

from ecgbench.errors import ConfigError

TEMPLATES = Path(__file__).parent / "templates"
#: The starting model written for each task, and what it honestly is.
MODELS = {
    "generate": ("model_generate.py.j2", "GenerateContract",
                 "the training set's mean record plus white noise of each lead's spread (limb leads derived)"),
    "classify-71-labels": ("model_classify.py.j2", "ClassifyContract",
                           "every record gets each label's smoothed training prevalence (macro AUROC 0.5)"),
    "measure-intervals": ("model_intervals.py.j2", "IntervalsContract",
                          "heart rate from R peaks; abstains on PR, QRS and QT"),
    "interpret-image": ("model_image.py.j2", "ImageContract",
                        "answers each question with its most frequent training answer"),
}
_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")


def plugin_files(name: str, task: str) -> dict[str, str]:
    """Relative path -> text of every file of the plugin package ``ecgbench-<name>``."""
    if not _NAME.match(name) or "--" in name:
        raise ConfigError(f"plugin name {name!r}: use lower case letters, digits and single '-', e.g. 'mymodel'")
    if task not in MODELS:
        raise ConfigError(f"no starting model for task {task!r}; new-plugin writes one for {', '.join(MODELS)}")
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True)
    template, contract, what = MODELS[task]
    package = "ecgbench_" + name.replace("-", "_")
    context = {
        "name": name, "task": task, "package": package, "dist": f"ecgbench-{name}", "contract": contract,
        "what": what, "config_class": "".join(part.title() for part in name.split("-")) + "Config",
    }
    return {
        "pyproject.toml": env.get_template("pyproject.toml.j2").render(context),
        "README.md": env.get_template("README.md.j2").render(context),
        f"src/{package}/__init__.py": f'"""The ecgbench plugin {name}: {what}."""\n',
        f"src/{package}/plugin.py": env.get_template("plugin.py.j2").render(context),
        f"src/{package}/model.py": env.get_template(template).render(context),
        f"tests/test_{package}_contract.py": env.get_template("test_contract.py.j2").render(context),
    }


def write_plugin(name: str, task: str, out: Path) -> Path:
    """Write ``out/ecgbench-<name>/``; refuses to touch a folder that exists."""
    files = plugin_files(name, task)
    folder = Path(out) / f"ecgbench-{name}"
    if folder.exists():
        raise ConfigError(f"{folder} exists already; choose another name or --out folder")
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder
