"""Every fatal assertion of the official rule files, read from the files themselves.

``fatal_rules(peppol_dir)`` parses the CEN EN 16931 UBL XSLT (1.3.16) and the Peppol BIS 3.0
Schematron (3.0.21) and returns one :class:`Rule` per fatal assertion: its id, layer, context
and text. The mutation corpus (``mutations.py``) must classify each of them; a new or renamed
rule in a rule update fails ``test_rule_coverage.py`` until it is classified.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

XSL = "{http://www.w3.org/1999/XSL/Transform}"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
SCH = "{http://purl.oclc.org/dsdl/schematron}"


@dataclass(frozen=True)
class Rule:
    id: str
    layer: str  # "en16931" or "peppol"
    context: str
    test: str
    text: str


@cache
def fatal_rules(peppol_dir: Path) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    cen = ET.parse(peppol_dir / "rules" / "CEN-EN16931-UBL.xslt").getroot()
    for template in cen.iter(XSL + "template"):
        for fa in template.iter(SVRL + "failed-assert"):
            attrs = {a.get("name"): "".join(a.itertext()) for a in fa.findall(XSL + "attribute")}
            if attrs.get("flag") == "fatal":
                text = " ".join("".join(fa.find(SVRL + "text").itertext()).split())
                rules[attrs["id"]] = Rule(attrs["id"], "en16931", template.get("match") or "", fa.get("test") or "",
                                          text)
    peppol = ET.parse(peppol_dir / "rules" / "PEPPOL-EN16931-UBL.sch").getroot()
    for rule in peppol.iter(SCH + "rule"):
        for a in rule.iter(SCH + "assert"):
            if a.get("flag") == "fatal":
                rules[a.get("id")] = Rule(a.get("id"), "peppol", rule.get("context") or "", a.get("test") or "",
                                          " ".join("".join(a.itertext()).split()))
    return rules
