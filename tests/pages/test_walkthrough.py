"""The pages used as a finance admin uses them, in a real Chromium with htmx, keyboard first: the activation
refusal in the flow next to the switch, focus kept across every swap, the link to the offending status, the
print switch's confirmation, the transfer log's filters after Back -- and not one console error on the way.

With WRITE_SCREENSHOTS=1 the walk also writes the README's screenshots (docs/*.png).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from example_app.models import Invoice, db
from flask_maventa.infra.models import Connection

from .conftest import DOCS, SCREENSHOTS, World
from .test_every_page import Watcher

ACTIVE_ID = "() => document.activeElement && document.activeElement.id"


def screenshot(target, name: str) -> None:
    if SCREENSHOTS:
        DOCS.mkdir(exist_ok=True)
        target.screenshot(path=str(DOCS / name), animations="disabled")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def press(page, selector: str) -> None:
    """Focus a control and press Enter on it: the keyboard user's click."""
    page.locator(selector).focus()
    page.keyboard.press("Enter")


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 900])
def test_the_refusal_sits_under_the_switch_which_keeps_focus(world: World, page, width):
    watcher = Watcher(page)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{world.url}/companies/{world.bergen.id}")
    press(page, "#maventa-switch")
    refusal = page.locator("#maventa-activation .maventa-refusal")
    refusal.wait_for()
    assert "Status of invoices to be transferred can not be sent" in refusal.inner_text()
    page.wait_for_function(f"({ACTIVE_ID})() === 'maventa-switch'")  # the swapped switch has focus again, once settled

    # In the flow: below the heading and the switch, above the account card, inside the screen, on its own
    # background (it used to float over the heading and the API key, transparent).
    refusal_box = box(page, "#maventa-activation .maventa-refusal")
    for other in ("#maventa-company h1", "#maventa-switch", "#maventa-credentials",
                  "#maventa-credentials input[name=api_key]"):
        assert not overlaps(refusal_box, box(page, other)), other
    assert box(page, "#maventa-switch")["y"] < refusal_box["y"] < box(page, "#maventa-credentials")["y"]
    assert refusal_box["x"] >= 0 and refusal_box["x"] + refusal_box["width"] <= width
    assert refusal.evaluate("e => getComputedStyle(e).position") == "static"
    assert refusal.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    if width == 900:
        page.set_viewport_size({"width": 1100, "height": 760})
        screenshot(page, "company-sent-flag-refusal.png")

    # The link jumps to the offending status in the ERP's status settings, highlighted there.
    sent_status = world.statuses["Ready to send"]
    refusal.get_by_role("link", name="Open the invoice status settings").click()
    page.wait_for_url(f"**/invoice-statuses#status-{sent_status.id}")
    row = page.locator(f"#status-{sent_status.id}")
    assert row.evaluate("e => e.matches(':target')")
    assert row.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert row.is_visible()
    assert not watcher.take()


