"""The mutation corpus: for every fatal assertion of the official rules (``rulebook.py``), either
broken invoices that break it -- a valid corpus case with one mutation of its JSON form -- or
the reason no JSON form can break it.

Four classes, each rule id in exactly one:

- ``MUTATIONS``: the JSON form carries the data the rule is about. Each mutation must break the
  rule under the official validator (so the corpus is real), and pre-flight must refuse it
  before rendering, naming the rule id and a JSON-form field.
- ``UNCAUGHT``: the JSON form can break the rule and pre-flight does not catch it (with why).
- ``WRITER``: the UBL writer sets or computes what the rule checks, whatever the JSON form says.
- ``NOT_CARRIED``: the rule is about data the JSON form does not carry.

``coverage()`` (used by the test and ``benchmarks/preflight_coverage.py``) measures the share
of MUTATIONS + UNCAUGHT rules that pre-flight catches.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parent / "cases"
DEL = object()
"""Remove the key (the field is left out)."""


@dataclass(frozen=True)
class Mutation:
    case: str
    edits: dict[str, Any] = field(hash=False)

    def apply(self) -> dict[str, Any]:
        data = copy.deepcopy(_case(self.case))
        for path, value in self.edits.items():
            _set(data, path, value)
        return data

    def __str__(self) -> str:
        return f"{self.case}: " + ", ".join(f"{p}={'<left out>' if v is DEL else v!r}" for p, v in self.edits.items())


_cache: dict[str, dict] = {}


def _case(stem: str) -> dict:
    if stem not in _cache:
        _cache[stem] = json.loads((CASES_DIR / f"{stem}.json").read_text(encoding="utf-8"))
    return _cache[stem]


def _set(data: Any, path: str, value: Any) -> None:
    keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+|\[\+\]", path.replace("[+]", ".[+]"))]
    target = data
    for key, nxt in itertools.pairwise(keys):
        if key == "[+]":
            target.append({})
            target = target[-1]
        elif isinstance(target, dict) and key not in target:
            target[key] = [] if nxt in ("[+]",) or isinstance(nxt, int) else {}
            target = target[key]
        else:
            target = target[key]
    last = keys[-1]
    if last == "[+]":
        target.append(value)
    elif value is DEL:
        target.pop(last, None)
    else:
        target[last] = value


def M(case: str, **edits: Any) -> Mutation:
    """``M("no_domestic_basic", buyer__address__country="XX")``: ``__`` is a dot, ``_0_`` an index."""
    return Mutation(case, {re.sub(r"_(\d+)_", r"[\1].", k).replace("__", ".").rstrip("."): v
                           for k, v in edits.items()})


def P(case: str, edits: dict[str, Any]) -> Mutation:
    """A mutation with literal JSON paths: ``P(case, {"lines[0].vat_rate": "7"})``."""
    return Mutation(case, edits)


NO, CN, DK, SE, FI = "no_domestic_basic", "no_credit_note", "dk_domestic", "se_domestic_three_rates", "fi_domestic"
DE, DD, GR, IS, NL = ("de_domestic_with_skonto", "de_domestic_sepa_direct_debit", "gr_domestic_with_mark",
                      "is_domestic_with_eindagi", "nl_domestic_with_order_line")
IT, ES, AC, LAC = ("it_seller_reverse_charge_to_no", "es_canary_igic_and_ceuta_ipsi", "no_document_allowances_charges",
                   "no_line_allowances_charges")
E, OUTSIDE, K, AE, G, Z = ("no_exempt_with_reason", "no_outside_scope_of_vat", "fi_intra_community_goods_to_de",
                           "se_reverse_charge_to_fi", "no_export_outside_eu", "fi_zero_rated")
ATT, TAXCUR, PERIOD, PAYEE, REP = ("no_extra_attachments", "no_nok_25_with_eur_tax",
                                   "no_order_contract_project_period_delivery", "no_factoring_payee",
                                   "gb_seller_with_norwegian_tax_representative")
ITEMS, OBJ, BS, DKCN = ("se_items_classified_with_attributes", "fi_energy_metering_point_and_references",
                        "dk_betalingsservice_direct_debit", "dk_credit_note")


def _doc_ac(category: str, rate: str | None, *, charge: bool, reason: str | None = None) -> dict:
    """A document-level allowance/charge of 10 in ``category`` (to append to ``allowances_charges``)."""
    ac = {"is_charge": charge, "amount": "10", "reason": "Frakt" if charge else "Rabatt", "vat_category": category}
    if rate is not None:
        ac["vat_rate"] = rate
    if reason:
        ac["vat_exemption_reason"] = reason
    return ac


def _category_family(cat: str, base: str, rate: str | None, reason: str | None) -> dict[str, list[Mutation]]:
    """Rules 02..07 and 10 of one VAT category family, as mutations of a case whose line 0 is ``cat``."""
    family = {"S": "S", "Z": "Z", "E": "E", "AE": "AE", "K": "IC", "G": "G", "L": "AF", "M": "AG"}[cat]
    no_seller_vat = {"seller.vat_number": DEL, "seller.tax_registration": DEL}
    bad_rate = "0" if cat == "S" else "-1" if cat in ("L", "M") else "5"
    out = {
        f"BR-{family}-02": [P(base, no_seller_vat)],
        f"BR-{family}-03": [P(base, {**no_seller_vat, "allowances_charges[+]": _doc_ac(cat, rate, charge=False,
                                                                                         reason=reason)})],
        f"BR-{family}-04": [P(base, {**no_seller_vat, "allowances_charges[+]": _doc_ac(cat, rate, charge=True,
                                                                                         reason=reason)})],
        f"BR-{family}-05": [P(base, {"lines[0].vat_rate": bad_rate})],
        f"BR-{family}-06": [P(base, {"allowances_charges[+]": _doc_ac(cat, bad_rate, charge=False, reason=reason)})],
        f"BR-{family}-07": [P(base, {"allowances_charges[+]": _doc_ac(cat, bad_rate, charge=True, reason=reason)})],
    }
    if reason:
        out[f"BR-{family}-10"] = [P(base, {"lines[0].vat_exemption_reason": DEL,
                                           "lines[0].vat_exemption_reason_code": DEL})]
    else:
        out[f"BR-{family}-10"] = [P(base, {"lines[0].vat_exemption_reason": "Fritatt"})]
    return out


MUTATIONS: dict[str, list[Mutation]] = {
    # -- the document -------------------------------------------------------------------
    "BR-02": [M(NO, number="  "), M(NO, number="")],
    "BR-03": [M(NO, issue_date="")],
    "BR-05": [M(NO, currency=" ")],
    "BR-16": [M(NO, lines=[])],
    "BR-CL-01": [M(NO, type_code="999"), M(CN, type_code="999")],
    "BR-CL-03": [M(NO, currency="XXY")],
    "BR-CL-04": [M(NO, currency="XXY")],
    "BR-CL-05": [M(TAXCUR, tax_currency="XXY")],
    "BR-CL-06": [M(OBJ, tax_point_date_code="4")],
    "BR-CL-07": [M(OBJ, invoiced_object_scheme="XX9"), P(OBJ, {"lines[0].object_id_scheme": "XX9"})],
    "BR-CL-08": [M(NO, note="#XYZ#Takk for handelen")],
    "BR-CO-03": [M(OBJ, tax_point_date="2025-02-28")],
    "BR-53": [M(TAXCUR, tax_exchange_rate=DEL), M(TAXCUR, tax_exchange_rate="")],
    "PEPPOL-EN16931-R003": [M(NO, buyer_reference=DEL), M(NO, buyer_reference="   ")],
    "PEPPOL-EN16931-R005": [M(TAXCUR, tax_currency="EUR")],
    "PEPPOL-EN16931-R055": [M(TAXCUR, tax_exchange_rate="-11.4567")],
    "PEPPOL-EN16931-CL006": [M(OBJ, tax_point_date_code="4")],
    "PEPPOL-EN16931-CL007": [M(NO, currency="XXY")],
    "PEPPOL-EN16931-P0100": [M(NO, type_code="381"), M(NO, type_code="999")],
    "PEPPOL-EN16931-P0101": [M(CN, type_code="380")],
    "PEPPOL-EN16931-P0112": [M(NO, type_code="326")],
    "BR-29": [M(PERIOD, invoice_period={"start": "2025-03-31", "end": "2025-03-01"})],
    "PEPPOL-EN16931-R110": [P(PERIOD, {"lines[0].period.start": "2025-02-01"})],
    "PEPPOL-EN16931-R111": [P(PERIOD, {"lines[0].period.end": "2025-04-30"})],
    "BR-55": [P(CN, {"billing_references[0].number": " "})],
    "BR-52": [P(ATT, {"attachments[0].filename": DEL, "attachments[0].id": DEL})],
    "UBL-DT-06": [P(ATT, {"attachments[0].mime_code": ""})],
    "UBL-DT-07": [P(ATT, {"attachments[0].filename": "", "attachments[0].id": "timeliste"})],
    "BR-CL-24": [P(ATT, {"attachments[0].mime_code": "application/zip"})],
    "PEPPOL-EN16931-CL001": [P(ATT, {"attachments[0].mime_code": "application/zip"})],
    # -- the parties -------------------------------------------------------------------
    "BR-06": [M(NO, seller__name=" ", seller__registration_name=DEL)],
    "BR-07": [M(NO, buyer__name="")],
    "BR-08": [M(NO, seller__address=DEL), M(NO, seller__address={"street": " ", "country": None})],
    "BR-09": [M(NO, seller__address__country=" ")],
    "BR-10": [M(NO, buyer__address={"city": None})],
    "BR-11": [M(NO, buyer__address__country=DEL)],
    "BR-57": [M(PERIOD, delivery__address__country="")],
    "BR-CL-14": [M(NO, buyer__address__country="XX"), M(NO, seller__address__country="XX"),
                 M(PERIOD, delivery__address__country="XX"), M(REP, tax_representative__address__country="XX")],
    "BR-CL-15": [P(NO, {"lines[0].origin_country": "XX"})],
    "BR-CL-10": [P("no_gln_buyer_endpoint", {"buyer.identifiers[0].scheme": "9999"}),
                 M(PAYEE, payee__identifier_scheme="9999")],
    "BR-CL-11": [M(NO, buyer__legal_id_scheme="9999"), M(PAYEE, payee__legal_id_scheme="9999")],
    "BR-CL-25": [M(NO, buyer__endpoint__scheme="9999")],
    "PEPPOL-EN16931-CL008": [M(NO, buyer__endpoint__scheme="9999"), M(NO, seller__endpoint__scheme="0037")],
    "BR-CL-26": [M(PERIOD, delivery__location_id="7300010000001", delivery__location_scheme="9999")],
    "BR-62": [M(NO, seller__endpoint__scheme=" ")],
    "BR-63": [M(NO, buyer__endpoint__scheme="")],
    "PEPPOL-EN16931-R010": [M(NO, buyer__endpoint=DEL, buyer__legal_id=DEL)],
    "PEPPOL-EN16931-R020": [M(NO, seller__endpoint={"scheme": "0192", "value": "  "}, seller__legal_id=DEL)],
    "BR-CO-09": [M(NO, buyer__vat_number="123456785MVA"), M(NO, seller__vat_number="XX987654325"),
                 M(REP, tax_representative__vat_number="914778271MVA")],
    "BR-CO-26": [M(G, seller__vat_number=DEL, seller__legal_id=DEL, seller__endpoint={"scheme": "0192",
                                                                                        "value": "987654325"},
                   tax_currency=DEL, tax_exchange_rate=DEL, lines=[{"name": "x", "quantity": "1", "unit_price": "1",
                                                                     "vat_category": "O"}])],
    "UBL-SR-16": [P("no_gln_buyer_endpoint", {"buyer.identifiers[+]": {"value": "7300010000001", "scheme": "0088"}})],
    "PEPPOL-COMMON-R040": [M(NO, buyer__endpoint={"scheme": "0088", "value": "7300010000002"})],
    "PEPPOL-COMMON-R041": [M(NO, seller__legal_id="987654321"), M(NO, buyer__endpoint__value="123456786")],
    "PEPPOL-COMMON-R042": [M(DK, buyer__endpoint__value="DK8765433")],
    "PEPPOL-COMMON-R043": [M(NO, buyer__endpoint={"scheme": "0208", "value": "0403019262"})],
    "PEPPOL-COMMON-R049": [M(SE, seller__legal_id="5560360794")],
    "PEPPOL-COMMON-R050": [M(NO, buyer__endpoint={"scheme": "0151", "value": "51824753557"})],
    "PEPPOL-COMMON-R052": [M(DK, buyer__endpoint={"scheme": "0096", "value": "123456789"})],
    "PEPPOL-COMMON-R053": [M(DK, buyer__endpoint={"scheme": "0198", "value": "87654338"})],
    "BR-17": [M(PAYEE, payee__name=" "), M(PAYEE, payee__name="Fjord Konsult AS")],
    "BR-18": [M(REP, tax_representative__name="")],
    "BR-19": [M(REP, tax_representative__address={"street": " "})],
    "BR-20": [M(REP, tax_representative__address__country=DEL)],
    "BR-56": [M(REP, tax_representative__vat_number=" ")],
    # -- lines ---------------------------------------------------------------------------
    "BR-22": [P(NO, {"lines[0].quantity": " "})],
    "BR-25": [P(NO, {"lines[0].name": "   "})],
    "BR-26": [P(NO, {"lines[0].unit_price": ""})],
    "BR-27": [P(NO, {"lines[0].unit_price": "-1250"})],
    "BR-28": [P(NO, {"lines[0].gross_price": "-1"})],
    "BR-CO-04": [P(NO, {"lines[0].vat_category": " "})],
    "BR-CL-18": [P(NO, {"lines[0].vat_category": "X"})],
    "BR-CL-23": [P(NO, {"lines[0].unit_code": "ZZX"})],
    "BR-CL-21": [P(ITEMS, {"lines[1].standard_item_scheme": "9999"})],
    "BR-CL-13": [P(ITEMS, {"lines[1].classifications[0].list_id": "XYZ"})],
    "BR-65": [P(ITEMS, {"lines[1].classifications[0].list_id": "  "})],
    "BR-54": [P(ITEMS, {"lines[0].attributes[0].value": " "})],
    "BR-30": [P(PERIOD, {"lines[0].period": {"start": "2025-03-31", "end": "2025-03-01"}})],
    "PEPPOL-EN16931-R121": [P(NO, {"lines[0].price_base_quantity": "0"})],
    "BR-41": [P(LAC, {"lines[0].allowances_charges[0].percent": DEL})],
    "BR-42": [P(LAC, {"lines[0].allowances_charges[0].reason": DEL, "lines[0].allowances_charges[0].reason_code": " "})],
    "BR-CO-23": [P(LAC, {"lines[0].allowances_charges[0].reason": "", "lines[0].allowances_charges[0].reason_code": ""})],
    "BR-43": [P(LAC, {"lines[1].allowances_charges[0].amount": DEL})],
    "BR-44": [P(LAC, {"lines[1].allowances_charges[0].reason": DEL, "lines[1].allowances_charges[0].reason_code": DEL})],
    "BR-CO-24": [P(LAC, {"lines[1].allowances_charges[0].reason": " ",
                         "lines[1].allowances_charges[0].reason_code": DEL})],
    "PEPPOL-EN16931-R040": [P(LAC, {"lines[0].allowances_charges[0].amount": "500"})],
    # -- document allowances and charges ---------------------------------------------------
    "BR-31": [P(NO, {"allowances_charges[+]": {"is_charge": False, "reason": "Rabatt", "vat_category": "S",
                                              "vat_rate": "25", "percent": "5"}})],
    "BR-32": [P(NO, {"allowances_charges[+]": {"amount": "10", "reason": "Rabatt", "vat_category": " "}})],
    "BR-33": [P(NO, {"allowances_charges[+]": {"amount": "10", "vat_category": "S", "vat_rate": "25"}})],
    "BR-CO-21": [P(NO, {"allowances_charges[+]": {"amount": "10", "reason": " ", "vat_category": "S",
                                                 "vat_rate": "25"}})],
    "BR-36": [P(NO, {"allowances_charges[+]": {"is_charge": True, "reason": "Frakt", "vat_category": "S",
                                              "vat_rate": "25", "base_amount": "100"}})],
    "BR-37": [P(NO, {"allowances_charges[+]": {"is_charge": True, "amount": "10", "reason": "Frakt"}})],
    "BR-38": [P(NO, {"allowances_charges[+]": {"is_charge": True, "amount": "10", "vat_category": "S",
                                              "vat_rate": "25"}})],
    "BR-CO-22": [P(NO, {"allowances_charges[+]": {"is_charge": True, "amount": "10", "reason_code": "",
                                                 "vat_category": "S", "vat_rate": "25"}})],
    "BR-CL-19": [P(NO, {"allowances_charges[+]": {"amount": "10", "reason_code": "ZZZ", "vat_category": "S",
                                                 "vat_rate": "25"}})],
    "PEPPOL-EN16931-CL002": [P(LAC, {"lines[0].allowances_charges[0].reason_code": "99"})],
    "BR-CL-20": [P(NO, {"allowances_charges[+]": {"is_charge": True, "amount": "10", "reason_code": "XXX",
                                                 "vat_category": "S", "vat_rate": "25"}})],
    "PEPPOL-EN16931-CL003": [P(LAC, {"lines[1].allowances_charges[0].reason_code": "XXX"})],
    "BR-CL-17": [P(NO, {"allowances_charges[+]": {"amount": "10", "reason": "Rabatt", "vat_category": "X"}})],
    # -- VAT ---------------------------------------------------------------------------------
    **_category_family("S", NO, "25", None),
    **_category_family("Z", Z, "0", None),
    **_category_family("E", E, "0", "Fritatt"),
    **_category_family("AE", AE, "0", "Reverse charge"),
    **_category_family("K", K, "0", "Intra-community supply"),
    **_category_family("G", G, "0", "Export"),
    **_category_family("L", ES, "7", None),
    "BR-AG-02": [P(ES, {"seller.vat_number": DEL, "lines[0].vat_category": "M", "lines[0].vat_rate": "4"})],
    "BR-AG-03": [P(ES, {"seller.vat_number": DEL, "lines": [{"name": "x", "quantity": "1", "unit_price": "10",
                                                             "vat_category": "L", "vat_rate": "7"}],
                        "allowances_charges[+]": _doc_ac("M", "4", charge=False)})],
    "BR-AG-04": [P(ES, {"seller.vat_number": DEL, "lines": [{"name": "x", "quantity": "1", "unit_price": "10",
                                                             "vat_category": "L", "vat_rate": "7"}],
                        "allowances_charges[+]": _doc_ac("M", "4", charge=True)})],
    "BR-AG-05": [P(ES, {"lines[1].vat_rate": "-4"})],
    "BR-AG-06": [P(ES, {"allowances_charges[+]": _doc_ac("M", "-4", charge=False)})],
    "BR-AG-07": [P(ES, {"allowances_charges[+]": _doc_ac("M", "-4", charge=True)})],
    "BR-AG-10": [P(ES, {"lines[1].vat_exemption_reason": "Fritatt"})],
    "BR-S-10": [P(NO, {"lines[0].vat_exemption_reason_code": "VATEX-EU-132"})],
    "BR-AE-02": [P(AE, {"buyer.vat_number": DEL, "buyer.legal_id": DEL})],
    "BR-AE-03": [P(AE, {"buyer.vat_number": DEL, "buyer.legal_id": DEL,
                        "lines": [{"name": "x", "quantity": "1", "unit_price": "100", "vat_category": "S",
                                   "vat_rate": "25"}],
                        "allowances_charges[+]": _doc_ac("AE", "0", charge=False, reason="Reverse charge")})],
    "BR-AE-04": [P(AE, {"buyer.vat_number": DEL, "buyer.legal_id": DEL,
                        "lines": [{"name": "x", "quantity": "1", "unit_price": "100", "vat_category": "S",
                                   "vat_rate": "25"}],
                        "allowances_charges[+]": _doc_ac("AE", "0", charge=True, reason="Reverse charge")})],
    "BR-IC-02": [P(K, {"buyer.vat_number": DEL})],
    "BR-IC-11": [P(K, {"delivery.date": DEL})],
    "BR-IC-12": [P(K, {"delivery.address.country": DEL})],
    "BR-O-02": [P(OUTSIDE, {"tax_representative": {"name": "Rep AS", "vat_number": "NO914778271MVA",
                                             "address": {"country": "NO"}}})],
    "BR-O-03": [P(NO, {"allowances_charges[+]": _doc_ac("O", None, charge=False, reason="Outside")})],
    "BR-O-04": [P(NO, {"allowances_charges[+]": _doc_ac("O", None, charge=True, reason="Outside")})],
    "BR-O-10": [P(OUTSIDE, {"lines[0].vat_exemption_reason": DEL, "lines[0].vat_exemption_reason_code": DEL})],
    "BR-O-11": [P(OUTSIDE, {"lines[+]": {"name": "x", "quantity": "1", "unit_price": "100", "vat_category": "S",
                                   "vat_rate": "25"}})],
    "BR-O-12": [P(OUTSIDE, {"lines[+]": {"name": "x", "quantity": "1", "unit_price": "100", "vat_category": "S",
                                   "vat_rate": "25"}})],
    "BR-O-13": [P(OUTSIDE, {"allowances_charges[+]": _doc_ac("S", "25", charge=False)})],
    "BR-O-14": [P(OUTSIDE, {"allowances_charges[+]": _doc_ac("S", "25", charge=True)})],
    "BR-CL-22": [P(E, {"lines[0].vat_exemption_reason_code": "VATEX-XX-1"})],
    "PEPPOL-EN16931-P0104": [P(E, {"lines[0].vat_exemption_reason_code": "VATEX-EU-G"})],
    "PEPPOL-EN16931-P0105": [P(E, {"lines[0].vat_exemption_reason_code": "VATEX-EU-O"})],
    "PEPPOL-EN16931-P0106": [P(E, {"lines[0].vat_exemption_reason_code": "VATEX-EU-IC"})],
    "PEPPOL-EN16931-P0107": [P(E, {"lines[0].vat_exemption_reason_code": "VATEX-EU-AE"})],
    "PEPPOL-EN16931-P0108": [P(K, {"lines[0].vat_exemption_reason_code": "VATEX-EU-D"})],
    "PEPPOL-EN16931-P0109": [P(K, {"lines[0].vat_exemption_reason_code": "VATEX-EU-F"})],
    "PEPPOL-EN16931-P0110": [P(K, {"lines[0].vat_exemption_reason_code": "VATEX-EU-I"})],
    "PEPPOL-EN16931-P0111": [P(K, {"lines[0].vat_exemption_reason_code": "VATEX-EU-J"})],
    # -- payment -------------------------------------------------------------------------
    "BR-CL-16": [P(NO, {"payment_means[0].code": "99"})],
    "BR-61": [P(NO, {"payment_means[0].account": DEL})],
    "PEPPOL-EN16931-R061": [P(BS, {"payment_means[0].mandate_id": DEL}), P(NO, {"payment_means[0].code": "59"})],
    "UBL-SR-44": [P(NO, {"payment_means[+]": {"code": "30", "account": "NO9386011117947",
                                              "payment_id": "1002003018"}})],
    "UBL-SR-47": [P(NO, {"payment_means[+]": {"code": "58", "account": "NO9386011117947"}})],
    "UBL-SR-54": [P("no_paid_by_card", {"payment_means[+]": {"code": "48", "card": {"account_number": "9999",
                                                                                    "network": "MC"}}})],
    "UBL-SR-55": [P(BS, {"payment_means[+]": {"code": "49", "mandate_id": "BS-2", "payer_account": "DK1"}})],
    # -- country rules ---------------------------------------------------------------------
    "NO-R-001": [M(NO, seller__vat_number="NO987654325"), M(NO, seller__vat_number="NO987654321MVA")],
    "DK-R-002": [M(DK, seller__legal_id=" ")],
    "DK-R-003": [P(DK, {"lines[0].classifications": [{"code": "43211503", "list_id": "TST", "list_version": "8"}]})],
    "DK-R-004": [P(DK, {"allowances_charges[+]": {"is_charge": True, "amount": "10", "reason_code": "ZZZ",
                                                 "reason": "Afgift", "vat_category": "S", "vat_rate": "25"}})],
    "DK-R-005": [P(DK, {"payment_means[0].code": "30"})],
    "DK-R-006": [P(DK, {"payment_means[0].code": "31", "payment_means[0].bic": DEL})],
    "DK-R-007": [P(BS, {"payment_means[0].payer_account": ""})],
    "DK-R-008": [P(DK, {"payment_means[0].code": "50", "payment_means[0].payment_id": "99#123"})],
    "DK-R-009": [P(DK, {"payment_means[0].code": "50", "payment_means[0].payment_id": "04#123",
                        "payment_means[0].account": "1234567"})],
    "DK-R-010": [P(DK, {"payment_means[0].code": "93", "payment_means[0].payment_id": "99#123"})],
    "DK-R-011": [P(DK, {"payment_means[0].code": "93", "payment_means[0].payment_id": "71#123",
                        "payment_means[0].account": "12345678"})],
    "DK-R-013": [P(DK, {"buyer.identifiers": [{"value": "5790000000001"}]})],
    "DK-R-014": [M(DK, seller__legal_id_scheme="0198", seller__legal_id="DK12345682")],
    "DK-R-016": [P(DKCN, {"lines[0].quantity": "-1"})],
    "DK-R-017": [M(DK, buyer__legal_id_scheme=DEL)],
    "SE-R-001": [M(SE, seller__vat_number="SE55601234560")],
    "SE-R-002": [M(SE, seller__vat_number="SE5560123456AB")],
    "SE-R-003": [M(SE, seller__legal_id="556012345A", seller__legal_id_scheme=DEL)],
    "SE-R-004": [M(SE, seller__legal_id="55601234", seller__legal_id_scheme=DEL)],
    "SE-R-013": [M(SE, seller__legal_id="5560123457", seller__legal_id_scheme=DEL)],
    "SE-R-005": [M(SE, seller__tax_registration="F-skatt")],
    "SE-R-006": [P(SE, {"lines[0].vat_rate": "20"})],
    "IT-R-001": [M(IT, seller__tax_registration="RSSMRA")],
    "IT-R-002": [M(IT, seller__address__street=" ")],
    "IT-R-003": [M(IT, seller__address__city=DEL)],
    "IT-R-004": [M(IT, seller__address__post_code="")],
    "IS-R-002": [M(IS, seller__legal_id_scheme="0088", seller__legal_id="5798000000001")],
    "IS-R-003": [M(IS, seller__address__post_code=" ")],
    "IS-R-004": [M(IS, buyer__legal_id=DEL)],
    "IS-R-005": [M(IS, buyer__address__street=DEL)],
    "IS-R-006": [P(IS, {"payment_means[0].code": "9", "payment_means[0].account": "0101261234"})],
    "IS-R-007": [P(IS, {"payment_means[0].account": "01012612345"})],
    "IS-R-008": [P(IS, {"attachments[0].id": "20.03.2025"})],
    "IS-R-009": [M(IS, due_date=DEL)],
    "IS-R-010": [M(IS, due_date="2025-03-25")],
    "NL-R-001": [M(NL, document_type="credit_note")],
    "NL-R-002": [M(NL, seller__address__city=" ")],
    "NL-R-003": [M(NL, seller__legal_id_scheme="0088", seller__legal_id="7300010000001")],
    "NL-R-004": [M(NL, buyer__address__post_code=DEL)],
    "NL-R-005": [M(NL, buyer__legal_id_scheme="0088", buyer__legal_id="7300010000001")],
    "NL-R-006": [M(NL, tax_representative={"name": "Fiscaal BV", "vat_number": "NL123456794B01",
                                           "address": {"city": "Utrecht", "country": "NL"}})],
    "NL-R-007": [M(NL, payment_means=[])],
    "NL-R-008": [P(NL, {"payment_means[0].code": "31"})],
    "NL-R-009": [M(NL, order_reference=DEL, buyer_reference="Inkoop")],
    "DE-R-001": [M(DE, payment_means=DEL)],
    "DE-R-002": [M(DE, seller__contact_name=DEL, seller__phone=DEL, seller__email=DEL)],
    "DE-R-003": [M(DE, seller__address__city="")],
    "DE-R-004": [M(DE, seller__address__post_code=DEL)],
    "DE-R-005": [M(DE, seller__contact_name=" ")],
    "DE-R-006": [M(DE, seller__phone=DEL)],
    "DE-R-007": [M(DE, seller__email="")],
    "DE-R-008": [M(DE, buyer__address__city=DEL)],
    "DE-R-009": [M(DE, buyer__address__post_code=" ")],
    "DE-R-010": [M(DE, delivery={"address": {"post_code": "10115", "country": "DE"}})],
    "DE-R-011": [M(DE, delivery={"address": {"city": "Berlin", "country": "DE"}})],
    "DE-R-014": [P(DE, {"lines[0].vat_category": "O", "lines[0].vat_rate": DEL,
                        "lines[0].vat_exemption_reason": "Nicht steuerbar"})],
    "DE-R-015": [M(DE, buyer_reference=DEL, order_reference="PO-1")],
    "DE-R-016": [M(DE, seller__vat_number=DEL, seller__legal_id="HRB 12345",
                   seller__endpoint={"scheme": "0204", "value": "991-12345-67"})],
    "DE-R-018": [M(DE, payment_terms="#SKONTO#TAGE=14#PROZENT=2#\n")],
    "DE-R-022": [P(DE, {"attachments[+]": {"id": "Nachweis 2", "filename": "NACHWEIS.csv", "mime_code": "text/csv",
                                           "content": "YQ=="}})],
    "DE-R-023-1": [P(DE, {"payment_means[0].account": DEL})],
    "DE-R-023-2": [P(DE, {"payment_means[0].card": {"account_number": "1234", "network": "VISA"}})],
    "DE-R-024-1": [P(DE, {"payment_means[0].code": "48", "payment_means[0].account": DEL,
                          "payment_means[0].bic": DEL})],
    "DE-R-024-2": [P(DE, {"payment_means[0].code": "48",
                          "payment_means[0].card": {"account_number": "1234", "network": "VISA"}})],
    "DE-R-025-1": [P(DD, {"payment_means[0].mandate_id": DEL, "payment_means[0].payer_account": DEL})],
    "DE-R-025-2": [P(DD, {"payment_means[0].account": "DE89370400440532013000"})],
    "DE-R-030": [M(DD, seller__identifiers=DEL)],
    "DE-R-031": [P(DD, {"payment_means[0].payer_account": " "})],
    "GR-R-001-1": [M(GR, number="012345670|01/03/2025|0|1.1|A")],
    "GR-R-001-2": [M(GR, number="012345681|01/03/2025|0|1.1|A|17")],
    "GR-R-001-3": [M(GR, number="012345670|02/03/2025|0|1.1|A|17")],
    "GR-R-001-4": [M(GR, number="012345670|01/03/2025|X|1.1|A|17")],
    "GR-R-001-5": [M(GR, number="012345670|01/03/2025|0|9.9|A|17")],
    "GR-R-001-6": [M(GR, number="012345670|01/03/2025|0|1.1||17")],
    "GR-R-001-7": [M(GR, number="012345670|01/03/2025|0|1.1|A|")],
    "GR-R-002": [M(GR, seller__name=DEL, seller__registration_name="Ellinika Symvoulia AE")],
    "GR-R-003": [M(GR, seller__vat_number="EL012345671")],
    "GR-R-004-1": [P(GR, {"attachments[0].description": "MARK"})],
    "GR-R-004-2": [P(GR, {"attachments[0].id": "0400001234567890"})],
    "GR-R-005": [M(GR, buyer__name=DEL, buyer__registration_name="Pelatis AE")],
    "GR-R-006": [M(GR, buyer__vat_number="EL012345682", buyer__address__country="GR")],
    "GR-R-008-2": [P(GR, {"attachments[+]": {"id": "url2", "description": "##INVOICE|URL##",
                                             "uri": "https://www1.aade.gr/mark/2"}})],
    "GR-R-008-3": [P(GR, {"attachments[1].uri": DEL})],
    "GR-R-009": [M(GR, seller__endpoint={"scheme": "9933", "value": "012345671"})],
    "GR-R-010": [M(GR, buyer__endpoint={"scheme": "9933", "value": "012345682"})],
}

UNCAUGHT: dict[str, str] = {}

WRITER: dict[str, str] = {
    **{r: "written as a constant by the writer" for r in (
        "BR-01", "PEPPOL-EN16931-R001", "PEPPOL-EN16931-R004", "PEPPOL-EN16931-R007")},
    "BR-04": "the writer writes the type code, 380/381 when the JSON form gives none",
    "BR-21": "the writer numbers lines without an id (1, 2, ...)",
    "BR-23": "a blank unit is absent: the default C62 is written",
    "BR-49": "a blank payment means code is absent: the default 30 is written",
    **{r: "computed by the writer (compute_totals), never taken from the JSON form" for r in (
        "BR-12", "BR-13", "BR-14", "BR-15", "BR-24", "BR-45", "BR-46", "BR-47", "BR-48", "BR-CO-10", "BR-CO-11",
        "BR-CO-12", "BR-CO-13", "BR-CO-14", "BR-CO-15", "BR-CO-16", "BR-CO-17", "BR-CO-18",
        "PEPPOL-EN16931-R120", "PEPPOL-EN16931-R053", "PEPPOL-EN16931-R054", "PEPPOL-EN16931-R051")},
    **{f"BR-{f}-{n}": "the VAT breakdown is computed from the lines and allowances: one row per category and rate"
       for f in ("S", "Z", "E", "AE", "IC", "G", "O", "AF", "AG") for n in ("01", "08")},
    **{f"BR-{f}-09": "the VAT of a breakdown row is computed (or the ERP's figure within BR-CO-17's tolerance); "
                     "categories without VAT get 0" for f in ("S", "Z", "E", "AE", "IC", "G", "O", "AF", "AG")},
    **{r: "amounts are rounded to two decimals where they are produced (totals.money)" for r in (
        "BR-DEC-01", "BR-DEC-02", "BR-DEC-05", "BR-DEC-06", "BR-DEC-09", "BR-DEC-10", "BR-DEC-11", "BR-DEC-12",
        "BR-DEC-13", "BR-DEC-14", "BR-DEC-15", "BR-DEC-16", "BR-DEC-17", "BR-DEC-18", "BR-DEC-19", "BR-DEC-20",
        "BR-DEC-23", "BR-DEC-24", "BR-DEC-25", "BR-DEC-27", "BR-DEC-28", "UBL-DT-01")},
    "BR-CO-19": "a blank invoice period is absent: no InvoicePeriod without a date or a code",
    "BR-CO-20": "a blank line period is absent: no line InvoicePeriod without a date",
    "BR-64": "the writer gives every standard item id a scheme (0160 GTIN by default)",
    "PEPPOL-EN16931-R008": "blank values are absent (Blankless) and the writer writes no element without a value",
    "PEPPOL-EN16931-R041": "the writer writes percentage and base amount together or not at all",
    "PEPPOL-EN16931-R042": "the writer writes percentage and base amount together or not at all",
    "PEPPOL-EN16931-R043": "is_charge is a JSON boolean, written as true/false",
    "PEPPOL-EN16931-R044": "the item price discount (gross price) is always written as an allowance",
    "PEPPOL-EN16931-R046": "the price discount is written as gross price minus net price",
    "PEPPOL-EN16931-R130": "the price base quantity is written with the line's unit",
    "PEPPOL-EN16931-F001": "dates are parsed from YYYY-MM-DD and written in ISO form",
    "PEPPOL-EN16931-R100": "the JSON form has one object id per line, written once",
    "PEPPOL-EN16931-R101": "a line document reference is only written for the line object id (type 130)",
    "UBL-SR-42": "the writer writes at most the VAT and the TAX scheme of the seller",
    "UBL-SR-43": "the writer gives a document reference a scheme only for the invoiced object (130)",
    "UBL-SR-48": "every line gets exactly one classified tax category",
    "UBL-SR-53": "the writer writes a PartyTaxScheme only with its CompanyID",
    "UBL-CR-666": "the invoiced object reference never carries an attachment",
    "UBL-CR-673": "the invoiced object reference never carries a description",
    "BR-CO-05": "the rule's test is true(): it cannot fail",
    "BR-CO-06": "the rule's test is true(): it cannot fail",
    "BR-CO-07": "the rule's test is true(): it cannot fail",
    "BR-CO-08": "the rule's test is true(): it cannot fail",
    "UBL-SR-32": "the writer writes one exemption reason per breakdown row",
    "BR-50": "a payee account is written only with its account id (a blank account is absent: BR-61 is checked)",
    **{r: "the writer writes no VAT rate for category O (pre-flight still refuses a rate on O as contradictory)"
       for r in ("BR-O-05", "BR-O-06", "BR-O-07")},
}

WRITER_PROOFS: dict[str, list[Mutation]] = {
    "BR-DEC-01": [P(NO, {"allowances_charges[+]": {"amount": "10.555", "reason": "Rabatt", "vat_category": "S",
                                                  "vat_rate": "25"}})],
    "BR-DEC-16": [M(NO, prepaid_amount="100.005")],
    "BR-O-05": [P(OUTSIDE, {"lines[0].vat_rate": "25"})],
    "BR-50": [P(NO, {"payment_means[0].account": "  ", "payment_means[0].account_name": "Fjord Konsult AS"})],
    "BR-23": [P(NO, {"lines[0].unit_code": " "})],
    "BR-21": [P(NO, {"lines[0].id": ""})],
    "BR-49": [P(NO, {"payment_means[0].code": " "})],
    "BR-CO-19": [M(NO, invoice_period={"start": None, "end": " "})],
    "BR-CO-20": [P(NO, {"lines[0].period": {"start": None, "end": None}})],
    "PEPPOL-EN16931-R008": [M(NO, note="\u0007", accounting_cost="\t", order_reference=" ")],
    "BR-64": [P(NO, {"lines[0].standard_item_id": "7300010000001"})],
    "PEPPOL-EN16931-R041": [P(LAC, {"lines[0].allowances_charges[0].base_amount": DEL,
                                    "lines[0].allowances_charges[0].amount": "999.80"})],
    "BR-CO-17": [M("no_erp_vat_rounded_per_line", vat_amounts=[{"category": "S", "rate": "25", "amount": "8.50"}],
                   expected_vat_total=DEL, expected_total=DEL)],
}
"""Mutations that look as if they break a WRITER rule: the writer's XML must still pass it."""

