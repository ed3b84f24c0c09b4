"""Every page of the extension, inside the example ERP (its layout, its htmx from npm), with a world in which
each page has something to show: an active company with a delivered and a failed invoice, a verified one whose
transfer status carries the Sent flag, one waiting for its signature, one not connected, an ineligible
department. The sandbox Maventa answers over real HTTP.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from example_app.models import Company, Invoice, InvoiceStatus, Person, db
from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, Transfer
from tests.example.conftest import make_erp
from tests.example.test_browser import _verified_connection
from tests.fixtures.apps import LiveServer
from tests.fixtures.services import require_service

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/settings/integrations/maventa"
HTMX_FILE = ROOT / "example_app" / "static" / "vendor" / "htmx.min.js"
AXE_FILE = ROOT / "tests" / "thirdparty" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (375, 768, 1280)


@dataclass
class World:
    url: str
    fjordline: Company  # active: one invoice accepted, one failed with a hint
    bergen: Company  # verified, settings saved with the Sent-flagged "Ready to send" as transfer status
    revontuli: Company  # User API key saved, agreement not signed yet
    tromso: Company  # not connected
    support: Company  # a department without a VAT number of its own: cannot be connected
    failed: Transfer
    statuses: dict[str, InvoiceStatus]

    def pages(self) -> dict[str, str]:
        """Every page a user can reach, by a short name: the paths under the extension's prefix."""
        f, t = self.fjordline.id, self.failed
        return {
            "index": "/",
            "register": "/register",
            "company-active": f"/companies/{f}",
            "company-refused": f"/companies/{self.bergen.id}",
            "company-signing": f"/companies/{self.revontuli.id}",
            "company-new": f"/companies/{self.tromso.id}",
            "company-ineligible": f"/companies/{self.support.id}",
            "print-settings": f"/companies/{f}/settings/print",
            "routing": f"/companies/{f}/routing",
            "transfers": "/transfers",
            "transfers-failed": "/transfers?state=failed",
            "timeline": f"/transfers/{t.connection_id}/invoices/{t.invoice_id}",
            "error-404": "/companies/999999",
            "error-400": "/transfers?number=%00",
        }


def _invoice(number: str) -> Invoice:
    return db.session.scalars(sa.select(Invoice).where(Invoice.number == number)).one()


def _company(name: str) -> Company:
    return db.session.scalars(sa.select(Company).where(Company.name == name)).one()


def _connected(sandbox, company: Company) -> Connection:
    person = db.session.scalars(sa.select(Person).where(Person.company_id == company.id)).first()
    return _verified_connection(sandbox, company, person)


def build_world(sandbox, url: str) -> World:
    from flask_maventa.services import transfer

    statuses = {s.name: s for s in db.session.scalars(sa.select(InvoiceStatus))}
    fjordline, bergen = _company("Fjordline Consulting AS"), _company("Fjordline Bergen AS")
    revontuli, support = _company("Revontuli Oy"), _company("Fjordline Support")
    tromso = Company(name="Fjordline Tromsø AS", business_id="914778271", vat_number="NO914778271MVA",
                     country="NO", street="Storgata 90", post_code="9008", city="Tromsø", currency="NOK")
    db.session.add(tromso)
    db.session.add(Person(company=tromso, first_name="Siri", last_name="Bakken",
                          email="siri.bakken@fjordline.example", language="nb"))

    active = _connected(sandbox, fjordline)
    active.transfer_status_id = str(statuses["Ready for Maventa"].id)
    active.success_status_id = str(statuses["Transferred to Maventa"].id)
    active.failure_status_id = str(statuses["Maventa transfer failed"].id)
    active.settings_saved_at = dt.datetime.now(dt.UTC)
    active.active = True
    good, bad = _invoice("10001"), _invoice("10003")
    bad.customer.street = None  # pre-flight stops it, with what to change
    for invoice in (good, bad):
        invoice.status_id = statuses["Ready for Maventa"].id
    _invoice("10002").status_id = statuses["Ready for Maventa"].id  # stays due: the routing preview shows it

    refused = _connected(sandbox, bergen)
    refused.transfer_status_id = str(statuses["Ready to send"].id)  # carries the Sent flag
    refused.success_status_id = str(statuses["Transferred to Maventa"].id)
    refused.failure_status_id = str(statuses["Maventa transfer failed"].id)
    refused.settings_saved_at = dt.datetime.now(dt.UTC)

    ext = current_maventa()
    person = db.session.scalars(sa.select(Person).where(Person.company_id == revontuli.id)).first()
    client = ext.client()
    key = client.create_user(person.email, person.first_name, person.last_name)
    uuid = client.create_company(user_api_key=key, name=revontuli.name, bid=revontuli.business_id, no_vat=False,
                                 address1="Mannerheimintie 10", post_code="00100", post_office="Helsinki",
                                 city="Helsinki", country="FI", email=person.email)
    db.session.add(Connection(company_id=str(revontuli.id), environment="sandbox", company_uuid=uuid,
                              api_key_encrypted=ext.secrets().encrypt(key), company_state="UNVERIFIED",
                              auth_state="NONE"))
    db.session.commit()

    sandbox.seed_receivers({"eia": good.customer.einvoice_address, "operator": "PEPPOL"})
    for transfer_id in transfer.sweep(dispatch=False).created:  # what the worker does, in-process
        transfer.send(transfer_id)
    _invoice("10002").status_id = statuses["Ready for Maventa"].id
    db.session.commit()
    failed = db.session.scalars(sa.select(Transfer).where(Transfer.state == "failed")).one()
    return World(url, fjordline, bergen, revontuli, tromso, support, failed, statuses)


def require_file(path: Path, name: str, make_target: str) -> Path:
    if not path.is_file():
        require_service(name, f"{path.relative_to(ROOT)} is missing (`make {make_target}` installs it from npm)")
    return path


@pytest.fixture
def world(monkeypatch, tmp_path, sandbox):
    require_file(HTMX_FILE, "htmx", "htmx")
    app = make_erp(monkeypatch, tmp_path, MAVENTA_ENVIRONMENT="sandbox", MAVENTA_SANDBOX_URL=sandbox.url,
                   MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key, MAVENTA_REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        server = LiveServer(app)
        try:
            yield build_world(sandbox, server.url + PREFIX)
        finally:
            server.stop()


@pytest.fixture
def axe_source() -> str:
    return require_file(AXE_FILE, "axe-core", "axe").read_text()


@pytest.fixture
def nojs_page(browser):
    """A browser with JavaScript disabled: every page and action must work as plain links and form posts."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


# The README's screenshots: written only when asked, so an ordinary run leaves the tree clean.
SCREENSHOTS = os.environ.get("WRITE_SCREENSHOTS") == "1"
DOCS = ROOT / "docs"