@pytest.mark.browser
def test_keyboard_save_print_switch_and_routing_keep_focus_without_console_errors(world: World, page, sandbox):
    watcher = Watcher(page)
    company = world.fjordline
    page.goto(f"{world.url}/companies/{company.id}")
    page.locator("#maventa-print-switch").wait_for()  # Maventa's print setting, loaded after the page

    # A change starts the inline check; Save right after it waits for the check instead of aborting it.
    # Saving reloads only the settings: a late reload of the print card would wipe its question.
    reloads: list[str] = []
    page.on("request", lambda r: "/settings/print" in r.url and reloads.append(r.url))
    page.locator("#error_emails").fill("ap@fjordline.example")
    page.locator("#error_emails").dispatch_event("change")
    press(page, "#maventa-settings-save")
    page.locator("#maventa-settings .maventa-success").wait_for()
    page.wait_for_function(f"({ACTIVE_ID})() === 'maventa-settings-save'")  # once htmx has settled the swap
    page.wait_for_load_state("networkidle")
    assert reloads == []

    # The print service: turning it on asks first and names the cost; Maventa changes only on Yes.
    press(page, "#maventa-print-switch")
    question = page.locator("#maventa-print-confirm")
    question.wait_for()
    assert "Maventa charges every printed page" in question.inner_text()
    page.wait_for_function(f"({ACTIVE_ID})() === 'maventa-print-switch'")  # on its second step: "Yes"
    press(page, "#maventa-print-cancel")  # Cancel changes nothing and gives focus back to the switch
    page.wait_for_function("!document.querySelector('#maventa-print-confirm')")
    page.wait_for_function(f"({ACTIVE_ID})() === 'maventa-print-switch'")
    press(page, "#maventa-print-switch")
    page.locator("#maventa-print-confirm").wait_for()
    # Enter only once htmx has settled and processed the new card (it drops `htmx-added` as it does): a press
    # before that posts the form natively, as without JavaScript (seen in CI: a 303 and a whole page).
    page.wait_for_function("!document.querySelector('#maventa-print.htmx-added, #maventa-print .htmx-added,"
                           " #maventa-print.htmx-settling')")
    connection = db.session.scalars(sa.select(Connection).where(Connection.company_id == str(company.id))).one()
    assert sandbox.company(connection.company_uuid)["settings"]["send_invoice_print"]["use_own_pdf"] is False
    page.keyboard.press("Enter")
    page.locator("[data-use-own-pdf=on]").wait_for()
    assert sandbox.company(connection.company_uuid)["settings"]["send_invoice_print"]["use_own_pdf"] is True
    # Focus comes back when htmx settles the swapped card (autofocus), a moment after it appears.
    page.wait_for_function(f"({ACTIVE_ID})() === 'maventa-print-switch'")

    # The routing preview: the "check" link keeps focus while the table comes in.
    press(page, "#maventa-routing-check")
    page.locator("#maventa-routing tr[data-route]").first.wait_for()
    assert page.evaluate(ACTIVE_ID) == "maventa-routing-check"
    screenshot(page.locator("#maventa-routing"), "routing-preview.png")
    assert not watcher.take()


@pytest.mark.browser
def test_the_transfer_log_filter_shows_the_urls_state_after_back(world: World, page):
    watcher = Watcher(page)
    page.goto(f"{world.url}/transfers")
    state = page.locator("select[name=state]")
    state.select_option("failed")
    page.wait_for_url("**/transfers?*state=failed*")
    page.locator("#maventa-transfer-log tr[data-state=failed]").wait_for()
    state.select_option("accepted")
    page.wait_for_url("**/transfers?*state=accepted*")
    page.wait_for_function("!document.querySelector('#maventa-transfer-log tr[data-state=failed]')")

    page.go_back()
    page.wait_for_url("**/transfers?*state=failed*")
    page.locator("#maventa-transfer-log tr[data-state=failed]").wait_for()
    assert page.locator("select[name=state]").input_value() == "failed"  # the form says what the rows show
    assert page.locator("#maventa-transfer-log tr[data-state=accepted]").count() == 0

    failed = page.locator("#maventa-transfer-log tr[data-state=failed]")
    assert "The customer has no street address." in failed.inner_text()
    if SCREENSHOTS:
        page.set_viewport_size({"width": 1280, "height": 640})
        screenshot(page, "transfer-log-failed-invoice.png")
    assert not watcher.take()


@pytest.mark.browser
def test_retry_by_keyboard_and_a_number_filter_keep_focus(world: World, page):
    watcher = Watcher(page)
    page.goto(f"{world.url}/transfers")
    number = page.locator("input[name=number]")
    number.fill(db.session.get(Invoice, int(world.failed.invoice_id)).number)
    number.press("Enter")
    page.wait_for_url("**number=*")
    assert page.evaluate(ACTIVE_ID) == "number"  # the filter form is not swapped: its fields keep focus
    # Straight on to Retry: leaving the field does not send the filter again (a late answer would hide the retry).
    press(page, f"#retry-{world.failed.id}")
    page.locator("#maventa-transfer-log tr[data-state=queued]").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.locator("#maventa-transfer-log tr[data-state=queued]").count() == 1
    assert not watcher.take()
