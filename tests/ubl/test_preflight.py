"""Pre-flight: broken invoices are caught with the right finding and a hint; nothing half-written."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from lxml import etree

from flask_maventa.document.findings import DocumentError
from flask_maventa.document.invoice import InvoiceDocument
from flask_maventa.document.official import _executables, official_findings, preflight
from flask_maventa.document.preflight import check_document
from flask_maventa.document.ubl import build_ubl
from flask_maventa.document.ubl.nodes import CBC

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


def _case(stem):
    return load_case(next(p for p in CASES if p.stem == stem))


def _errors(doc):
    return [f for f in check_document(doc) if f.severity == "error"]


def test_a_credit_note_with_an_invoice_type_code_is_told_to_use_381_or_send_an_invoice():
    (finding,) = _errors(dataclasses.replace(_case("no_credit_note"), type_code="380"))
    assert finding.field == "type_code" and "PEPPOL-EN16931-P0101" in finding.rules
    text = finding.render()
    assert "381" in text and "send the document as an invoice" in text
    assert "Use 380" not in text
    (finding,) = _errors(dataclasses.replace(_no_basic(), type_code="381"))
    assert "send the document as a credit note" in finding.render()


@pytest.mark.parametrize("vat", ["CHE-109.456.246 MWST", "CHE109456246MWST", "GB980780684", "NO123456785MVA",
                                 "EL094259216", "DE136695976"])
def test_a_foreign_buyer_vat_number_with_an_iso_prefix_passes(vat):
    doc = _no_basic()
    doc = dataclasses.replace(doc, buyer=dataclasses.replace(doc.buyer, vat_number=vat))
    assert [f for f in check_document(doc) if f.field == "buyer.vat_number"] == []


def test_a_norwegian_vat_number_without_mva_is_told_the_norwegian_form():
    doc = _no_basic()
    doc = dataclasses.replace(doc, seller=dataclasses.replace(doc.seller, vat_number="NO987654325"))
    (finding,) = _errors(doc)
    assert finding.rules == ("NO-R-001",) and finding.field == "seller.vat_number"
    text = finding.render()
    assert "MVA" in text and "NO123456785MVA" in text and "start with the country code" not in text


@pytest.mark.parametrize("vat, example", [("SE55601234", "SE556036079301"), ("FI1234", "FI20774740"),
                                          ("DK1234", "DK13585628")])
def test_a_vat_number_hint_shows_that_countrys_own_example(vat, example):
    doc = _no_basic()
    doc = dataclasses.replace(doc, buyer=dataclasses.replace(doc.buyer, vat_number=vat))
    (finding,) = [f for f in check_document(doc) if f.field == "buyer.vat_number"]
    assert example in finding.render()
    assert not {"NO123456785MVA", "FI20774740", "SE556036079301", "DK13585628"} - {example} & set(
        finding.render().replace(",", " ").replace(".", " ").split())


def test_a_vat_number_without_a_country_prefix_is_refused_with_brco09():
    doc = _no_basic()
    doc = dataclasses.replace(doc, buyer=dataclasses.replace(doc.buyer, vat_number="123456785MVA"))
    (finding,) = _errors(doc)
    assert finding.rules == ("BR-CO-09",) and "NO123456785MVA" in finding.render()




def test_erp_vat_rounded_per_line_is_used_within_the_tolerance():
    from flask_maventa.document.totals import compute_totals

    doc = _case("no_erp_vat_rounded_per_line")
    totals = compute_totals(doc)
    assert totals.tax_amount == Decimal("7.53") and totals.payable_amount == Decimal("37.59")
    assert _errors(doc) == []
    far = dataclasses.replace(doc, vat_amounts=(dataclasses.replace(doc.vat_amounts[0], amount=Decimal("9.00")),),
                              expected_vat_total=None, expected_total=None)
    assert compute_totals(far).tax_amount == Decimal("7.52")
    assert [f.code for f in _errors(far)] == ["SUMS_INCONSISTENT"]
    only_total = dataclasses.replace(doc, vat_amounts=())
    assert compute_totals(only_total).tax_amount == Decimal("7.53") and _errors(only_total) == []


def test_official_findings_are_mapped_to_the_json_field_with_a_human_hint(peppol_dir):
    from flask_maventa.document.ubl import write_ubl

    doc = _no_basic()
    broken = dataclasses.replace(doc, buyer=dataclasses.replace(
        doc.buyer, address=dataclasses.replace(doc.buyer.address, country="XX")))
    xml, origin = write_ubl(broken)
    findings = [f for f in official_findings(xml, peppol_dir, origin=origin) if f.code == "BR-CL-14"]
    assert findings and all(f.field == "buyer.address.country" for f in findings)
    text = findings[0].render()
    assert "open the customer card" in text and "support" not in text and "/" not in findings[0].field
    assert findings[0].rules == ("BR-CL-14",)


def test_preflight_with_rules_dir_reports_official_findings_on_fields(peppol_dir):
    findings = preflight(_case("no_factoring_payee"), rules_dir=peppol_dir)
    assert [f for f in findings if f.severity == "error"] == []


@pytest.mark.parametrize(("account", "ok"), [
    ("NO9386011117947", True),        # Norway's IBAN is 15 characters
    ("NO268601111794712", False),     # 17 characters, its check digits right: the length refuses it
    ("NO9386011117948", False),       # a check digit off
    ("FI2112345600000785", True),
    ("FI21 1234 5600 0007 85", True),  # as printed
])
def test_ibans_are_checked_by_country_length_and_check_digits(account, ok):
    """python-stdnum checks each country's own IBAN format, not just the mod-97 sum."""
    from flask_maventa.document.identifiers import iban_ok
    from flask_maventa.document.invoice import PaymentMeans

    assert iban_ok(account) is ok
    doc = _no_basic()
    doc = dataclasses.replace(doc, payment_means=(PaymentMeans(code="30", account=account),))
    iban_findings = [f for f in check_document(doc) if f.code == "IBAN_INVALID"]
    assert bool(iban_findings) is not ok
    if iban_findings:
        assert iban_findings[0].field == "payment_means[0].account"
