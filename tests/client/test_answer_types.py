"""The answer types name exactly the swagger's fields: a renamed or added field in the swagger fails here."""

from __future__ import annotations

import json
import typing
from importlib import resources

import pytest

from flask_maventa.client import answers

SWAGGER = json.loads(resources.files("flask_maventa.sandbox").joinpath("autoxchange-swagger-0.85.550.json")
                     .read_text())
TYPES = [value for value in vars(answers).values() if typing.is_typeddict(value)]


def test_every_response_model_the_client_returns_has_a_type():
    assert {t.__name__ for t in TYPES} >= {
        "OAuthCurrent", "CompanyAuthorizationStatus", "CompanyAuthorization", "NewCompanyUser", "Invoice",
        "InvoiceAction", "CompanySettings", "Notification", "LookupEntryReceiver", "CompanyLookup"}


@pytest.mark.parametrize("answer_type", TYPES, ids=lambda t: t.__name__)
def test_fields_are_the_swagger_definitions(answer_type):
    definition = (answer_type.__doc__ or "").split("``")[1]
    properties = SWAGGER["definitions"][definition]["properties"]
    assert list(answer_type.__annotations__) == list(properties)
    for name, schema in properties.items():  # a nested model is the type of that model
        ref = (schema.get("items") or schema).get("$ref")
        if ref:
            nested = next(t for t in TYPES if (t.__doc__ or "").split("``")[1] == ref.rsplit("/", 1)[1])
            annotation = answer_type.__annotations__[name]
            assert nested.__name__ in getattr(annotation, "__forward_arg__", str(annotation)), name
