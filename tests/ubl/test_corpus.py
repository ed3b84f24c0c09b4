"""Every invoice of the corpus renders and passes the official Peppol BIS 3.0 validator."""

from __future__ import annotations

import base64
import dataclasses
import json
from decimal import Decimal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from flask_maventa.document.findings import DocumentError
from flask_maventa.document.invoice import SCHEMA_PATH, InvoiceDocument
from flask_maventa.document.preflight import check_document
from flask_maventa.document.ubl import build_ubl, compute_totals, write_ubl
from flask_maventa.document.ubl.nodes import CAC, CBC

from .conftest import CASES, TINY_PDF, load_case, pdf_for

NS = {"cac": CAC, "cbc": CBC}
SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")),
                                                   format_checker=jsonschema.FormatChecker())  # compiled once


def test_the_corpus_covers_what_nordic_erp_invoices_carry():
    docs = [load_case(p) for p in CASES]
    assert len(docs) >= 25
    assert {d.seller.address.country for d in docs} >= {"NO", "SE", "FI", "DK"}
    assert {d.buyer.address.country for d in docs} >= {"NO", "SE", "FI", "DK", "DE", "US"}
    assert sum(d.is_credit_note for d in docs) >= 3
    categories = {line.vat_category for d in docs for line in d.lines}
    assert categories >= {"S", "Z", "E", "AE", "K", "G", "O"}
    assert any(len({line.vat_rate for line in d.lines if line.vat_category == "S"}) >= 3 for d in docs)
    assert any(d.tax_currency for d in docs) and any(d.rounding_amount for d in docs)
    assert any(d.prepaid_amount for d in docs) and any(d.attachments for d in docs)
    assert any(d.allowances_charges for d in docs)
    assert any(line.allowances_charges for d in docs for line in d.lines)
    assert any(d.order_reference and not d.buyer_reference for d in docs)
    assert any(d.delivery and d.invoice_period and d.contract_reference and d.project_reference for d in docs)
    assert any(pdf_for(p) for p in CASES)
    assert any(d.buyer.endpoint is None for d in docs)  # endpoint derived from the business id
    schemes = {d.buyer.effective_endpoint().scheme for d in docs}
    assert schemes >= {"0192", "0007", "0216", "0184", "0088", "9930"}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_renders_valid_peppol(path, assert_valid):
    doc = load_case(path)
    assert [f for f in check_document(doc, pdf=pdf_for(path)) if f.severity == "error"] == []
    xml = build_ubl(doc, pdf=pdf_for(path))
    result = assert_valid(xml, path.stem)
    assert result["layers"] == {"xsd": "ok", "en16931": result["layers"]["en16931"], "peppol": result["layers"]["peppol"]}
    root = etree.fromstring(xml)
    assert root.tag.endswith("}CreditNote" if doc.is_credit_note else "}Invoice")
    totals = compute_totals(doc)
    payable = root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS)
    assert Decimal(payable.text) == totals.payable_amount
    assert payable.get("currencyID") == doc.currency


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_matches_the_json_schema_and_round_trips(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    SCHEMA_VALIDATOR.validate(data)
    doc = InvoiceDocument.from_json(data)
    assert InvoiceDocument.from_json(doc.to_json()) == doc


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_build_ubl_writes_the_bytes_lxml_writes(path):
    """build_ubl serialises its elements itself (for speed); write_ubl serialises the same elements through
    lxml: both must give the same bytes."""
    doc = load_case(path)
    assert build_ubl(doc, pdf=pdf_for(path)) == write_ubl(doc, pdf=pdf_for(path))[0]


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_any_text_is_escaped_as_lxml_escapes_it(text, attribute):
    """Element text (a note, an item name) and attribute values (the payment means text is its code's
    ``name``) come out of build_ubl's own serialiser exactly as lxml writes them."""
    doc = load_case(next(p for p in CASES if p.stem == "no_domestic_basic"))
    doc = dataclasses.replace(doc, note=text, lines=(dataclasses.replace(doc.lines[0], name=text or "x"),),
                              payment_means=(dataclasses.replace(doc.payment_means[0], text=attribute),))
    try:
        xml = build_ubl(doc)
    except DocumentError:
        return  # refused by the pre-flight checks: nothing written to compare
    assert xml == write_ubl(doc)[0]


def test_credit_note_names_the_credited_invoice():
    doc = load_case(next(p for p in CASES if p.stem == "no_credit_note"))
    root = etree.fromstring(build_ubl(doc))
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS) == "1001"
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert root.find("cac:CreditNoteLine/cbc:CreditedQuantity", NS) is not None


def test_text_is_escaped_and_survives_the_round_trip():
    doc = load_case(next(p for p in CASES if p.stem == "no_text_escaping"))
    xml = build_ubl(doc)
    assert b"Smith &amp; S\xc3\xb8n &lt;Bygg&gt; AS" in xml
    root = etree.fromstring(xml)
    assert root.findtext("cbc:Note", namespaces=NS) == doc.note
    assert root.findtext("cac:InvoiceLine/cac:Item/cbc:Name", namespaces=NS) == doc.lines[0].name
    assert "🍺" in root.findtext("cac:InvoiceLine/cac:Item/cbc:Name", namespaces=NS)


def test_control_characters_are_dropped_not_fatal(assert_valid):
    doc = load_case(CASES[0])
    doc = dataclasses.replace(doc, note="Bell\x07 and NUL\x00 gone", lines=(
        dataclasses.replace(doc.lines[0], name="Item\x0b name"), *doc.lines[1:]))
    xml = build_ubl(doc)
    assert_valid(xml)
    root = etree.fromstring(xml)
    assert root.findtext("cbc:Note", namespaces=NS) == "Bell and NUL gone"


