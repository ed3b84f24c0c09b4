"""The whole onboarding in a real Chromium: Register → signing request → the sandbox signs →
the page shows Verified without a reload.

The test app's default layout loads no htmx, so this test serves it from the npm tarball the
example app installs (example_app/static/vendor/htmx.min.js), or from $MAVENTA_TEST_HTMX.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask import send_file
from jinja2 import ChoiceLoader, DictLoader

from tests.fixtures.apps import LiveServer
from tests.fixtures.services import require_service

from .conftest import PREFIX, connection_row

HTMX_FILE = Path(__file__).resolve().parents[2] / "example_app" / "static" / "vendor" / "htmx.min.js"
LAYOUT = """<!doctype html>
<html><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title>
<script src="/vendor/htmx.min.js"></script>{% block head %}{% endblock %}</head>
<body><main>{% block content %}{% endblock %}</main></body></html>"""


def htmx_file() -> Path:
    candidates = [Path(os.environ["MAVENTA_TEST_HTMX"])] if os.environ.get("MAVENTA_TEST_HTMX") else []
    candidates.append(HTMX_FILE)
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        require_service("htmx", f"{HTMX_FILE} is missing (the example app's setup installs it from npm)")
    return found


def serve_with_htmx(app, layout_name: str) -> LiveServer:
    """``app`` over real HTTP with htmx and a bare host layout named ``layout_name`` (MAVENTA_BASE_TEMPLATE)."""
    script = htmx_file()
    app.jinja_env.loader = ChoiceLoader([DictLoader({layout_name: LAYOUT}), app.jinja_env.loader])
    app.add_url_rule("/vendor/htmx.min.js", "test_htmx", lambda: send_file(script, mimetype="text/javascript"))
    return LiveServer(app)


@pytest.fixture
def server(app):
    live = serve_with_htmx(app, "onboarding_test_layout.html")
    yield live
    live.stop()


@pytest.mark.browser
@pytest.mark.settings(MAVENTA_BASE_TEMPLATE="onboarding_test_layout.html", MAVENTA_SIGNING_POLL_SCHEDULE=(1, 1, 1))
def test_register_sign_and_see_verified_without_reload(server, page, sandbox):
    page.goto(f"{server.url}{PREFIX}/")
    register = page.locator("#maventa-register")
    # Choosing the company reloads the form for it (its persons): wait for that answer and its swap, or
    # the click below lands on the form the swap is about to replace (seen in CI: no POST was ever made).
    with page.expect_response(lambda r: "/register?company=c1" in r.url):
        register.locator("select[name=company]").select_option("c1")
    page.wait_for_function("document.querySelector('#maventa-register select[name=company]').value === 'c1'"
                           " && !document.querySelector('#maventa-register .htmx-request, #maventa-register.htmx-request')"
                           " && !document.querySelector('#maventa-register .htmx-settling, #maventa-register.htmx-settling')")
    register = page.locator("#maventa-register")
    register.locator("select[name=person]").select_option("p1")
    register.get_by_role("button", name="Register").click()

    page.wait_for_url(re.compile(r"/companies/c1\?notice=registered"))
    page.get_by_text("The company is registered in Maventa").wait_for()
    connection = connection_row("c1")
    assert page.locator("input[name=company_uuid]").input_value() == connection.company_uuid
    assert page.locator("input[name=api_key]").input_value().startswith("•" * 12)

    # The approver fills in the email and the language (an htmx swap); the email stays editable.
    page.locator("select[name=approver]").select_option("p2")
    page.wait_for_function("document.querySelector('input[name=email]').value === 'aino@fjord.example'")
    assert page.locator("select[name=locale]").input_value() == "FI"
    page.locator("input[name=email]").fill("signer@fjord.example")
    page.get_by_role("button", name="Send email").click()
    page.get_by_text("Sent to signer@fjord.example on").wait_for()
    assert sandbox.company(connection.company_uuid)["auth_email"] == "signer@fjord.example"

    page.evaluate("window.__stillTheSamePage = true")
    sandbox.sign(connection.company_uuid)
    # The open page asks every few seconds; the wait ends when its swap shows the state (the page's
    # default limit only stops a hung test).
    page.get_by_text("Signed and verified").wait_for()

    assert page.evaluate("window.__stillTheSamePage") is True  # no reload happened
    assert connection_row("c1").verified
    assert page.locator("#maventa-signing-state[hx-trigger]").count() == 0  # polling stopped
