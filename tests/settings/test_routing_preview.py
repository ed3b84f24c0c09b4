"""The routing preview: where invoices in the transfer status would go, checked against the sandbox's own routing."""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path

import pytest

from flask_maventa.document.invoice import Address, Endpoint, InvoiceDocument
from flask_maventa.document.ubl import build_ubl
from flask_maventa.extension import current_maventa
from flask_maventa.services import routing

from .conftest import HTMX, PREFIX

CASE = Path(__file__).resolve().parents[1] / "ubl" / "cases" / "no_domestic_basic.json"
STREET = Address(street="Kundeveien 5", city="Bergen", post_code="5003", country="NO")


def invoice(number: str, *, eia: str | None = None, operator: str | None = None, email: str | None = None,
            address: Address | None = STREET) -> InvoiceDocument:
    """The basic Norwegian case with the buyer's routing data replaced.

    The buyer keeps its organisation number: Peppol BIS needs a buyer endpoint, so without an explicit
    one the document derives 0192:<org number>, which Maventa looks up and, unknown, falls back from.
    """
    doc = InvoiceDocument.from_json(CASE.read_bytes())
    scheme, _, value = (eia or "0192:").partition(":")
    buyer = dataclasses.replace(
        doc.buyer, name=f"Customer {number}", endpoint=Endpoint(scheme, value) if eia else None,
        einvoice_operator=operator, email=email,
        address=address)
    return dataclasses.replace(doc, number=number, buyer=buyer)


# Buyers covering every branch of Maventa's order (e-invoice → email → print), by registry entry.
REGISTERED = "0192:910000004"
BUYERS = {
    "einvoice-registered": dict(eia=REGISTERED),
    "einvoice-pinned-registered": dict(eia=REGISTERED, operator="PEPPOL"),
    "einvoice-pinned-unknown": dict(eia="0192:910000012", operator="PEPPOL", email="ap@pinned.example"),
    "unknown-eia-then-email": dict(eia="0192:910000020", email="ap@fallback.example"),
    "email-only": dict(email="ap@email.example"),
    "print-only": dict(),
    "nothing": dict(address=Address(street=None, city="Bergen", post_code=None, country="NO")),
}


def _add(adapter, buyers=BUYERS):
    for n, (name, fields) in enumerate(buyers.items(), 1):
        adapter.add_invoice(name, "c1", "ready", document=invoice(f"R-{n}", **fields))


def _routes(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-invoice="([^"]+)" data-route="([^"]+)"', html))


def _set_print(connection, enabled: bool):
    current_maventa().company_client(connection).update_settings({"send_invoice_print": {"enabled": enabled}})


def test_the_preview_follows_maventas_order_with_customer_email_on(app, client, adapter, sandbox, verified_connection):
    verified_connection.send_customer_email = True
    current_maventa().session.commit()
    sandbox.seed_receivers({"eia": REGISTERED, "name": "Registered AS"})
    _set_print(verified_connection, True)
    _add(adapter)

    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)

    assert _routes(html) == {
        "einvoice-registered": "einvoice", "einvoice-pinned-registered": "einvoice",
        "einvoice-pinned-unknown": "none",  # EIA + operator pins the route: no fallback to its email
        "unknown-eia-then-email": "email", "email-only": "email", "print-only": "print",
        "nothing": "blocked",  # pre-flight stops it: it would go to the failure status unsent
    }
    assert "Maventa tries no other route" in html
    assert "Stopped before sending" in html and "The customer has no street address." in html


def test_without_customer_email_maventa_falls_to_print(app, client, adapter, sandbox, verified_connection):
    verified_connection.send_customer_email = False
    current_maventa().session.commit()
    _set_print(verified_connection, True)
    _add(adapter, {k: BUYERS[k] for k in ("unknown-eia-then-email", "email-only")})

    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)

    assert _routes(html) == {"unknown-eia-then-email": "print", "email-only": "print"}
    assert "is not chosen in the settings" in html


