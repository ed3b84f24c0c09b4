"""Apps and connections for the settings tests.

The ``app`` here talks to the real sandbox over loopback HTTP. ``verified_connection`` is made
the way production makes one: our client creates the user and the company in the sandbox, the
sandbox signs it, and the Connection stores the key encrypted. ``offline_connection`` has made-up
credentials and is for the rules that need no network.
"""

from __future__ import annotations

import itertools
import re

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, utcnow
from tests.fixtures.apps import make_app

STATUS_MAPPING = {"transfer_status_id": "ready", "success_status_id": "transferred", "failure_status_id": "failed"}
PREFIX = "/settings/integrations/maventa"
_numbers = itertools.count(1)


@pytest.fixture
def app(tmp_path, request, sandbox):
    marker = request.node.get_closest_marker("settings")
    config = dict(MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key,
                  MAVENTA_REDIS_URL="redis://127.0.0.1:1/0")  # no Redis: the token cache uses memory
    config.update(marker.kwargs if marker else {})
    app = make_app(tmp_path, **config)
    with app.app_context():
        yield app


def offline_connection(company_id: str = "c1", *, verified: bool = True, saved: bool = True, **fields) -> Connection:
    """A connection with made-up credentials (Maventa would refuse them): for the rules alone."""
    ext = current_maventa()
    values = dict(
        company_id=company_id,
        environment="sandbox",
        company_uuid="00000000-0000-4000-8000-000000000001",
        api_key_encrypted=ext.secrets().encrypt("offline-user-api-key"),
        company_state="VERIFIED" if verified else "UNVERIFIED",
    )
    return _store(values, saved, fields)


def sandbox_connection(sandbox, company_id: str = "c1", *, sign: bool = True, saved: bool = True,
                       api_key: str | None = None, **fields) -> Connection:
    """A real company in the sandbox, registered with our client (and signed unless ``sign=False``)."""
    ext = current_maventa()
    client = ext.client()
    n = next(_numbers)
    key = client.create_user(f"kari{n}@fjord.example", "Kari", "Nordmann")
    company_uuid = client.create_company(
        user_api_key=key, name="Fjord Consulting AS", bid=f"9{n:08d}", no_vat=False, address1="Storgata 1",
        post_code="0155", post_office="Oslo", city="Oslo", country="NO", email=f"post{n}@fjord.example",
    )
    if sign:
        sandbox.sign(company_uuid)
    values = dict(
        company_id=company_id, environment="sandbox", company_uuid=company_uuid,
        api_key_encrypted=ext.secrets().encrypt(api_key or key),
        company_state="VERIFIED" if sign else "UNVERIFIED",
    )
    return _store(values, saved, fields)


def _store(values: dict, saved: bool, fields: dict) -> Connection:
    if saved:
        values.update(STATUS_MAPPING, settings_saved_at=utcnow())
    values.update(fields)
    connection = Connection(**values)
    current_maventa().session.add(connection)
    current_maventa().session.commit()
    return connection


@pytest.fixture
def connection(app):
    return offline_connection()


@pytest.fixture
def verified_connection(app, sandbox):
    return sandbox_connection(sandbox)


def csrf_token(client, company_id: str = "c1") -> str:
    """The token the company page's forms carry (the test app has CSRF on)."""
    html = client.get(f"{PREFIX}/companies/{company_id}").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the company page has no form with a CSRF token"
    return match.group(1)


HTMX = {"HX-Request": "true"}
