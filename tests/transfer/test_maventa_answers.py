"""The transfer engine under every plausible answer Maventa's documentation leaves open (issue 13 §4, §5):
each sandbox knob at each of its values, the sandbox over real HTTP, Redis, SQLite and the SMTP sink."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from flask_maventa.infra.models import Transfer, utcnow
from flask_maventa.services import transfer
from tests.fixtures.sandbox import ubl_invoice

from .conftest import BUYER_EIA, invoice_json, wait_for

PDF = b"%PDF-1.4 our own invoice image\n%%EOF"


def _queued(host, invoice_id="1", document=None, **kwargs):
    host.add_invoice(invoice_id, document or invoice_json(f"N-{invoice_id}"), **kwargs)
    (transfer_id,) = transfer.sweep(dispatch=False).created
    return transfer_id


def _seconds_until(moment) -> float:
    return (moment - utcnow()).total_seconds()


@pytest.mark.parametrize("mode", ["return", "conflict", "unprocessable"])
def test_a_uuid_maventa_already_has_is_accepted_once_whatever_maventa_answers(host, mode):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    connection = host.connect()
    transfer_id = _queued(host)
    uuid = host.transfers("1")[0].maventa_uuid
    # An earlier attempt reached Maventa but its answer never came back (and no reconcile ran).
    host.ext.company_client(connection).send_invoice(ubl_invoice("N-1"), "invoice.xml", uuid=uuid)
    host.sandbox.config(duplicate_uuid=mode)

    outcome = transfer.send(transfer_id)

    assert outcome.state == "accepted", outcome
    row = host.transfers("1")[0]
    assert row.maventa_invoice_id == uuid and host.status_of("1") == "transferred"
    received = host.sandbox.invoices()
    assert received["received_per_uuid"] == {uuid: 2} and len(received["invoices"]) == 1


@pytest.mark.parametrize("invalid", [0.0, 1.0])
def test_a_validation_failure_after_acceptance_is_shown_with_a_hint_and_mailed(host, invalid):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.sandbox.config(invalid_after_accept=invalid)
    host.connect()
    transfer_id = _queued(host)
    assert transfer.send(transfer_id).state == "accepted"
    assert host.status_of("1") == "transferred"

    outcome = wait_for(lambda: (o := transfer.poll(transfer_id)).state != "accepted" and o, what="settled")

    row = host.transfers("1")[0]
    if not invalid:
        assert outcome.state == "delivered" and host.status_of("1") == "transferred"
        return
    assert outcome.state == "failed" and host.status_of("1") == "failed"
    assert row.last_error_code == "MAVENTA_INVALID"
    assert "[BR-CO-15]" in row.last_error_message
    assert "its own validation refused it" in row.last_error_hint
    (mail,) = host.smtp.wait_for(1)
    body = mail.get_content()
    assert "[BR-CO-15]" in body and "its own validation refused it" in body


def test_the_companys_own_pdf_goes_as_a_zip_and_is_the_printed_image(host):
    connection = host.connect(send_customer_email=False, send_pdf=True)
    host.ext.company_client(connection).update_settings({"send_invoice_print": {"enabled": True}})
    transfer_id = _queued(host, document=invoice_json("P-1", buyer={"einvoice_operator": None}), pdf=PDF)

    assert transfer.send(transfer_id).state == "accepted"

    (sent,) = host.sandbox.invoices()["invoices"]
    assert sent["upload"].endswith(".zip")
    assert sent["image"] == {"source": "zip", "filename": sent["upload"][:-4] + ".pdf"}
    assert str(sent["params"]["print_settings[print_own_image]"]).lower() == "true"
    wait_for(lambda: transfer.poll(transfer_id).state != "accepted", what="settled")
    route = host.sandbox.invoices()["invoices"][0]["route"]
    assert route["channel"] == "PRINT" and route["image"] == "zip"


def test_without_the_own_pdf_the_upload_is_plain_xml(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect(send_pdf=False)
    assert transfer.send(_queued(host, pdf=PDF)).state == "accepted"
    (sent,) = host.sandbox.invoices()["invoices"]
    assert sent["upload"].endswith(".xml") and sent["image"]["source"] is None


class LiveHost:
    """The host app served on loopback, so the sandbox can POST its webhooks to it."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


@pytest.mark.parametrize("shape", ["flat", "id", "data", "invoice_id", "unrecognised"])
def test_webhooks_of_every_shape_hurry_the_poll_and_unknown_ones_are_logged_by_key_names(make_host, smtp_server,
                                                                                         caplog, shape):
    host = make_host(smtp=smtp_server, MAVENTA_POLL_SCHEDULE=[3600])
    live = LiveHost(host.app)
    try:
        with host.app.app_context():
            host.app.config["MAVENTA_WEBHOOK_BASE_URL"] = live.url
            host.sandbox.config(webhook_payload=shape, delivery_delay=0.5)
            host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
            host.connect()
            transfer_id = _queued(host)  # the sweep registers the webhook
            caplog.set_level(logging.INFO, logger="flask_maventa.webhooks")
            assert transfer.send(transfer_id).state == "accepted"
            assert _seconds_until(host.transfers("1")[0].next_poll_at) > 3000

            (delivery,) = wait_for(lambda: [d for d in host.sandbox.webhooks() if d["acknowledged"]], what="webhook")
            assert delivery["status_codes"] == [202]
            row = host.transfers("1")[0]
            if shape == "unrecognised":
                assert _seconds_until(row.next_poll_at) > 3000  # nothing to go on: polling stays as it was
                logged = " ".join(r.getMessage() for r in caplog.records if r.name == "flask_maventa.webhooks")
                assert "body keys: event, created_at, document, document.document_uuid, document.state" in logged
                assert row.maventa_uuid not in logged and "DOCUMENTS.INVOICE" not in logged  # names, never values
            else:
                assert _seconds_until(row.next_poll_at) < 5  # the webhook asked for a read now
                from rq import Queue

                poll_queue = Queue(transfer.queue_name(transfer.POLL), connection=host.ext.redis())
                assert [job.func_name for job in poll_queue.jobs] == ["flask_maventa.runtime.jobs.poll_due"]
            # polling settles the invoice either way
            assert transfer.poll(transfer_id).state == "delivered"
    finally:
        live.stop()


