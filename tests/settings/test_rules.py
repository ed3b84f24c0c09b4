"""The rules in flask_maventa.services.settings, one by one, without Maventa (no network)."""

from __future__ import annotations

import pytest

from flask_maventa.host import InvoiceStatus
from flask_maventa.services.settings import (
    ActivationRefused,
    SettingsRejected,
    StatusMapping,
    activate,
    activation_problems,
    deactivate,
    mapping_problems,
    parse_error_emails,
    save_settings,
    transfer_blockers,
)

from .conftest import offline_connection

SENT_MESSAGE = "Status of invoices to be transferred can not be sent"


def codes(problems):
    return [p.code for p in problems]


def test_a_good_mapping_has_no_problems(connection):
    assert mapping_problems(connection) == []
    assert transfer_blockers(connection) == []
    assert activation_problems(connection, live=False) == []


def test_sent_flag_on_the_transfer_status_is_refused_with_the_exact_message(connection, adapter):
    adapter.status_settings_url = lambda company_id: f"/host/statuses?company={company_id}"
    problems = mapping_problems(connection, mapping=StatusMapping("sent", "transferred", "failed"))
    assert codes(problems) == ["transfer_status_sent"]
    problem = problems[0]
    assert problem.message == SENT_MESSAGE
    assert problem.field == "transfer_status_id"
    assert "clear Sent" in problem.hint and "\u201cSent\u201d" in problem.hint
    assert problem.hint_url == "/host/statuses?company=c1"


@pytest.mark.parametrize("field", ["transfer_status_id", "success_status_id", "failure_status_id"])
def test_each_missing_status_is_named(connection, field):
    values = {"transfer_status_id": "ready", "success_status_id": "transferred", "failure_status_id": "failed"}
    values[field] = None
    problems = mapping_problems(connection, mapping=StatusMapping(**values))
    assert [(p.code, p.field) for p in problems] == [("status_missing", field)]
    assert problems[0].message.startswith("Choose the status")


def test_transfer_status_equal_to_success_or_failure_is_refused(connection):
    problems = mapping_problems(connection, mapping=StatusMapping("ready", "ready", "failed"))
    assert codes(problems) == ["transfer_equals_success"]
    problems = mapping_problems(connection, mapping=StatusMapping("ready", "transferred", "ready"))
    assert codes(problems) == ["transfer_equals_failure"]
    problems = mapping_problems(connection, mapping=StatusMapping("ready", "failed", "failed"))
    assert codes(problems) == ["success_equals_failure"]


def test_failure_status_may_not_be_sent(connection):
    problems = mapping_problems(connection, mapping=StatusMapping("ready", "transferred", "sent"))
    assert codes(problems) == ["failure_status_sent"]


def test_unknown_status_and_status_of_another_company(connection, adapter):
    adapter.statuses["c1-bergen"].append(InvoiceStatus("bergen-only", "Bergen only"))
    problems = mapping_problems(connection, mapping=StatusMapping("no-such-status", "bergen-only", "failed"))
    assert [(p.code, p.field) for p in problems] == [
        ("status_unknown", "transfer_status_id"), ("status_unknown", "success_status_id"),
    ]


def test_the_sweep_sees_a_sent_flag_set_after_activation(connection, adapter):
    activate(connection, live=False)
    assert connection.active
    adapter.statuses["c1"] = [InvoiceStatus(s.id, s.name, is_sent=s.is_sent or s.id == "ready")
                              for s in adapter.statuses["c1"]]
    assert [p.message for p in transfer_blockers(connection)] == [SENT_MESSAGE]


def test_the_sweep_is_blocked_for_an_unverified_company(app):
    connection = offline_connection(verified=False)
    assert codes(transfer_blockers(connection)) == ["not_verified"]


def test_activation_refusals_leave_the_toggle_off(app, db):
    for kwargs, expected in [
        ({"verified": False}, ["not_verified"]),
        ({"saved": False}, ["settings_not_saved"]),
        ({"transfer_status_id": "sent"}, ["transfer_status_sent"]),
        ({"failure_status_id": None}, ["status_missing"]),
        ({"api_key_encrypted": None}, ["no_credentials"]),
    ]:
        connection = offline_connection(**kwargs)
        with pytest.raises(ActivationRefused) as refused:
            activate(connection, live=False)
        assert codes(refused.value.problems) == expected
        assert connection.active is False
        db.session.rollback()
        db.session.delete(connection)
        db.session.commit()


def test_deactivating_stops_at_once(connection, db):
    activate(connection, live=False)
    deactivate(connection)
    assert connection.active is False
    assert transfer_blockers(connection) == []  # the settings stay; only `active` changed


@pytest.mark.parametrize("text, emails, bad", [
    ("a@example.com", ["a@example.com"], []),
    (" a@example.com, b@fjord.no ;c@x.fi\nA@example.com", ["a@example.com", "b@fjord.no", "c@x.fi"], []),
    ("", [], []),
    ("kari.example.com", [], ["kari.example.com"]),
    ("Kari <kari@example.com>", [], ["Kari <kari@example.com>"]),
    ("kari@localhost, ok@example.com", ["ok@example.com"], ["kari@localhost"]),
    ("a@b@example.com", [], ["a@b@example.com"]),
])
def test_error_email_addresses(app, text, emails, bad):
    parsed, problems = parse_error_emails(text)
    assert parsed == emails
    assert [p.code for p in problems] == ["error_email_invalid"] * len(bad)
    for problem, address in zip(problems, bad, strict=True):
        assert address in problem.message


def test_saving_refuses_bad_input_and_keeps_the_old_settings(connection):
    before = (connection.transfer_status_id, connection.error_emails, connection.send_pdf)
    for kwargs in [dict(transfer_status_id="no-such"), dict(error_emails="not-an-address")]:
        values = dict(send_pdf=False, send_customer_email=False, error_emails="ok@example.com",
                      transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed")
        values.update(kwargs)
        with pytest.raises(SettingsRejected):
            save_settings(connection, **values)
        assert (connection.transfer_status_id, connection.error_emails, connection.send_pdf) == before


def test_saving_an_unfinished_mapping_keeps_it_and_reports_it(connection):
    problems = save_settings(connection, send_pdf=True, send_customer_email=True, error_emails="",
                             transfer_status_id="sent", success_status_id="transferred", failure_status_id="failed")
    assert codes(problems) == ["transfer_status_sent"]
    assert connection.transfer_status_id == "sent"


def test_an_active_integration_never_saves_a_broken_mapping(connection):
    activate(connection, live=False)
    with pytest.raises(SettingsRejected) as rejected:
        save_settings(connection, send_pdf=True, send_customer_email=True, error_emails="",
                      transfer_status_id="sent", success_status_id="transferred", failure_status_id="failed")
    assert codes(rejected.value.problems) == ["transfer_status_sent"]
    assert connection.transfer_status_id == "ready"


def test_an_unverified_company_cannot_save(app):
    connection = offline_connection(verified=False)
    with pytest.raises(SettingsRejected) as rejected:
        save_settings(connection, send_pdf=True, send_customer_email=True, error_emails="",
                      transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed")
    assert codes(rejected.value.problems) == ["not_verified"]