def test_print_service_off_leaves_postal_only_customers_undeliverable(app, client, adapter, sandbox,
                                                                     verified_connection):
    _add(adapter, {"print-only": BUYERS["print-only"]})
    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)
    assert _routes(html) == {"print-only": "none"}
    assert "print service is off for this company" in html


@pytest.mark.parametrize("send_customer_email", [True, False])
def test_the_preview_agrees_with_where_the_sandbox_delivers(app, adapter, sandbox, verified_connection,
                                                            send_customer_email):
    """Send every buyer's invoice with the transfer job's own parameters: the preview predicted each channel."""
    verified_connection.send_customer_email = send_customer_email
    current_maventa().session.commit()
    sandbox.seed_receivers({"eia": REGISTERED})
    sandbox.config(delivery_delay=0)
    _set_print(verified_connection, True)
    _add(adapter)
    preview = routing.preview_due(verified_connection)
    assert preview.problems == ()
    company = current_maventa().company_client(verified_connection)
    assert [p.invoice_id for p in preview.previews if p.blockers] == ["nothing"]
    sendable = [p for p in preview.previews if not p.blockers]
    for p in sendable:
        doc = adapter.get_invoice_document(p.invoice_id)
        params = routing.send_params(doc.routing(), verified_connection)
        company.send_invoice(build_ubl(doc), f"{p.invoice_id}.xml", uuid=_uuid(p.invoice_id, send_customer_email),
                             **params)
    delivered = {i["number"]: i["route"] for i in sandbox.invoices()["invoices"]}
    channels = {"einvoice": "EINVOICE", "email": "EMAIL", "print": "PRINT"}
    assert len(delivered) == len(sendable)
    for p in sendable:
        route = delivered[p.number]
        assert route["delivered"] == (p.route is not None), (p.invoice_id, route)
        if p.route:
            assert route["channel"] == channels[p.route], (p.invoice_id, route)


def _uuid(invoice_id: str, flag: bool) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"preview-test/{invoice_id}/{flag}"))


def test_maventa_unreachable_marks_the_routes_unconfirmed(app, client, adapter, sandbox, verified_connection):
    _add(adapter, {"einvoice-registered": BUYERS["einvoice-registered"]})
    sandbox.config(error_rate=1.0, fault_paths=["GET /v1/lookup/receivers", "GET /v1/company/settings"])
    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)
    assert "are unconfirmed" in html
    assert "? E-invoice: Maventa could not be asked whether 0192:910000004 receives e-invoices." in html
    assert _routes(html) == {"einvoice-registered": "einvoice"}


def test_the_section_asks_maventa_only_when_clicked_and_works_without_javascript(app, client, adapter, sandbox,
                                                                                  verified_connection):
    _add(adapter, {"email-only": BUYERS["email-only"]})
    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert 'id="maventa-routing"' in page and "Show where the invoices would go" in page
    asked = sandbox.stats()["requests"]
    assert not [op for op in asked if "lookup/receivers" in op or op.startswith("GET /v1/company/settings")], asked

    full = client.get(f"{PREFIX}/companies/c1/routing")  # no htmx: the whole company page, preview filled in
    html = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in html and 'id="maventa-settings"' in html
    assert _routes(html) == {"email-only": "email"}


def test_no_section_before_the_company_is_verified(app, client, sandbox):
    from .conftest import offline_connection

    offline_connection(verified=False)
    assert 'id="maventa-routing"' not in client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)
    assert "Where invoices go" not in html


def test_before_the_settings_are_saved_the_preview_says_what_to_do_first(app, client, sandbox):
    from .conftest import offline_connection

    offline_connection(saved=False)
    assert 'id="maventa-routing"' in client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)
    assert "Choose the status of invoices to be transferred in the settings first." in html
    assert "data-invoice" not in html


def test_an_empty_transfer_status_says_so(app, client, sandbox, verified_connection):
    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)
    assert "No invoices are in the transfer status now." in html


def test_the_preview_needs_permission(app, client, adapter, sandbox, verified_connection):
    adapter.allowed = {"c1-bergen"}
    assert client.get(f"{PREFIX}/companies/c1/routing").status_code == 403
