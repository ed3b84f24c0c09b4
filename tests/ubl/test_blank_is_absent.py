"""Blank is absent: an optional field given as "", "  ", null or an all-null object renders exactly
like the field left out, and the result passes the official rules."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from flask_maventa.document.findings import DocumentError
from flask_maventa.document.invoice import InvoiceDocument, Party
from flask_maventa.document.model import NOT_XML, type_hints, unwrap_optional, without_not_xml
from flask_maventa.document.ubl import build_ubl
from flask_maventa.document.ubl.nodes import CAC, CBC

from .conftest import CASES, load_case, pdf_for

NS = {"cac": CAC, "cbc": CBC}
DATA = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in CASES}
PDFS = {p.stem: pdf_for(p) for p in CASES}


def optional_paths(cls: type, data: dict, prefix: tuple = ()) -> list[tuple[tuple, type]]:
    """Every optional field present in ``data`` (a JSON object of ``cls``), with its type."""
    out = []
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        tp = unwrap_optional(hints[f.name])[0]
        path = (*prefix, f.name)
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if has_default:
            out.append((path, tp))
        value = data[f.name]
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            out += optional_paths(tp, value, path)
        elif typing.get_origin(tp) is tuple and isinstance(value, list):
            item = typing.get_args(tp)[0]
            if dataclasses.is_dataclass(item):
                for i, v in enumerate(value):
                    out += optional_paths(item, v, (*path, i))
    return out


PATHS = {stem: optional_paths(InvoiceDocument, data) for stem, data in DATA.items()}


def blanks_for(tp: type) -> list:
    if dataclasses.is_dataclass(tp):
        return [None, "", {}, {f.name: None for f in dataclasses.fields(tp)},
                {f.name: "  " for f in dataclasses.fields(tp) if unwrap_optional(type_hints(tp)[f.name])[0] is str}]
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return [None, [], "  "] + ([[{f.name: None for f in dataclasses.fields(item)}]]
                                   if dataclasses.is_dataclass(item) else [])
    return [None, "", "  ", " \t\n "]


def _edit(data: dict, path: tuple, value) -> dict:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _LEFT_OUT:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_LEFT_OUT = object()


def _render(stem: str, data: dict):
    try:
        return build_ubl(InvoiceDocument.from_json(data), pdf=PDFS[stem])
    except DocumentError as e:
        return sorted(e.codes)


@st.composite
def blanked(draw):
    stem = draw(st.sampled_from(sorted(s for s in PATHS if PATHS[s])))
    path, tp = draw(st.sampled_from(PATHS[stem]))
    return stem, path, draw(st.sampled_from(blanks_for(tp)))


@settings(max_examples=250, deadline=None)
@given(blanked())
def test_a_blank_optional_field_renders_like_the_field_left_out(case):
    stem, path, blank = case
    assert _render(stem, _edit(DATA[stem], path, blank)) == _render(stem, _edit(DATA[stem], path, _LEFT_OUT))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blanked())
def test_a_document_with_blank_fields_passes_the_official_rules(assert_valid, case):
    stem, path, blank = case
    xml = _render(stem, _edit(DATA[stem], path, blank))
    if isinstance(xml, bytes):  # a refused document (a required business field left blank) is never written
        assert_valid(xml, f"{stem} {path}={blank!r}")


def test_every_text_field_blank_at_once_still_renders_valid(assert_valid):
    """The classes seen in real invoices: whitespace names and references, all-null period and
    delivery, blank order/contract/project references, line references and item ids."""
    data = copy.deepcopy(DATA["no_order_contract_project_period_delivery"])
    data.update(order_reference="  ", sales_order_reference="", contract_reference=" ", project_reference="\t",
                invoice_period={"start": None, "end": None}, delivery={"date": None, "address": None,
                                                                       "party_name": " "},
                note=" ", accounting_cost="", buyer_reference="Ola Kunde")
    data["lines"][0].update(order_line_reference=" ", seller_item_id="", buyer_item_id="  ",
                            standard_item_id=" ", accounting_cost=" ", period={"start": None, "end": None})
    data["buyer"].update(contact_name=" ", phone="", identifiers=[{"value": " "}])
    xml = build_ubl(InvoiceDocument.from_json(data))
    assert_valid(xml)
    root = etree.fromstring(xml)
    for tag in ("OrderReference", "ContractDocumentReference", "ProjectReference", "InvoicePeriod", "Delivery"):
        assert root.find(f"cac:{tag}", NS) is None, tag
    line = root.find("cac:InvoiceLine", NS)
    for tag in ("OrderLineReference", "InvoicePeriod", "Item/cac:SellersItemIdentification",
                "Item/cac:StandardItemIdentification"):
        assert line.find(f"cac:{tag}", NS) is None, tag
    assert not [el.tag for el in root.iter() if len(el) == 0 and not (el.text or "").strip()]


def test_whitespace_is_not_a_value_for_presence_checks():
    doc = load_case(next(p for p in CASES if p.stem == "no_domestic_basic"))
    blank = dataclasses.replace(doc, buyer=dataclasses.replace(doc.buyer, name="   "), buyer_reference=" \t")
    assert blank.buyer.name is None and blank.buyer_reference is None
    with pytest.raises(DocumentError) as caught:
        build_ubl(blank)
    assert {"BUYER_NO_NAME", "BUYER_REFERENCE_MISSING"} <= set(caught.value.codes)


def test_python_callers_get_the_same_normalisation():
    party = Party(name="  Kunde AS ", address=None, email="", identifiers=())
    assert party.name == "Kunde AS" and party.email is None


def test_the_printable_shortcut_never_keeps_a_character_xml_cannot_carry():
    """without_not_xml skips the substitution for printable text: no printable character may be one of
    NOT_XML's (every code point checked), and text with them loses exactly those."""
    assert not [hex(c) for c in range(0x110000) if NOT_XML.match(chr(c)) and chr(c).isprintable()]
    assert without_not_xml("a\x00b\ud800c\ufffe\x85\t") == "abc\x85\t"


def test_outside_the_scope_of_vat_the_vat_number_does_not_identify_the_seller(assert_valid):
    """Found by the property above: outside the scope of VAT the UBL carries no VAT number (BR-O-02), so a
    seller with only a VAT number breaks BR-CO-26. It is refused before anything is written, and says why."""
    data = _edit(DATA["no_outside_scope_of_vat"], ("seller", "legal_id"), None)
    with pytest.raises(DocumentError) as refused:
        build_ubl(InvoiceDocument.from_json(data), pdf=PDFS["no_outside_scope_of_vat"])
    finding = next(f for f in refused.value.findings if f.code == "SELLER_NO_IDENTIFICATION")
    assert "outside the scope of VAT" in finding.message and "BR-CO-26" in finding.rules
    # With the organisation number it passes the official rules.
    assert_valid(build_ubl(InvoiceDocument.from_json(DATA["no_outside_scope_of_vat"]),
                           pdf=PDFS["no_outside_scope_of_vat"]))
