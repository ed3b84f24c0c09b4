"""Every page and action with JavaScript disabled: links, plain form posts and redirects (htmx is only an
enhancement). One browser context without JavaScript walks each page and uses what it offers.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from example_app.models import Person, db
from flask_maventa.infra.models import Connection, Transfer

from .conftest import World


def connection_of(company) -> Connection:
    db.session.expire_all()
    return db.session.scalars(sa.select(Connection).where(Connection.company_id == str(company.id))).one()


@pytest.mark.browser
def test_every_page_renders_without_javascript(world: World, nojs_page):
    page = nojs_page
    for name, path in world.pages().items():
        response = page.goto(world.url + path)
        assert response.status in (200, 400, 404), name
        assert page.locator("link[href$='maventa/maventa.css']").count() == 1, name  # styled, not a fragment
        assert page.locator("h1").count() == 1, name
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), name


@pytest.mark.browser
def test_register_connect_sign_and_refresh_without_javascript(world: World, nojs_page, sandbox):
    page = nojs_page
    # Register from the company page of a company that is not connected.
    page.goto(f"{world.url}/companies/{world.tromso.id}")
    register = page.locator("form.maventa-register-inline")
    register.locator("select[name=person]").select_option(label="Siri Bakken <siri.bakken@fjordline.example>")
    page.locator("form.maventa-register-inline").get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"notice=registered"))
    page.get_by_text("The company is registered in Maventa").wait_for()
    assert connection_of(world.tromso).has_credentials

    # Send the signing request with the email left empty (no htmx fills it in from the approver): it goes
    # to the approver's own address. Then Refresh.
    page.goto(f"{world.url}/companies/{world.revontuli.id}")
    approver = page.locator("select[name=approver] option").nth(1)
    page.locator("select[name=approver]").select_option(index=1)
    assert page.locator("input[name=email]").input_value() == ""
    page.get_by_role("button", name="Send email").click()
    page.wait_for_url(re.compile(r"#maventa-signing$"))
    own = db.session.get(Person, int(approver.get_attribute("value"))).email
    page.locator("#maventa-signing").get_by_text(f"Sent to {own}").wait_for()  # not the history
    assert connection_of(world.revontuli).auth_email == own
    sandbox.sign(connection_of(world.revontuli).company_uuid)
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("Signed and verified").wait_for()
    assert connection_of(world.revontuli).verified

    # Credentials: a wrong UUID is refused on the page itself, the field named.
    page.goto(f"{world.url}/companies/{world.revontuli.id}")
    page.locator("input[name=company_uuid]").fill("not-a-uuid")
    page.get_by_role("button", name="Save and test").click()
    uuid_field = page.locator("input[name=company_uuid]")
    assert uuid_field.get_attribute("aria-invalid") == "true"
    described = uuid_field.get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{d}").inner_text().strip() for d in described if d.startswith("errors-"))


@pytest.mark.browser
def test_settings_activation_print_routing_without_javascript(world: World, nojs_page, sandbox):
    page = nojs_page
    # The Sent-flag refusal of the switch, shown on the page it posts back to.
    page.goto(f"{world.url}/companies/{world.bergen.id}")
    page.locator("#maventa-switch").click()
    page.locator("#maventa-activation .maventa-refusal").get_by_text(
        "Status of invoices to be transferred can not be sent").wait_for()
    assert not connection_of(world.bergen).active

    # Choose another transfer status, save (303 back to the page), and switch on.
    page.locator("select[name=transfer_status_id]").select_option(str(world.statuses["Ready for Maventa"].id))
    page.locator("#maventa-settings-save").click()
    page.wait_for_url(re.compile(r"saved=1"))
    page.get_by_text("Saved. The integration is available").wait_for()
    page.locator("#maventa-switch").click()
    page.locator("#maventa-switch[aria-checked=true]").wait_for()
    assert connection_of(world.bergen).active

    # Maventa's print setting: a link (no load trigger without JavaScript), the question, then Yes.
    page.get_by_role("link", name="Show Maventa's print setting").click()
    page.locator("#maventa-print-switch").click()
    page.get_by_text("Maventa charges every printed page").wait_for()
    uuid = connection_of(world.bergen).company_uuid
    assert sandbox.company(uuid)["settings"]["send_invoice_print"]["use_own_pdf"] is False
    page.locator("#maventa-print-switch").click()
    page.locator("[data-use-own-pdf=on]").wait_for()
    assert sandbox.company(uuid)["settings"]["send_invoice_print"]["use_own_pdf"] is True

    # The routing preview is a link to the page with the preview.
    page.goto(f"{world.url}/companies/{world.fjordline.id}")
    page.get_by_role("link", name="Show where the invoices would go").click()
    page.locator("#maventa-routing tr[data-route]").first.wait_for()


@pytest.mark.browser
def test_transfer_log_filter_timeline_and_retry_without_javascript(world: World, nojs_page):
    page = nojs_page
    page.goto(f"{world.url}/transfers")
    page.locator("select[name=state]").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"state=failed"))
    assert page.locator("select[name=state]").input_value() == "failed"
    rows = page.locator("#maventa-transfer-log tr[data-state]")
    assert rows.count() == 1 and rows.first.get_attribute("data-state") == "failed"

    page.locator("#maventa-transfer-log tr[data-state=failed] a").first.click()
    page.locator("#maventa-timeline").wait_for()
    page.locator(f"#retry-{world.failed.id}").click()  # back where it was clicked, after a 303
    page.wait_for_url(re.compile(r"/transfers/\d+/invoices/"))
    db.session.expire_all()
    states = db.session.scalars(sa.select(Transfer.state).where(Transfer.invoice_id == world.failed.invoice_id)).all()
    assert "queued" in states