NOT_CARRIED: dict[str, str] = {
    **{r: "the JSON form holds a single value for it, written once" for r in (
        "UBL-SR-01", "UBL-SR-02", "UBL-SR-03", "UBL-SR-04", "UBL-SR-05", "UBL-SR-06", "UBL-SR-08", "UBL-SR-09",
        "UBL-SR-10", "UBL-SR-11", "UBL-SR-12", "UBL-SR-13", "UBL-SR-14", "UBL-SR-15", "UBL-SR-17", "UBL-SR-18",
        "UBL-SR-19", "UBL-SR-20", "UBL-SR-21", "UBL-SR-22", "UBL-SR-23", "UBL-SR-24", "UBL-SR-25", "UBL-SR-26",
        "UBL-SR-27", "UBL-SR-28", "UBL-SR-29", "UBL-SR-30", "UBL-SR-31", "UBL-SR-33", "UBL-SR-34", "UBL-SR-35",
        "UBL-SR-36", "UBL-SR-37", "UBL-SR-39", "UBL-SR-40", "UBL-SR-45", "UBL-SR-46", "UBL-SR-49", "UBL-SR-50",
        "UBL-SR-52", "UBL-SR-56", "PEPPOL-EN16931-R002", "PEPPOL-EN16931-R080")},
    "UBL-SR-07": "a preceding invoice reference is written only with its number (BR-55 is checked)",
    "UBL-SR-51": "the JSON form has no third address line (AddressLine)",
    "BR-B-01": "the JSON form does not accept VAT category B (Italian split payment)",
    "BR-B-02": "the JSON form does not accept VAT category B (Italian split payment)",
}


def classify(rule_ids: set[str]) -> dict[str, str]:
    """rule id -> its class, for every fatal rule id of the rule files."""
    out = {}
    for name, table in (("mutation", MUTATIONS), ("uncaught", UNCAUGHT), ("writer", WRITER),
                        ("not_carried", NOT_CARRIED)):
        for rule in table:
            out.setdefault(rule, name)
    return {r: out.get(r, "unclassified") for r in rule_ids}
