"""The JSON form: the schema file matches the model, and from_json rejects what the schema rejects."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from flask_maventa.document import invoice
from flask_maventa.document.findings import DocumentError
from flask_maventa.document.invoice import SCHEMA_PATH, InvoiceDocument

from .conftest import CASES

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
BASE = json.loads(next(p for p in CASES if p.stem == "no_domestic_basic").read_text(encoding="utf-8"))


def test_schema_file_is_generated_from_the_model():
    assert json.loads(json.dumps(invoice.schema())) == SCHEMA, "run: python -m flask_maventa.document.invoice"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$defs"]["InvoiceLine"]["properties"]["unit_price"]["description"].startswith("Net price")


def _set(path, value):
    data = copy.deepcopy(BASE)
    target = data
    *head, last = path
    for key in head:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


BAD = {
    "unknown field": _set(["colour"], "red"),
    "number not text": _set(["number"], 1001),
    "missing issue date": _set(["issue_date"], KeyError),
    "bad date": _set(["issue_date"], "01.03.2025"),
    "lower-case currency": _set(["currency"], "nok"),
    "amount with comma": _set(["lines", 0, "unit_price"], "1250,00"),
    "amount as bool": _set(["lines", 0, "quantity"], True),
    "unknown vat category": _set(["lines", 0, "vat_category"], "X"),
    "lines not a list": _set(["lines"], {"name": "x"}),
    "null seller": _set(["seller"], None),
    "bad document type": _set(["document_type"], "receipt"),
    "unknown field deep": _set(["buyer", "address", "streetname"], "x"),
    "endpoint without value": _set(["buyer", "endpoint"], {"scheme": "0192"}),
    "bad country": _set(["buyer", "address", "country"], "Norway"),
    "flag not bool": _set(["allowances_charges"], [{"is_charge": "yes", "amount": "1"}]),
}


@pytest.mark.parametrize("data", BAD.values(), ids=BAD.keys())
def test_from_json_rejects_what_the_schema_rejects(data):
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(data)
    with pytest.raises(DocumentError) as caught:
        InvoiceDocument.from_json(data)
    assert all(f.code == "JSON_INVALID" and f.field for f in caught.value.findings)


def test_all_json_problems_come_at_once_with_their_paths():
    data = _set(["currency"], "nok")
    data["lines"][0]["quantity"] = "two"
    data["buyer"]["colour"] = "red"
    with pytest.raises(DocumentError) as caught:
        InvoiceDocument.from_json(data)
    assert {f.field for f in caught.value.findings} == {"currency", "lines[0].quantity", "buyer.colour"}
    assert "lines[0].quantity" in str(caught.value)


def test_json_text_with_float_amounts_keeps_decimals():
    text = json.dumps(_set(["lines", 0, "unit_price"], 0.1)).replace('"7.5"', "7.5")
    doc = InvoiceDocument.from_json(text)
    assert str(doc.lines[0].unit_price) == "0.1" and str(doc.lines[0].quantity) == "7.5"
    with pytest.raises(DocumentError, match="not valid JSON"):
        InvoiceDocument.from_json("{")
