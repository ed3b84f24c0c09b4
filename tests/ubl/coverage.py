"""Run the mutation corpus: pre-flight on every mutation (cheap), the official validator on the
rendered mutation (to prove it really breaks its rule). Shared by ``test_rule_coverage.py``
and ``benchmarks/preflight_coverage.py``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_maventa.document.findings import DocumentError, Finding
from flask_maventa.document.invoice import SCHEMA_PATH, InvoiceDocument
from flask_maventa.document.preflight import check_document
from flask_maventa.document.ubl import write_ubl

from .mutations import MUTATIONS, NOT_CARRIED, UNCAUGHT, WRITER, Mutation, classify
from .rulebook import fatal_rules

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass
class Outcome:
    rule: str
    mutation: Mutation
    refusals: list[Finding] = field(default_factory=list)
    """Pre-flight (or JSON form) errors naming ``rule``."""
    errors: list[Finding] = field(default_factory=list)
    official: set[str] | None = None
    """Fatal rule ids of the official validator on the rendered mutation (None: not renderable)."""

    @property
    def caught(self) -> bool:
        return bool(self.refusals)


def schema_has(path: str) -> bool:
    """Whether ``path`` (``lines[0].vat_rate``) names a field of the JSON form."""
    node = SCHEMA
    for part in re.findall(r"[^.\[\]]+", path):
        if part.isdigit():
            continue
        node = _resolve(node)
        if node.get("type") == "array" or "items" in node:
            node = _resolve(node["items"])
        props = node.get("properties", {})
        if part not in props:
            return False
        node = props[part]
    return True


def _resolve(node: dict) -> dict:
    for alternative in node.get("anyOf", [node]):
        if "$ref" in alternative:
            return SCHEMA["$defs"][alternative["$ref"].rsplit("/", 1)[1]]
        if alternative.get("type") in ("object", "array"):
            return alternative
    return node


def run_mutation(rule: str, mutation: Mutation, validator=None) -> Outcome:
    outcome = Outcome(rule, mutation)
    try:
        doc = InvoiceDocument.from_json(mutation.apply())
    except DocumentError as e:  # the JSON form itself refuses it (a required field, a fixed pattern)
        outcome.errors = e.findings
    else:
        outcome.errors = [f for f in check_document(doc) if f.severity == "error"]
        if validator is not None:
            xml, _ = write_ubl(doc)
            outcome.official = {f["id"] for f in validator.validate_bytes(xml, str(mutation))["fatal"]}
    outcome.refusals = [f for f in outcome.errors if rule in f.rules and schema_has(f.field)]
    return outcome


def run_all(validator=None) -> list[Outcome]:
    return [run_mutation(rule, m, validator) for rule, mutations in MUTATIONS.items() for m in mutations]


def coverage(peppol_dir: Path, outcomes: list[Outcome]) -> dict:
    """The coverage figure and its parts, as printed by ``benchmarks/preflight_coverage.py``."""
    rules = fatal_rules(peppol_dir)
    classes = classify(set(rules))
    by_rule: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_rule.setdefault(o.rule, []).append(o)
    in_scope = sorted(r for r, c in classes.items() if c in ("mutation", "uncaught"))
    caught = sorted(r for r in in_scope if r in by_rule and all(o.caught for o in by_rule[r]))
    missed = sorted(set(in_scope) - set(caught))
    return {
        "fatal_assertions": len(rules),
        "in_scope": len(in_scope),
        "caught_by_preflight": len(caught),
        "coverage_percent": round(100 * len(caught) / len(in_scope), 2),
        "mutations": len(outcomes),
        "not_caught": {r: UNCAUGHT.get(r, "caught by no check") for r in missed},
        "guaranteed_by_the_writer": len(WRITER),
        "not_carried_by_the_json_form": len(NOT_CARRIED),
        "unclassified": sorted(r for r, c in classes.items() if c == "unclassified"),
        "rule_files": ["CEN EN 16931 UBL 1.3.16", "Peppol BIS Billing 3.0.21"],
    }


__all__ = ["Outcome", "coverage", "run_all", "run_mutation", "schema_has"]
