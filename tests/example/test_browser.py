"""The settings, the activation switch and the routing preview in a real Chromium, inside the example ERP
(its own layout and its htmx from npm), against the sandbox over HTTP. Nothing reloads the page:
every step is an htmx swap, as a finance admin would click through it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from example_app.models import Company, Invoice, InvoiceStatus, Person, db
from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection
from tests.fixtures.apps import LiveServer
from tests.fixtures.services import require_service

from .conftest import make_erp

PREFIX = "/settings/integrations/maventa"
HTMX_FILE = "example_app/static/vendor/htmx.min.js"


def _verified_connection(sandbox, company: Company, person: Person) -> Connection:
    """Registered and signed the way the onboarding pages do it (their own browser test covers those)."""
    ext = current_maventa()
    client = ext.client()
    key = client.create_user(person.email, person.first_name, person.last_name)
    uuid = client.create_company(user_api_key=key, name=company.name, bid=company.business_id, no_vat=False,
                                 address1="Storgata 1", post_code="0155", post_office="Oslo", city="Oslo",
                                 country="NO", email=person.email)
    sandbox.sign(uuid)
    connection = Connection(company_id=str(company.id), environment="sandbox", company_uuid=uuid,
                            api_key_encrypted=ext.secrets().encrypt(key), company_state="VERIFIED",
                            auth_state="SIGNED")
    ext.session.add(connection)
    ext.session.commit()
    return connection


def _fjordline(sandbox) -> tuple[Company, dict[str, InvoiceStatus], Connection]:
    """The seeded company, verified in the sandbox, with the ERP's statuses by name."""
    company = db.session.scalars(sa.select(Company).where(Company.name == "Fjordline Consulting AS")).one()
    person = db.session.scalars(sa.select(Person).where(Person.company_id == company.id)).first()
    statuses = {s.name: s for s in db.session.scalars(sa.select(InvoiceStatus))}
    return company, statuses, _verified_connection(sandbox, company, person)


def _invoice(number: str) -> Invoice:
    return db.session.scalars(sa.select(Invoice).where(Invoice.number == number)).one()