def _accepted(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    connection = host.connect()
    transfer_id = _queued(host)
    assert transfer.send(transfer_id).state == "accepted"
    return connection, transfer_id


def _failed_at_maventa(host):
    connection = host.connect()  # no receiver seeded: the pinned Peppol route fails
    transfer_id = _queued(host)
    assert transfer.send(transfer_id).state == "accepted"
    wait_for(lambda: host.sandbox.invoices()["invoices"][0]["status"] == "FAILED", what="FAILED at Maventa")
    return connection, transfer_id


@pytest.mark.parametrize("retry_after", [None, 30.0])
@pytest.mark.parametrize("operation", ["POST /oauth2/token", "POST /v1/invoices"])
def test_429_on_sending_queues_the_transfer_for_later(host, operation, retry_after):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    transfer_id = _queued(host)
    host.sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=[operation])

    assert transfer.send(transfer_id).state == "queued"

    row = host.transfers("1")[0]
    wait = _seconds_until(row.next_attempt_at)
    assert (25 < wait <= 31) if retry_after else (0 < wait <= 1.5)  # Retry-After, else the schedule (1 s)
    assert host.sandbox.invoices()["receipts"] == 0
    if not retry_after:
        host.sandbox.config(throttle_rate=0.0)
        wait_for(lambda: transfer.send(transfer_id).state == "accepted", timeout=5, what="sent after the wait")
        assert host.sandbox.invoices()["invoices_per_number"] == {"N-1": 1}


@pytest.mark.parametrize("retry_after", [None, 30.0])
def test_429_while_reconciling_keeps_the_transfer_in_doubt(host, retry_after):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    transfer_id = _queued(host)
    host.sandbox.config(drop_rate=1.0, fault_paths=["POST /v1/invoices"])
    assert transfer.send(transfer_id).state == "in_doubt"
    host.sandbox.config(drop_rate=0.0, throttle_rate=1.0, retry_after=retry_after, fault_paths=["GET /v1/invoices/"])
    host.db.session.execute(sa.update(Transfer).values(next_attempt_at=utcnow()))
    host.db.session.commit()

    assert transfer.send(transfer_id).state == "in_doubt"

    wait = _seconds_until(host.transfers("1")[0].next_attempt_at)
    assert (25 < wait <= 31) if retry_after else wait <= 1.5
    assert host.sandbox.invoices()["receipts"] == 1  # nothing sent again while Maventa could not be asked


@pytest.mark.parametrize("retry_after", [None, 30.0])
@pytest.mark.parametrize("operation", ["GET /v1/invoices/", "GET /v1/invoices/{id}/actions"])
def test_429_on_reading_the_status_polls_again_later(host, operation, retry_after):
    if operation.endswith("/actions"):
        connection, transfer_id = _failed_at_maventa(host)
        paths = [f"GET /v1/invoices/{host.transfers('1')[0].maventa_uuid}/actions"]
    else:
        connection, transfer_id = _accepted(host)
        paths = [operation]
    host.sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=paths)

    assert transfer.poll(transfer_id).state == "accepted"

    row = host.transfers("1")[0]
    wait = _seconds_until(row.next_poll_at)
    assert (25 < wait <= 31) if retry_after else (0 < wait <= 1.5)  # Retry-After, else the poll schedule
    host.sandbox.config(throttle_rate=0.0)
    final = transfer.poll(transfer_id).state
    assert final == ("failed" if operation.endswith("/actions") else "delivered")
    if final == "failed":  # Maventa's own reason, read once it answered again
        assert "not found" in host.transfers("1")[0].last_error_message


@pytest.mark.parametrize("retry_after", [None, 30.0])
def test_429_on_registering_the_webhook_does_not_stop_the_sweep(make_host, smtp_server, retry_after):
    host = make_host(smtp=smtp_server, MAVENTA_WEBHOOK_BASE_URL="http://erp.example")
    with host.app.app_context():
        connection = host.connect()
        host.add_invoice("1")
        host.sandbox.config(throttle_rate=1.0, retry_after=retry_after, fault_paths=["POST /v1/company/notifications"])
        result = transfer.sweep(dispatch=False)
        assert len(result.created) == 1
        host.db.session.refresh(connection)
        assert connection.webhook_id is None  # tried again on the next sweep
        host.sandbox.config(throttle_rate=0.0)
        transfer.sweep(dispatch=False)
        host.db.session.refresh(connection)
        assert connection.webhook_id



def test_webhook_key_names_never_carry_values_or_odd_text():
    from flask_maventa.services.transfer.notices import key_names

    body = {"event": "DOCUMENTS.INVOICE.DELIVERED", "document": {"uuid": "secret-value", "meta": {"a b\n": 1}},
            "<script>": "x"}
    assert key_names(body) == "event, document, document.uuid, document.meta, document.meta.?, ?"
    assert key_names([1, 2]) == "(not an object: list)" and key_names({}) == "(empty object)"
    assert key_names({f"k{n}": n for n in range(100)}).count(",") == 39  # at most 40 names
