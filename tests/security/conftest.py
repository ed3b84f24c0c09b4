"""A host and a Maventa that are both hostile: every text they provide is markup.

``hostile_app`` is a test app (SQLite, or PostgreSQL with ``database="postgresql"``) talking to the real
sandbox, whose companies, departments, persons, emails, statuses, invoice numbers and customers all
carry :data:`PAYLOAD`; ``build_world`` then drives it the way users and workers would, so that the
database also holds a pre-flight failure about a hostile VAT number, an invoice Maventa failed with a
hostile message, and the company page shows the name of a hostile Maventa company.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from flask_maventa import Address, Company, InvoiceStatus, Person
from flask_maventa.document.invoice import InvoiceDocument
from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, Transfer, utcnow
from flask_maventa.services import transfer
from flask_maventa.testing import MemoryAdapter
from tests.fixtures.apps import make_app
from tests.fixtures.sandbox import wait_for

PREFIX = "/settings/integrations/maventa"
HTMX = {"HX-Request": "true"}
# Closes a double- or single-quoted attribute, then tries a script, an event handler and an element of its
# own. 60 characters: it fits every column a host text is stored in (an invoice number: 64).
PAYLOAD = "X\"'><script>alert(1)</script><img src=x onerror=alert(2)><b-x>"
CASE = Path(__file__).resolve().parents[1] / "ubl" / "cases" / "no_domestic_basic.json"


def mark(text: str) -> str:
    """A host text with the payload in it (each text its own prefix, to tell them apart)."""
    return f"{text}{PAYLOAD}"


class _Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def planted_elements(html: str) -> list[tuple[str, dict]]:
    """Elements or attributes only the payload could have made: a script, an event handler, ``<b-x>``."""
    return [(tag, attrs) for tag, attrs in _Tags(html).found
            if tag in ("script", "b-x") or any(name.lower().startswith("on") for name in attrs)]


def oob_swaps(html: str) -> list[str]:
    """The ids of the elements an answer swaps out of band."""
    return [attrs.get("id", "") for tag, attrs in _Tags(html).found if "hx-swap-oob" in attrs]


def check_answer(response) -> None:
    """An answer is safe: its HTML has no planted element and its htmx headers are data, not markup."""
    assert response.status_code < 500, response.status_code
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert planted_elements(html) == [], (response.request.path, planted_elements(html))
    trigger = response.headers.get("HX-Trigger")
    if trigger:
        events = json.loads(trigger)
        assert isinstance(events, dict) and all(re.fullmatch(r"maventa:[a-z-]+", name) for name in events), trigger
        assert "<" not in trigger, trigger
    for header in ("HX-Redirect", "HX-Location", "Location"):
        if response.headers.get(header):
            assert response.headers[header].startswith((PREFIX, "/")) and not response.headers[header].startswith("//")


def hostile_adapter() -> MemoryAdapter:
    adapter = MemoryAdapter()
    address = Address(street="Storgata 1", post_code="0155", city="Oslo", country="NO")
    persons = [Person("p1", mark("Kari"), mark("Nordmann"), "kari@fjord.example", "nb"),
               Person("p2", mark("Aino"), "Virtanen", mark("aino") + "@fjord.example", "fi")]
    statuses = [InvoiceStatus("ready", mark("Ready")), InvoiceStatus("transferred", mark("Transferred")),
                InvoiceStatus("failed", mark("Failed")), InvoiceStatus("sent", mark("Sent"), is_sent=True)]
    adapter.add_company(Company("c1", mark("Fjord AS"), "923456789", "NO", vat_number="NO923456789MVA",
                                address=address, email="post@fjord.example"), persons, statuses)
    adapter.add_company(Company("c2", mark("Bergen dept"), "987654321", "NO", vat_number="NO987654321MVA",
                                address=address, email="bergen@fjord.example", parent_id="c1"), persons, statuses)
    adapter.add_company(Company("c3", mark("Support dept"), "923456789", "NO", parent_id="c1"), persons, statuses)
    return adapter


def invoice_document(number: str, **buyer) -> InvoiceDocument:
    data = json.loads(CASE.read_text())
    data["number"] = number
    data["buyer"].update(buyer)
    return InvoiceDocument.from_json(data)


@dataclass
class World:
    """What ``build_world`` made: ids to visit."""

    connection_id: int
    invoice_ids: list[str] = field(default_factory=list)
    other_uuid: str = ""
    other_key: str = ""


def hostile_app(tmp_path, sandbox, database_url=None, **config):
    return make_app(tmp_path, hostile_adapter(), database_url=database_url, MAVENTA_SANDBOX_URL=sandbox.url,
                    MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key, MAVENTA_REDIS_URL="redis://127.0.0.1:1/0",
                    MAVENTA_POLL_SCHEDULE=(0, 0, 0), **config)


def build_world(sandbox) -> World:
    """c1 connected, verified and active, with a delivered-then-failed history; run inside the app context."""
    ext = current_maventa()
    adapter: MemoryAdapter = ext.adapter
    client = ext.client()
    sandbox.config(delivery_delay=3600)  # pending until the test fails it
    key = client.create_user("owner@fjord.example", "Owner", "Fjord")
    company_uuid = client.create_company(user_api_key=key, name="Fjord AS", bid="923456789", no_vat=True,
                                         address1="Storgata 1", post_code="0155", post_office="Oslo", city="Oslo",
                                         country="NO", email="post@fjord.example")
    sandbox.sign(company_uuid)
    connection = Connection(
        company_id="c1", environment="sandbox", company_uuid=company_uuid,
        api_key_encrypted=ext.secrets().encrypt(key), company_state="VERIFIED", auth_state="SIGNED",
        transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed",
        error_emails="errors@fjord.example", settings_saved_at=utcnow(), active=True, activated_at=utcnow(),
        send_pdf=False, send_customer_email=True)
    ext.session.add(connection)
    ext.session.commit()

    # A hostile invoice number and customer that Maventa accepts, then fails with a hostile message;
    # a hostile VAT number that pre-flight refuses (its message quotes it).
    adapter.add_invoice("i1", "c1", "ready", invoice_document(mark("N1")[:64], name=mark("Kunde AS")))
    adapter.add_invoice("i2", "c1", "ready", invoice_document("N2", name=mark("Kunde AS"), vat_number=PAYLOAD))
    created = transfer.sweep(dispatch=False).created
    outcomes = {transfer.send(transfer_id).state for transfer_id in created}
    assert outcomes == {"accepted", "failed"}, outcomes
    accepted = ext.session.query(Transfer).filter_by(state="accepted").one()
    sandbox.fail(accepted.maventa_invoice_id, message=mark("Maventa says"))
    wait_for(lambda: transfer.poll(accepted.id).state == "failed")

    # Invoices still waiting, for the routing preview (a hostile customer, a hostile VAT number).
    adapter.add_invoice("i3", "c1", "ready", invoice_document("N3", name=mark("Kunde 3")))
    adapter.add_invoice("i4", "c1", "ready", invoice_document("N4", name=mark("Kunde 4"), vat_number=PAYLOAD))

    # A Maventa company with a hostile name, whose credentials someone pastes into another company.
    other_key = client.create_user("other@evil.example", "Other", "Company")
    other_uuid = client.create_company(user_api_key=other_key, name=mark("Maventa Oy"), bid="12345678",
                                       no_vat=True, address1="Street 1", post_code="00100", post_office="Helsinki",
                                       city="Helsinki", country="FI", email="other@evil.example")
    return World(connection.id, ["i1", "i2"], other_uuid, other_key)


def csrf_token(client, path: str = f"{PREFIX}/companies/c1") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no form with a CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def world_app(tmp_path, sandbox):
    app = hostile_app(tmp_path, sandbox)
    with app.app_context():
        world = build_world(sandbox)
        yield app, world
