"""The scopes the client asks for come from the swagger's per-operation security, in one place
(client/scopes.py): its table matches the swagger, covers every request the client sends, and a company
token never asks for a partner-only scope."""
import pytest

from flask_maventa.client import scopes
from flask_maventa.infra.config import ConfigurationError
from flask_maventa.sandbox.spec import load_spec

from .fakes import client_for, maventa_router
from .test_requests_match_swagger import send_everything


def swagger_scopes(method: str, template: str) -> tuple[str, ...]:
    operation = load_spec().document["paths"][template][method.lower()]
    return tuple(s for requirement in operation.get("security", []) for s in requirement.get("company_auth", []))


@pytest.mark.parametrize("operation", [*scopes.COMPANY_OPERATIONS, *scopes.PARTNER_OPERATIONS])
def test_the_table_is_the_swaggers_security(operation):
    table = {**scopes.COMPANY_OPERATIONS, **scopes.PARTNER_OPERATIONS}
    assert table[operation] == swagger_scopes(*operation)


def test_the_unauthenticated_operations_need_no_token_in_the_swagger():
    for operation in scopes.UNAUTHENTICATED_OPERATIONS:
        assert swagger_scopes(*operation) == ()


def test_every_request_the_client_sends_is_in_the_table_and_covered_literally():
    router = maventa_router()
    send_everything(client_for(router))
    spec = load_spec()
    sent = {(op.method, op.template) for op, _ in (spec.find(c.request.method, c.request.url.path)
                                                   for c in router.calls)}
    listed = {*scopes.COMPANY_OPERATIONS, *scopes.PARTNER_OPERATIONS, *scopes.UNAUTHENTICATED_OPERATIONS}
    assert sent - listed == set()
    asked = set(scopes.COMPANY_SCOPE.split())
    for operation, needed in scopes.COMPANY_OPERATIONS.items():
        # named literally: works whether Maventa expands aliases or not
        assert asked & set(needed), operation
    assert "partner:lookups" not in scopes.expand(scopes.COMPANY_SCOPE)
    assert scopes.PARTNER_SCOPE == "partner:lookups"


def test_the_aliases_are_the_swaggers():
    described = load_spec().document["securityDefinitions"]["company_auth"]["scopes"]
    for alias, parts in scopes.ALIASES.items():
        assert described[alias].endswith("Alias for " + ", ".join(sorted(parts, key=described[alias].index)))


@pytest.mark.parametrize("scope, missing", [
    ("eui", []),
    ("global company lookup invoice:send", []),
    ("global company lookup", ["POST /v1/invoices", "GET /v1/invoices", "GET /v1/invoices/{id}",
                               "GET /v1/invoices/{id}/actions"]),
])
def test_uncovered_names_what_a_scope_cannot_call(scope, missing):
    assert scopes.uncovered(scope) == missing


def test_a_configured_scope_that_cannot_call_everything_stops_the_app_with_the_fix(tmp_path):
    from tests.fixtures.apps import make_app

    with pytest.raises(ConfigurationError, match=r"MAVENTA_SCOPE .* POST /v1/invoices"):
        make_app(tmp_path, MAVENTA_SCOPE="global company")
    assert make_app(tmp_path, MAVENTA_SCOPE="eui")
