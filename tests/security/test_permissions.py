"""Every route is gated: a user the adapter refuses gets 403 on each one, whatever the method.

The walk reads ``app.url_map``, so a route added later is checked without anyone editing this test. Only
the webhook (authenticated by its secret, not by a user) and the static files are outside the gate.
"""

from __future__ import annotations

import re

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, Event, Transfer

PREFIX = "/settings/integrations/maventa"
UNGATED = {"maventa.webhook", "maventa.static"}
VALUES = {"company_id": "c1", "connection_id": None, "invoice_id": "i1"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("maventa.") and rule.endpoint not in UNGATED:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, values) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)


@pytest.fixture
def seeded(app, adapter):
    ext = current_maventa()
    connection = Connection(company_id="c1", environment="sandbox", company_state="VERIFIED",
                            company_uuid="00000000-0000-4000-8000-000000000001",
                            api_key_encrypted=ext.secrets().encrypt("offline-user-api-key"))
    ext.session.add(connection)
    ext.session.flush()
    ext.session.add(Transfer(connection_id=connection.id, invoice_id="i1", state="failed", maventa_uuid="u-1"))
    ext.session.commit()
    return {**VALUES, "connection_id": connection.id}


def _token(client) -> str:
    """A valid CSRF token, taken while the user may still manage c1, so a 403 is never a CSRF refusal."""
    html = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("allowed", [set(), {"c1-bergen"}], ids=["refused-everywhere", "refused-for-c1"])
def test_every_route_refuses_a_user_the_adapter_refuses(app, adapter, client, seeded, allowed):
    token = _token(client)
    adapter.allowed = allowed
    checked = []
    for rule, method in _routes(app):
        if not allowed or "company_id" in rule.arguments or "connection_id" in rule.arguments:
            url = _url(rule, seeded)
            for headers in ({}, {"HX-Request": "true"}):
                response = client.open(url, method=method, headers=headers,
                                       data={"csrf_token": token, "ids": "1", "company": "c1", "person": "p1"}
                                       if method == "POST" else None)
                # A company that is not yours is refused (403); a transfer of one is not even there (404).
                expected = (403, 404) if "connection_id" in rule.arguments and allowed else (403,)
                assert response.status_code in expected, (method, url, headers, response.status_code)
            checked.append((method, rule.endpoint))
    assert len(checked) >= (17 if not allowed else 12), checked
    # Nothing was written on the way: no event, no new transfer.
    ext = current_maventa()
    ext.session.rollback()
    assert ext.session.query(Transfer).count() == 1 and ext.session.query(Event).count() == 0


def test_the_walk_sees_every_endpoint_of_the_blueprint(app):
    endpoints = {rule.endpoint for rule, _ in _routes(app)}
    assert {"maventa.index", "maventa.register", "maventa.company", "maventa.transfers", "maventa.transfer_retry",
            "maventa.transfer_timeline", "maventa.signing_state", "maventa.routing_preview"} <= endpoints