def test_pdf_is_embedded_with_mime_code_and_a_safe_filename(assert_valid):
    doc = load_case(next(p for p in CASES if p.stem == "no_with_pdf"))
    xml = build_ubl(doc, pdf=TINY_PDF, pdf_filename="Faktura 1001 (Kunde AS).PDF")
    assert_valid(xml)
    obj = etree.fromstring(xml).find("cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
    assert obj.get("mimeCode") == "application/pdf"
    assert obj.get("filename") == "faktura_1001_kunde_as.pdf"
    assert base64.b64decode(obj.text) == TINY_PDF


def test_vat_total_in_accounting_currency():
    doc = load_case(next(p for p in CASES if p.stem == "no_nok_25_with_eur_tax"))
    root = etree.fromstring(build_ubl(doc))
    amounts = {el.get("currencyID"): Decimal(el.text) for el in root.findall("cac:TaxTotal/cbc:TaxAmount", NS)}
    totals = compute_totals(doc)
    assert amounts == {"EUR": totals.tax_amount, "NOK": (totals.tax_amount * doc.tax_exchange_rate).quantize(Decimal("0.01"))}
    assert root.findtext("cbc:TaxCurrencyCode", namespaces=NS) == "NOK"


def test_outside_scope_document_carries_no_vat_identifiers():
    doc = load_case(next(p for p in CASES if p.stem == "no_outside_scope_of_vat"))
    root = etree.fromstring(build_ubl(doc))
    assert root.xpath("//cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']", namespaces=NS) == []
    assert root.find(".//cac:ClassifiedTaxCategory/cbc:Percent", NS) is None


def _definition(node, schema):
    for alternative in node.get("anyOf", [node]):
        if "$ref" in alternative:
            return alternative["$ref"].rsplit("/", 1)[1]
        if alternative.get("type") == "array":
            return _definition(alternative["items"], schema)
    return None


def _used(data, definition, schema, out):
    """(definition, field) pairs a corpus document uses, walking the document with the schema."""
    props = schema["$defs"][definition]["properties"] if definition else schema["properties"]
    for key, value in data.items():
        out.add((definition or "InvoiceDocument", key))
        inner = _definition(props[key], schema)
        for item in value if isinstance(value, list) else [value]:
            if inner and isinstance(item, dict):
                _used(item, inner, schema, out)
    return out


def test_every_field_of_the_json_form_is_in_a_corpus_case():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    every = {("InvoiceDocument", k) for k in schema["properties"]} | {
        (name, k) for name, d in schema["$defs"].items() for k in d["properties"]}
    used = set()
    for p in CASES:
        _used(json.loads(p.read_text(encoding="utf-8")), None, schema, used)
    assert sorted(every - used) == []


def test_new_business_terms_reach_the_ubl():
    def root(stem, **kw):
        return etree.fromstring(build_ubl(load_case(next(p for p in CASES if p.stem == stem)), **kw))

    r = root("no_factoring_payee")
    assert r.findtext("cac:PayeeParty/cac:PartyName/cbc:Name", namespaces=NS) == "Nordic Factoring AS"
    assert r.find("cac:PaymentMeans/cbc:PaymentMeansCode", NS).get("name").startswith("Bankoverføring")
    r = root("gb_seller_with_norwegian_tax_representative")
    assert r.findtext("cac:TaxRepresentativeParty/cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS) == "NO914778271MVA"
    r = root("dk_betalingsservice_direct_debit")
    assert r.findtext("cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID",
                      namespaces=NS) == "DK5000400440116243"
    r = root("no_paid_by_card")
    assert r.findtext("cac:PaymentMeans/cac:CardAccount/cbc:PrimaryAccountNumberID", namespaces=NS) == "4321"
    r = root("se_items_classified_with_attributes")
    item = r.find("cac:InvoiceLine/cac:Item", NS)
    assert item.find("cac:CommodityClassification/cbc:ItemClassificationCode", NS).get("listID") == "TST"
    assert item.findtext("cac:AdditionalItemProperty/cbc:Name", namespaces=NS) == "Färg"
    assert r.find("cac:InvoiceLine[2]/cac:Item/cac:StandardItemIdentification/cbc:ID", NS).get("schemeID") == "0088"
    r = root("fi_energy_metering_point_and_references")
    obj = r.find("cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']/cbc:ID", NS)
    assert obj.get("schemeID") == "AVA" and obj.text == "643007574000123456"
    assert r.findtext("cac:InvoicePeriod/cbc:DescriptionCode", namespaces=NS) == "35"
    assert r.findtext("cac:OriginatorDocumentReference/cbc:ID", namespaces=NS) == "HANKINTA-2024-3"
    assert r.find("cac:InvoiceLine/cac:DocumentReference/cbc:ID", NS).get("schemeID") == "AVA"
    r = root("no_external_attachment_uri")
    assert r.findtext("cac:AdditionalDocumentReference/cac:Attachment/cac:ExternalReference/cbc:URI",
                      namespaces=NS).startswith("https://")
    r = root("no_document_charge_exempt_with_reason")
    assert r.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[cbc:ID='E']/cbc:TaxExemptionReason",
                      namespaces=NS).startswith("Unntatt")
    r = root("no_credit_note_due_date_without_payment_means")
    assert r.findtext("cac:PaymentMeans/cbc:PaymentDueDate", namespaces=NS) == "2025-04-15"
    assert r.findtext("cac:PaymentMeans/cbc:PaymentMeansCode", namespaces=NS) == "1"
    r = root("no_erp_vat_rounded_per_line")
    assert r.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == "7.53"
    assert r.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "37.59"
