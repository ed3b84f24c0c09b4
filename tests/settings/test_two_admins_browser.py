"""Two admins in two real browsers (two Playwright contexts, so two sessions) on the same company's page.

The first saves the settings and then turns the switch on in the same page (which must not count as stale:
htmx updated the version of every form on her page); the second saves the page he opened before, is told
what changed and by whom, nothing of his is saved, and one click applies his change on top of hers.
"""

from __future__ import annotations

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection
from tests.onboarding.test_browser import serve_with_htmx

from .conftest import PREFIX, sandbox_connection


@pytest.fixture
def server(app):
    live = serve_with_htmx(app, "two_admins_layout.html")
    yield live
    live.stop()


def stored() -> Connection:
    session = current_maventa().session
    session.expire_all()
    return session.query(Connection).filter_by(company_id="c1").one()


@pytest.mark.browser
@pytest.mark.settings(MAVENTA_BASE_TEMPLATE="two_admins_layout.html")
def test_two_admins_in_two_browsers(server, browser, sandbox, app):
    sandbox_connection(sandbox)
    url = f"{server.url}{PREFIX}/companies/c1"
    contexts = [browser.new_context(), browser.new_context()]
    try:
        anna, bjorn = (context.new_page() for context in contexts)
        anna.goto(url)
        bjorn.goto(url)

        anna.locator("input[name=error_emails]").fill("anna@fjord.example")
        anna.evaluate("document.querySelector('#maventa-activation').dataset.before = 'save'")
        anna.locator("#maventa-settings").get_by_role("button", name="Save").click()
        anna.locator("#maventa-settings .maventa-success").wait_for()
        # the save's answer brings the switch too, in the same swap: the one shown is the fresh one at once
        assert anna.evaluate("document.querySelector('#maventa-activation').dataset.before") is None
        anna.get_by_role("switch").click()  # her page's forms carry the version her save made
        anna.wait_for_function(
            "document.querySelector('#maventa-activation [role=switch]').getAttribute('aria-checked') === 'true'",
            timeout=60_000)
        assert anna.locator("#maventa-activation [data-conflict]").count() == 0
        assert stored().active and stored().error_emails == "anna@fjord.example"

        bjorn.locator("input[name=send_pdf]").uncheck()
        bjorn.locator("#maventa-settings").get_by_role("button", name="Save").click()
        alert = bjorn.locator("#maventa-settings [data-conflict]")
        alert.wait_for()
        text = alert.inner_text()
        assert "Nothing was saved" in text
        assert "saved the settings" in text and "turned synchronisation on" in text
        assert "Error email addresses: now \u201canna@fjord.example\u201d" in text
        assert stored().send_pdf is True  # nothing of his was saved

        # His change waits in the form, on top of hers: one click applies it.
        assert bjorn.locator("input[name=error_emails]").input_value() == "anna@fjord.example"
        assert not bjorn.locator("input[name=send_pdf]").is_checked()
        bjorn.get_by_role("button", name="Apply my changes").click()
        # not get_by_text("Saved."): the conflict's own "… saved the settings." matches that at once
        bjorn.locator("#maventa-settings .maventa-success").wait_for()
        assert alert.count() == 0
        connection = stored()
        assert (connection.send_pdf, connection.error_emails, connection.active) == (
            False, "anna@fjord.example", True)
    finally:
        for context in contexts:
            context.close()
