"""The settings area against what Maventa's swagger requires and what its documentation leaves open
(issue 13 §1, §4): the settings PATCH carries the required blocks unchanged; 429 on every settings
operation, with and without Retry-After, changes nothing and says so."""

from __future__ import annotations

import pytest

from flask_maventa.services.settings import read_print_settings, set_use_own_pdf

from .conftest import HTMX, PREFIX, csrf_token, sandbox_connection
from .test_routing_preview import BUYERS, _add, _routes

PRINT = f"{PREFIX}/companies/c1/settings/print"


def test_the_print_switch_sends_the_required_blocks_back_unchanged(app, sandbox):
    connection = sandbox_connection(sandbox)
    before = sandbox.company(connection.company_uuid)["settings"]
    # the sandbox refuses a PATCH without details, address and invoice_notifications, as the swagger says
    after = set_use_own_pdf(connection, True)

    assert after["use_own_pdf"] is True
    now = sandbox.company(connection.company_uuid)["settings"]
    for block in ("details", "address", "invoice_notifications", "send_invoice_email", "logos"):
        assert now[block] == before[block], block
    assert now["send_invoice_print"] == {**before["send_invoice_print"], "use_own_pdf": True}
    assert sandbox.stats()["requests"]["PATCH /v1/company/settings"] == 1


@pytest.mark.parametrize("retry_after", [None, 7.0])
@pytest.mark.parametrize("operation", ["GET /v1/company/settings", "PATCH /v1/company/settings", "POST /oauth2/token"])
def test_429_on_the_print_switch_changes_nothing_and_says_so(client, sandbox, operation, retry_after):
    connection = sandbox_connection(sandbox)
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=[operation])

    if operation == "PATCH /v1/company/settings":
        html = client.post(PRINT, data={"csrf_token": csrf_token(client), "use_own_pdf": "1", "confirmed": "1"},
                           headers=HTMX).get_data(as_text=True)
        assert "print setting was not changed" in html and "too many requests" in html
    else:
        html = client.get(PRINT, headers=HTMX).get_data(as_text=True)
        assert "could not be read just now" in html
    assert sandbox.company(connection.company_uuid)["settings"]["send_invoice_print"]["use_own_pdf"] is False
    sandbox.config(throttle_rate=0.0)
    assert read_print_settings(connection)["use_own_pdf"] is False


@pytest.mark.parametrize("retry_after", [None, 7.0])
def test_429_on_the_receiver_lookup_leaves_the_route_unconfirmed(client, adapter, sandbox, verified_connection,
                                                                 retry_after):
    _add(adapter, {"einvoice-registered": BUYERS["einvoice-registered"]})
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=["GET /v1/lookup/receivers"])
    html = client.get(f"{PREFIX}/companies/c1/routing", headers=HTMX).get_data(as_text=True)
    assert "Maventa could not be asked whether 0192:910000004 receives e-invoices." in html
    assert _routes(html) == {"einvoice-registered": "einvoice"}


@pytest.mark.parametrize("retry_after", [None, 7.0])
def test_429_while_activating_refuses_plainly(client, app, sandbox, retry_after):
    from flask_maventa.services.settings import ActivationRefused, activate

    connection = sandbox_connection(sandbox)
    sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=["GET /oauth2/current"])
    with pytest.raises(ActivationRefused) as refused:
        activate(connection)
    assert [p.code for p in refused.value.problems] == ["maventa_rate_limited"]  # an answer, not "unreachable"
    assert "too many requests" in refused.value.problems[0].hint
    assert not connection.active
