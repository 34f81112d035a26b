"""Model cards: what a registered model is, where it comes from, how it is configured, how it scored.

A card joins the model's spec (citation, reference, licence, budgets, training data), its
plugin (name, distribution, version), every field of its config class (type, default,
constraints, description) and its best committed results (from the run records).
``ecgbench models show NAME`` prints one; ``ecgbench leaderboard`` keeps the cards of the
models in the records in ``leaderboards/model-cards.json`` so that the site can show them
without the plugins installed (a card whose plugin is absent is carried over unchanged).
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from ecgbench.registry import Registry
from ecgbench.specs import ModelSpec, load_object

CARDS_FILE = "model-cards.json"

_CONSTRAINTS = (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"), ("multiple_of", "multiple of"),
                ("min_length", "min length"), ("max_length", "max length"))


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _constraints(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        for attr, symbol in _CONSTRAINTS:
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def config_fields(config_class: type[BaseModel]) -> list[dict[str, Any]]:
    """Every field of a pydantic config class: name, type, default, constraints, description."""
    fields = []
    for name, info in config_class.model_fields.items():
        default = info.get_default(call_default_factory=True)
        fields.append(
            {
                "name": name,
                "type": _type_name(info.annotation),
                "default": to_jsonable_python(default, fallback=repr),
                "constraints": _constraints(info.metadata),
                "description": info.description or "",
            }
        )
    return fields


def spec_card(spec: ModelSpec, registry: Registry) -> dict[str, Any]:
    """The card of a registered model, without results (JSON-serialisable, stable key order)."""
    plugin = registry.plugin_of("model", spec.name)
    config_class = load_object(spec.config)
    return {
        "name": spec.name,
        "aliases": list(spec.aliases),
        "task": spec.task,
        "summary": spec.summary,
        "citation": spec.citation,
        "reference": spec.reference,
        "license": spec.license,
        "training_datasets": list(spec.training_datasets),
        "wiring_check": spec.wiring_check,
        "plugin": {"name": plugin.name, "dist": plugin.dist, "version": plugin.version},
        "config_class": spec.config,
        "config_doc": (config_class.__doc__ or "").strip(),
        "budgets": to_jsonable_python(spec.budgets, fallback=repr),
        "weights": None if spec.weights is None else {
            "accepts": list(spec.weights.accepts),
            "adaptable": list(spec.weights.adaptable),
            "converts": sorted(spec.weights.converters),
        },
        "config": config_fields(config_class),
    }


def refresh_cards(model_names: list[str], previous: dict[str, dict], registry: Registry | None) -> dict[str, dict]:
    """Cards for ``model_names``: fresh from the registry where the model is installed, else
    the previous card (its plugin is absent here, or its config class cannot be imported), else none."""
    cards = {}
    for name in sorted(set(model_names)):
        card = None
        if registry is not None and name in registry.specs["model"]:
            try:
                card = spec_card(registry.model(name), registry)
            except Exception as exc:  # a config class that cannot be imported here must not stop the tables
                print(f"model card of {name!r} not refreshed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if card is None and name in previous:
            card = previous[name]
        if card is not None:
            cards[name] = card
    return cards


def read_cards(path: Path) -> dict[str, dict]:
    """The cards file of a leaderboards folder ({} when absent)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def render_cards(cards: dict[str, dict]) -> str:
    return json.dumps(cards, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# -- results -------------------------------------------------------------------------------


def best_results(model: str, sections: dict[str, list]) -> list[dict[str, Any]]:
    """The model's best row in every leaderboard section it appears in (rank order first)."""
    from ecgbench.leaderboard import fmt

    found = []
    for task, task_sections in sections.items():
        for section in task_sections:
            rows = [r for r in section.rows if r.model == model]
            if not rows:
                continue
            row = rows[0]  # rows are in rank order
            value, lo, hi = row.metric(section.main_metric)
            found.append(
                {
                    "task": task,
                    "dataset": section.dataset,
                    "budget": section.budget,
                    "data_fingerprint": section.fingerprint,
                    "row": row.label,
                    "rank": row.rank,
                    "of": sum(not r.record.model.wiring_check for r in section.rows),
                    "metric": section.main_metric,
                    "higher_is_better": section.higher_is_better,
                    "value": value,
                    "ci_low": lo,
                    "ci_high": hi,
                    "text": fmt(value) if lo is None else f"{fmt(value)} [{fmt(lo)}, {fmt(hi)}]",
                    "run_id": row.record.run_id,
                }
            )
    return found


# -- text ----------------------------------------------------------------------------------


def _budget_value(card: dict, budget: str, field: str) -> str | None:
    overrides = card["budgets"].get(budget, {})
    return json.dumps(overrides[field]) if field in overrides else None


def render_text(card: dict[str, Any], results: list[dict[str, Any]], results_dir: Path) -> str:
    """The card as ``ecgbench models show`` prints it."""
    lines = [f"{card['name']} — {card['summary']}", ""]
    plugin = card["plugin"]
    facts = [
        ("task", card["task"]),
        ("aliases", ", ".join(card["aliases"]) or "—"),
        ("plugin", f"{plugin['name']} ({plugin['dist']} {plugin['version']})"),
        ("citation", card["citation"] or "—"),
        ("reference", card["reference"] or "—"),
        ("licence", card["license"] or "—"),
        ("trained on", ", ".join(card["training_datasets"]) or "nothing shipped: it trains in the run"),
    ]
    weights = card.get("weights")
    if weights:
        text = f"--weights takes {', '.join(weights['accepts'])}"
        if weights["converts"]:
            text += f"; `ecgbench weights convert --from` {', '.join(weights['converts'])}"
        if weights["adaptable"]:
            text += f"; settings a run may change: {', '.join(weights['adaptable'])}"
        facts.append(("weights", text))
    if card["wiring_check"]:
        facts.append(("wiring check", "yes: its scores only show that the pipeline runs; never ranked"))
    width = max(len(k) for k, _ in facts)
    for key, value in facts:
        wrapped = textwrap.wrap(str(value), 96 - width) or [""]
        lines.append(f"{key:<{width}}  {wrapped[0]}")
        lines += [f"{'':<{width}}  {more}" for more in wrapped[1:]]
    lines += ["", "budgets (overrides of the defaults below)"]
    for budget, overrides in card["budgets"].items():
        text = ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items()) or "the defaults"
        lines += textwrap.wrap(text, 96, initial_indent=f"  {budget:<6} ", subsequent_indent=" " * 9)
    lines += ["", f"config ({card['config_class']})"]
    for field in card["config"]:
        head = f"  {field['name']}: {field['type']} = {json.dumps(field['default'])}"
        budgets = [f"{b} {v}" for b in card["budgets"] if (v := _budget_value(card, b, field["name"])) is not None]
        if budgets:
            head += f"  ({'; '.join(budgets)})"
        if field["constraints"]:
            head += f"  [{field['constraints']}]"
        lines.append(head)
        lines += textwrap.wrap(field["description"], 96, initial_indent=" " * 6, subsequent_indent=" " * 6)
    lines += ["", f"best committed results ({results_dir}/)"]
    if not results:
        lines.append("  none: no completed run of this model is on a leaderboard")
    for r in results:
        arrow = "↑" if r["higher_is_better"] else "↓"
        lines.append(
            f"  {r['task']} · {r['dataset']} · budget {r['budget']}: rank {r['rank']} of {r['of']}, "
            f"{r['metric']} {arrow} {r['text']}  ({r['row']}, run {r['run_id']})"
        )
    return "\n".join(lines) + "\n"


def card_json(card: dict[str, Any], results: list[dict[str, Any]]) -> str:
    return json.dumps({**card, "best_results": results}, indent=1, ensure_ascii=False, default=str) + "\n"