@pytest.fixture
def erp_server(monkeypatch, tmp_path, sandbox):
    if not (Path(__file__).resolve().parents[2] / HTMX_FILE).is_file():
        require_service("htmx", f"{HTMX_FILE} is missing (`make htmx` installs it from npm)")
    app = make_erp(monkeypatch, tmp_path, MAVENTA_ENVIRONMENT="sandbox", MAVENTA_SANDBOX_URL=sandbox.url,
                   MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key, MAVENTA_REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        yield app, LiveServer(app)


@pytest.mark.browser
def test_settings_refusal_save_activate_and_routing_preview_without_a_reload(erp_server, page, sandbox):
    app, server = erp_server
    company, statuses, connection = _fjordline(sandbox)
    nordlys = _invoice("10001")
    nordlys.status_id = statuses["Ready for Maventa"].id
    db.session.commit()
    sandbox.seed_receivers({"eia": nordlys.customer.einvoice_address, "operator": "PEPPOL"})

    try:
        page.goto(f"{server.url}{PREFIX}/companies/{company.id}")
        page.evaluate("window.__samePage = true")
        settings = page.locator("#maventa-settings")

        # PRODUCT §3: the Sent-flagged status is refused inline, with the way to fix it.
        settings.locator("select[name=transfer_status_id]").select_option(str(statuses["Ready to send"].id))
        page.get_by_text("Status of invoices to be transferred can not be sent").first.wait_for()
        assert page.locator("#maventa-settings a[href*='statuses']").count() >= 1

        settings = page.locator("#maventa-settings")
        settings.locator("select[name=transfer_status_id]").select_option(str(statuses["Ready for Maventa"].id))
        page.wait_for_function("!document.body.innerText.includes('can not be sent')")
        settings = page.locator("#maventa-settings")
        settings.locator("select[name=success_status_id]").select_option(str(statuses["Transferred to Maventa"].id))
        settings = page.locator("#maventa-settings")
        settings.locator("select[name=failure_status_id]").select_option(str(statuses["Maventa transfer failed"].id))
        # Save right after the last change: the inline check in flight must not overwrite the saved form.
        page.locator("#maventa-settings").get_by_role("button", name="Save").click()
        page.get_by_text("Saved. The integration is available").wait_for()

        # The switch re-renders itself on "settings saved"; switching it on is one more swap.
        switch = page.locator("#maventa-activation button[role=switch]")
        page.wait_for_function("!document.querySelector('#maventa-activation button[role=switch]').disabled")
        switch.click()
        page.locator("#maventa-activation button[role=switch][aria-checked=true]").wait_for()

        # The routing preview asks Maventa only when clicked.
        page.get_by_text("Show where the invoices would go").click()
        row = page.locator(f"#maventa-routing tr[data-invoice='{nordlys.id}']")
        row.wait_for()
        assert row.get_attribute("data-route") == "einvoice"
        assert "receives e-invoices" in row.inner_text()

        assert page.evaluate("window.__samePage") is True  # every step was an htmx swap
        db.session.expire_all()
        saved = db.session.get(Connection, connection.id)
        assert saved.active and saved.transfer_status_id == str(statuses["Ready for Maventa"].id)
    finally:
        server.stop()


@pytest.mark.browser
def test_live_counters_and_retry_in_the_transfer_log(erp_server, page, sandbox):
    """One invoice is accepted and one fails pre-flight while the page is open: the counters follow by
    themselves; Retry after the fix puts the failed one back on its way, all without a reload."""
    from flask_maventa.services import transfer

    app, server = erp_server
    company, statuses, connection = _fjordline(sandbox)
    connection.transfer_status_id = str(statuses["Ready for Maventa"].id)
    connection.success_status_id = str(statuses["Transferred to Maventa"].id)
    connection.failure_status_id = str(statuses["Maventa transfer failed"].id)
    connection.active = True
    good, bad = _invoice("10001"), _invoice("10003")
    street = bad.customer.street
    bad.customer.street = None  # pre-flight stops it: "The customer has no street address."
    for invoice in (good, bad):
        invoice.status_id = statuses["Ready for Maventa"].id
    db.session.commit()
    sandbox.seed_receivers({"eia": good.customer.einvoice_address, "operator": "PEPPOL"})

    try:
        page.goto(f"{server.url}{PREFIX}/transfers")
        page.evaluate("window.__samePage = true")
        assert page.locator("[data-counter=failed] strong").inner_text() == "0"

        for transfer_id in transfer.sweep(dispatch=False).created:  # what the worker does, in-process
            transfer.send(transfer_id)
        page.wait_for_function(  # the counters poll every 5 s while the page is open
            "document.querySelector('[data-counter=failed] strong').innerText === '1'", timeout=15_000)
        assert page.locator("[data-counter=accepted] strong").inner_text() == "1"

        bad.customer.street = street
        db.session.commit()
        page.reload()  # the log's rows are read on load; the counters were the live part
        page.evaluate("window.__samePage = true")
        failed_row = page.locator("#maventa-transfer-log tr[data-state=failed]")
        assert "The customer has no street address." in failed_row.inner_text()
        failed_row.get_by_role("button", name="Retry").click()
        page.locator("#maventa-transfer-log tr[data-state=queued]").wait_for()
        assert page.evaluate("window.__samePage") is True  # Retry was an htmx swap
        # The clicked button went with the swap; focus is on what it did, not lost to the page's body.
        page.wait_for_function("document.activeElement.matches('#maventa-transfer-log .maventa-success')")
        assert "10003" in page.evaluate("document.activeElement.innerText")
        db.session.expire_all()
        assert db.session.get(Invoice, bad.id).status_id == statuses["Ready for Maventa"].id
        assert db.session.get(Connection, connection.id).active
    finally:
        server.stop()


# -- the ERP's own pages on any screen, and without JavaScript ----------------------------------------------

ERP_PAGES = ["/invoices", "/customers", "/customers/{solberg}", "/invoice-statuses"]
OVERFLOW = """() => ({page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                      header: document.querySelector('.erp-header').scrollWidth - window.innerWidth})"""


def _solberg_id() -> int:
    from example_app.models import Customer

    return db.session.scalars(sa.select(Customer.id).where(Customer.name == "Solberg Snekkeri")).one()


# The widths each language is checked at: every language on a phone (the longest words wrap there), the
# Finnish and Norwegian labels at 870 px (the tightest table), English at a tablet's and a desktop's width.
WIDTHS_BY_LANGUAGE = {"en": (375, 768, 1280), "nb": (375, 870), "fi": (375, 870), "sv": (375,)}


@pytest.mark.browser
def test_the_erp_pages_fit_the_screen_without_sideways_scrolling(erp_server, page):
    """Each page is loaded once per language and checked at each of its widths in turn (the viewport resized,
    the layout recomputed by the browser); loading it again per width would prove nothing more."""
    app, server = erp_server
    solberg = _solberg_id()
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        for lang, widths in WIDTHS_BY_LANGUAGE.items():
            page.goto(f"{server.url}/invoices")
            page.locator("select[name=lang-language]").select_option(lang)
            page.wait_for_url("**/invoices")
            page.locator(f"html[lang={lang}]").wait_for(state="attached")
            # Around the extension's pages (their own layout comes later) the ERP's header fits too.
            for path in [*ERP_PAGES, f"{PREFIX}/"]:
                page.goto(server.url + path.format(solberg=solberg))
                for width in widths:
                    page.set_viewport_size({"width": width, "height": 800})
                    overflow = page.evaluate(OVERFLOW)
                    assert overflow["header"] <= 0, (lang, width, path, overflow)
                    assert path.startswith(PREFIX) or overflow["page"] <= 0, (lang, width, path, overflow)
                    if width == 375 and path == "/invoices":  # one card per invoice, each value labelled
                        cell = page.locator("#invoices tbody tr").first.locator("td").nth(2)
                        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
                        assert label.strip('"').startswith(("Customer", "Kunde", "Asiakas", "Kund")), (lang, label)
                        assert page.locator("#invoices select").first.is_visible()
    finally:
        server.stop()


@pytest.mark.browser
def test_the_customer_card_works_without_javascript(erp_server, browser):
    """Fix what a failed invoice needs with JavaScript off: a plain form, errors next to their fields."""
    from example_app.models import Customer

    app, server = erp_server
    solberg = _solberg_id()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{server.url}/customers")
        page.get_by_role("link", name="Solberg Snekkeri").click()
        page.get_by_label("Invoicing email").fill("post@solberg")
        page.get_by_label("E-invoice address").fill("0192:975312460")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Nothing was saved: correct the fields marked below.").wait_for()
        email = page.get_by_label("Invoicing email")
        assert email.get_attribute("aria-invalid") == "true"
        described = email.get_attribute("aria-describedby")
        assert "valid email address" in page.locator(f"#{described}").inner_text()
        assert "check the digits" in page.locator("#einvoice_address-error").inner_text()
        assert page.get_by_label("E-invoice address").input_value() == "0192:975312460"  # kept to correct

        page.get_by_label("Invoicing email").fill("post@solberg.example")
        page.get_by_label("E-invoice address").fill("")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Customer card saved.").wait_for()
        assert page.url.endswith(f"/customers/{solberg}")
        assert "Reachable by: email." in page.locator("main").inner_text()
        # From the card to where Retry is: the invoice's row in the transfer log.
        assert page.locator("a", has_text="Transfer log").first.get_attribute("href").startswith(
            f"{PREFIX}/transfers?number=")
        db.session.expire_all()
        assert db.session.get(Customer, solberg).email == "post@solberg.example"
    finally:
        context.close()
        server.stop()
