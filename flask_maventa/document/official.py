"""The official EN 16931 and Peppol BIS 3.0 rules (Schematron XSLTs run by saxonche) over the UBL we write.

:func:`preflight` is our own checks and then, when ``rules_dir`` is given (``MAVENTA_PEPPOL_RULES_DIR``,
the ``peppol`` extra), the official rules; their findings are mapped back to the JSON-form field the
failing element was written from.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .findings import Finding, Severity, errors
from .invoice import InvoiceDocument
from .markers import N_
from .preflight import check_document
from .preflight.common import _f, where
from .ubl import write_ubl

if TYPE_CHECKING:
    from lxml import etree


OFFICIAL_RULE_FILES = ("rules/CEN-EN16931-UBL.xslt", "rules/PEPPOL-EN16931-UBL.xslt")
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
class _SaxonProcessor(Protocol):
    """What we use of saxonche's ``PySaxonProcessor`` (a compiled module without types)."""

    def parse_xml(self, *, xml_text: str) -> object: ...


class _SaxonExecutable(Protocol):
    """What we use of a compiled stylesheet (saxonche's ``PyXsltExecutable``)."""

    def transform_to_string(self, *, xdm_node: object) -> str: ...


_compiled: dict[str, tuple[_SaxonProcessor, list[_SaxonExecutable]]] = {}
_compile_lock = threading.Lock()


def preflight(doc: InvoiceDocument, *, rules_dir: str | Path | None = None,
              pdf: bytes | None = None) -> list[Finding]:
    """All findings for ``doc``: our own checks, then (when ``rules_dir`` is given, saxonche is
    installed and our checks passed) the official EN 16931 and Peppol BIS 3.0 rules."""
    findings = check_document(doc, pdf=pdf)
    if rules_dir is None or errors(findings):
        return findings
    xml, origin = write_ubl(doc, pdf=pdf)
    return findings + official_findings(xml, rules_dir, origin=origin)


def official_findings(xml: bytes, rules_dir: str | Path, *, origin: Mapping[str, str] | None = None) -> list[Finding]:
    """Run the official schematron XSLTs from ``rules_dir`` over ``xml`` (compiled once per process).

    Each failed assertion becomes a finding on the JSON-form field the failing element was
    written from (``origin``, from :func:`flask_maventa.document.ubl.write_ubl`), with a hint saying where
    to change it; the official rule text is kept as the message's detail.
    """
    try:
        processor, executables = _executables(Path(rules_dir))
    except ImportError:
        return [_f("OFFICIAL_RULES_UNAVAILABLE", "", N_("The official Peppol rules could not be run: "
                   "the saxonche package is not installed."),
                   N_("Install flask-maventa[peppol] or unset MAVENTA_PEPPOL_RULES_DIR."), severity="warning")]
    from lxml import etree

    tree = etree.fromstring(xml)
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    found = []
    for exe in executables:
        try:
            svrl = exe.transform_to_string(xdm_node=node)
        except Exception as e:  # noqa: BLE001 - a dynamic error inside a rule fails the document, as officially
            found.append(_f("OFFICIAL-RUNTIME-ERROR", "", N_("The official rules failed on this invoice: {error}"),
                            N_("Check the amounts and dates of the invoice."), error=" ".join(str(e).split())))
            continue
        for fa in etree.fromstring(svrl.encode("utf-8")).iter(_SVRL + "failed-assert", _SVRL + "successful-report"):
            rule = fa.get("id") or "(no id)"
            text = " ".join(" ".join(t.itertext()) for t in fa.findall(_SVRL + "text")).split()
            message = re.sub(r"^\[" + re.escape(rule) + r"\]\s*-?\s*", "", " ".join(text))
            severity: Severity = "warning" if (fa.get("flag") or "fatal").lower() == "warning" else "error"
            field = _field_of(tree, fa.get("location") or "", origin or {})
            found.append(Finding(rule, severity, field, N_("The e-invoice breaks the Peppol rule {rule}: {text}"),
                                 N_("Check {field} — {where}."),
                                 {"rule": rule, "text": message, "field": field or N_("the invoice"),
                                  "where": where(field)}, (rule,)))
    return found


def _field_of(tree: etree._Element, location: str, origin: Mapping[str, str]) -> str:
    """The JSON-form field of the element an SVRL ``location`` points at (its nearest written ancestor)."""
    steps = re.findall(r"\*:([A-Za-z]+)(?:\[namespace-uri\(\)='[^']*'\])?\[(\d+)\]", location)
    if not steps or not origin:
        return ""
    path = "/" + "/".join(f"*[local-name()='{name}'][{index}]" for name, index in steps)
    try:
        hits = tree.getroottree().xpath(path)
    except Exception:  # noqa: BLE001 - an unusual location: report on the document
        return ""
    element = hits[0] if hits else None
    while element is not None:
        field = origin.get(element.getroottree().getpath(element))
        if field:
            return field
        element = element.getparent()
    return ""


def _executables(rules_dir: Path) -> tuple[_SaxonProcessor, list[_SaxonExecutable]]:
    key = str(rules_dir.resolve())
    with _compile_lock:
        if key not in _compiled:
            from saxonche import PySaxonProcessor

            missing = [p for p in OFFICIAL_RULE_FILES if not (rules_dir / p).is_file()]
            if missing:
                raise FileNotFoundError(f"MAVENTA_PEPPOL_RULES_DIR={rules_dir} lacks {', '.join(missing)}")
            processor = PySaxonProcessor(license=False)
            xslt = processor.new_xslt30_processor()
            _compiled[key] = (processor, [xslt.compile_stylesheet(stylesheet_file=str(rules_dir / p))
                                          for p in OFFICIAL_RULE_FILES])
        return _compiled[key]
