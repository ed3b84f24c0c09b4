"""Pre-flight: broken invoices are caught with the right finding and a hint; nothing half-written."""

from __future__ import annotations

import dataclasses
import json

import pytest
from lxml import etree

from flask_maventa.findings import DocumentError
from flask_maventa.invoice import InvoiceDocument
from flask_maventa.preflight import _executables, check_document, official_findings, preflight
from flask_maventa.ubl import CBC, build_ubl

from .conftest import BROKEN, CASES, load_case


def _broken(path):
    case = json.loads(path.read_text(encoding="utf-8"))
    return case["expect"], InvoiceDocument.from_json(case["document"])


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_case_is_caught_with_a_hint(path):
    expected, doc = _broken(path)
    findings = [f for f in check_document(doc) if f.severity == "error"]
    assert set(expected) <= {f.code for f in findings}
    for f in findings:
        assert f.hint and f.field, f
        text = f.render()
        assert "{" not in text, text  # every placeholder filled
    with pytest.raises(DocumentError) as caught:
        build_ubl(doc)
    assert set(expected) <= set(caught.value.codes)


def test_every_problem_is_reported_at_once():
    expected, doc = _broken(next(p for p in BROKEN if p.stem == "many_problems_at_once"))
    with pytest.raises(DocumentError) as caught:
        build_ubl(doc)
    assert len(expected) >= 5 and set(expected) <= set(caught.value.codes)
    for code in expected:
        assert code in str(caught.value)


def test_hint_speaks_to_a_finance_user():
    _, doc = _broken(next(p for p in BROKEN if p.stem == "buyer_no_street"))
    (finding,) = [f for f in check_document(doc) if f.code == "BUYER_NO_STREET"]
    assert finding.field == "buyer.address.street"
    assert finding.render() == ("The customer has no street address. "
                                "Fill in the address — open the customer card.")
    translated = finding.render(lambda s: {"The customer": "Kunden", "{who} has no {part}.": "{who} mangler {part}.",
                                           "street address": "gateadresse"}.get(s, s))
    assert translated.startswith("Kunden mangler gateadresse.")


def test_withdrawn_finnish_scheme_suggests_the_ovt_code():
    _, doc = _broken(next(p for p in BROKEN if p.stem == "withdrawn_scheme_0037"))
    (finding,) = [f for f in check_document(doc) if f.code == "ENDPOINT_SCHEME_WITHDRAWN"]
    assert "0216" in finding.render()


def test_the_official_rules_run_from_the_rules_dir(peppol_dir):
    doc = _no_basic()
    assert [f for f in preflight(doc, rules_dir=peppol_dir) if f.severity == "error"] == []
    assert _executables(peppol_dir) is _executables(peppol_dir)  # compiled once per process
    # a document our checks never see: drop the buyer reference from the XML itself
    root = etree.fromstring(build_ubl(doc))
    root.remove(root.find(f"{{{CBC}}}BuyerReference"))
    findings = official_findings(etree.tostring(root), peppol_dir)
    assert "PEPPOL-EN16931-R003" in {f.code for f in findings}
    assert all(f.severity == "error" for f in findings if f.code == "PEPPOL-EN16931-R003")


def test_official_rules_are_skipped_when_our_checks_fail(peppol_dir):
    _, doc = _broken(BROKEN[0])
    findings = preflight(doc, rules_dir=peppol_dir)
    assert findings and not any(f.code.startswith(("BR-", "PEPPOL-")) for f in findings)


def _no_basic():
    return load_case(next(p for p in CASES if p.stem == "no_domestic_basic"))


def test_warnings_do_not_block_the_build():
    doc = _no_basic()
    doc = dataclasses.replace(doc, seller=dataclasses.replace(doc.seller, tax_registration=None))
    assert {f.code for f in check_document(doc)} == {"NO_FORETAKSREGISTERET"}
    assert build_ubl(doc).startswith(b"<?xml")


def test_foreign_currency_without_vat_currency_is_a_warning():
    findings = check_document(dataclasses.replace(_no_basic(), currency="EUR"))
    assert [(f.code, f.severity) for f in findings] == [("TAX_CURRENCY_MISSING", "warning")]
    assert "NOK" in findings[0].render()


def test_a_credit_note_in_denmark_cannot_be_negative():
    doc = load_case(next(p for p in CASES if p.stem == "dk_credit_note"))
    negative = dataclasses.replace(doc, lines=(dataclasses.replace(doc.lines[0], quantity=-doc.lines[0].quantity),))
    with pytest.raises(DocumentError) as caught:
        build_ubl(negative)
    assert caught.value.codes == ["NEGATIVE_TOTAL"]


def test_routing_for_the_transfer_job():
    doc = load_case(next(p for p in CASES if p.stem == "fi_buyer_endpoint_from_business_id"))
    routing = doc.routing()
    assert routing.eia == "0216:003712345671" and routing.has_postal_address
    assert doc.buyer.endpoint is None
    basic = load_case(next(p for p in CASES if p.stem == "no_domestic_basic")).routing()
    assert (basic.eia, basic.operator, basic.email) == ("0192:123456785", "PEPPOL", "regnskap@kunde.example")
