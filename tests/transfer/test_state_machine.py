"""The state machine driven step by step in this process (the workers run the same functions).

Real parts: the sandbox over HTTP, Redis for dispatch, SQLite (and PostgreSQL for the steps whose writes
take one statement there, see ``states.transition``), the SMTP sink for error emails.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flask_maventa.infra import signals
from flask_maventa.infra.models import Event, Transfer, utcnow
from flask_maventa.services import transfer

from .conftest import BUYER_EIA, invoice_json, wait_for

pytestmark = pytest.mark.usefixtures("host")
BOTH = pytest.mark.parametrize("host", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def host(make_host, smtp_server, request):
    """SQLite host with the SMTP sink wired in, or PostgreSQL's (``@BOTH``); the app context is pushed."""
    url = request.getfixturevalue("postgres_url") if getattr(request, "param", "sqlite") == "postgresql" else None
    host = make_host(database_url=url, smtp=smtp_server)
    host.smtp = smtp_server
    with host.app.app_context():
        yield host


def _events(host, transfer_id):
    host.db.session.expire_all()
    return host.db.session.scalars(sa.select(Event).where(Event.transfer_id == transfer_id).order_by(Event.id)).all()


def test_sweep_creates_one_transfer_per_invoice_and_enqueues_a_send_job(host):
    from rq import Queue

    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1")
    host.add_invoice("2")
    host.add_invoice("3", status_id="draft")

    first = transfer.sweep()
    second = transfer.sweep()

    assert len(first.created) == 2 and second.created == []
    assert host.states() == {"1": "queued", "2": "queued"}
    queue = Queue(transfer.queue_name(transfer.SEND), connection=host.ext.redis())
    (job,) = queue.jobs  # one job takes every due transfer; the rows, not the job, say which
    assert job.func_name == "flask_maventa.runtime.jobs.send_due" and first.dispatched == 1
    assert second.dispatched == 0  # a job is still waiting: not enqueued twice
    assert [e.kind for e in _events(host, first.created[0])] == ["transfer.queued"]


def test_sweep_takes_every_due_invoice_in_batches_past_the_batch_size(make_host):
    """MAVENTA_SWEEP_BATCH is the size of one transaction, not a cap: invoices already queued do not hide
    the rest (the host lists only the first `limit` ids, so the sweep asks for more)."""
    host = make_host(MAVENTA_SWEEP_BATCH=3)
    with host.app.app_context():
        host.connect()
        for n in range(1, 8):
            host.add_invoice(f"{n:02}")
        assert len(transfer.sweep(dispatch=False).created) == 7
        for n in range(8, 11):
            host.add_invoice(f"{n:02}")  # ids after the first batch's, which are still in the transfer status
        again = transfer.sweep(dispatch=False)
        assert len(again.created) == 3 and len(host.transfers()) == 10
        assert len({t.maventa_uuid for t in host.transfers()}) == 10


@BOTH
def test_a_concurrent_sweep_never_makes_a_twin(host):
    """Two sweeps that both read "no transfer yet" insert the same invoices: the database keeps one of each,
    with one "queued" event each (PostgreSQL inserts both in one statement, from two arrays)."""
    from flask_maventa.infra.texts import T_
    from flask_maventa.services.transfer import sweeping

    connection = host.connect()
    assert len(transfer.create_transfers(host.db.session, connection, ["1", "2"])) == 2
    rows = [{"connection_id": connection.id, "invoice_id": i, "revision": 1, "state": "queued",
             "maventa_uuid": transfer.maventa_uuid(connection, i, 1), "attempts": 0, "poll_count": 0,
             "created_at": utcnow(), "updated_at": utcnow()} for i in ("1", "2", "3")]
    if host.db.engine.dialect.name == "postgresql":  # what the slower sweep runs
        inserted = sweeping._queue_on_postgresql(host.db.session, connection.id, rows, T_("Queued for Maventa."),
                                                 utcnow())
    else:
        inserted = [transfer_id for transfer_id, _ in sweeping._insert_new(host.db.session, rows)]
    host.db.session.commit()
    transfers = {t.invoice_id: t for t in host.transfers()}
    assert sorted(transfers) == ["1", "2", "3"] and inserted == [transfers["3"].id]
    if host.db.engine.dialect.name == "postgresql":
        for row in transfers.values():
            (event,) = _events(host, row.id)
            assert (event.kind, event.message, event.connection_id) == ("transfer.queued", "Queued for Maventa.",
                                                                        connection.id)
            assert event.data == {"revision": 1, "uuid": row.maventa_uuid} and event.text["id"] == "Queued for Maventa."
            assert row.state == "queued" and row.attempts == 0 and row.revision == 1


@BOTH
def test_send_accepts_sets_success_status_and_polling_delivers(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1", invoice_json("A-1"))
    seen = []
    for signal in (signals.transfer_queued, signals.transfer_accepted, signals.transfer_delivered):
        signal.connect(lambda sender, _s=signal.name, **kw: seen.append((_s, sender.id)), weak=False)
    try:
        (transfer_id,) = transfer.sweep(dispatch=False).created
        outcome = transfer.send(transfer_id)
        assert outcome.state == "accepted"
        (row,) = host.transfers("1")
        assert row.maventa_invoice_id and row.route == "einvoice" and row.invoice_number == "A-1"
        assert host.status_of("1") == "transferred"
        received = host.sandbox.invoices()
        assert received["received_per_uuid"] == {row.maventa_uuid: 1}
        params = received["invoices"][0]["params"]
        assert params["recipient_eia"] == BUYER_EIA and params["lang"] == "NO"

        wait_for(lambda: transfer.poll(transfer_id).state == "delivered", what="delivered")
        assert host.transfers("1")[0].state == "delivered"
        assert [name for name, _ in seen] == ["maventa.transfer-queued", "maventa.transfer-accepted",
                                              "maventa.transfer-delivered"]
    finally:
        for signal in (signals.transfer_queued, signals.transfer_accepted, signals.transfer_delivered):
            signal.receivers.clear()
    kinds = [e.kind for e in _events(host, transfer_id)]
    assert kinds[:3] == ["transfer.queued", "transfer.request", "transfer.accepted"]
    request = next(e for e in _events(host, transfer_id) if e.kind == "transfer.request")
    assert request.data["uuid"] == row.maventa_uuid and request.data["recipient_eia"] == BUYER_EIA


@BOTH
def test_a_transition_writes_its_notes_only_if_it_moved_the_transfer(host):
    """The rule every step follows (on PostgreSQL one statement): the events of a step are written, scrubbed,
    with the state change that wins, and not at all when another process moved the transfer first."""
    from flask_maventa.infra.texts import T_
    from flask_maventa.services.transfer.states import Note, transition

    host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    session = host.db.session
    row = session.get(Transfer, transfer_id)
    secret = {"response": {"access_token": "tok-SECRET-123"}, "code": 7}
    notes = [Note("transfer.request", T_("Sending to Maventa (attempt %(n)s).", n=1), None, {"n": 1}),
             Note("transfer.retry", "Maventa's own words", 503, secret)]
    assert transition(session, row, ["queued"], notes=notes, state="sending", attempts=1)
    assert transition(session, row, ["queued"], notes=notes[:1], state="sending") is False  # moved already
    session.commit()
    assert (host.transfers("1")[0].state, host.transfers("1")[0].attempts) == ("sending", 1)
    events = _events(host, transfer_id)
    assert [e.kind for e in events] == ["transfer.queued", "transfer.request", "transfer.retry"]
    request, retry = events[1:]
    assert (request.message, request.text, request.data, request.http_status) == (
        "Sending to Maventa (attempt 1).", {"id": "Sending to Maventa (attempt %(n)s).", "params": {"n": 1}},
        {"n": 1}, None)
    assert (retry.message, retry.http_status, retry.data["code"]) == ("Maventa's own words", 503, 7)
    assert "tok-SECRET-123" not in str(retry.data)
    assert {(e.connection_id, e.transfer_id) for e in events} == {(row.connection_id, transfer_id)}


def test_maventa_uuid_is_stable_per_revision_and_differs_between_revisions(host):
    connection = host.connect()
    assert transfer.maventa_uuid(connection, "7", 1) == transfer.maventa_uuid(connection, "7", 1)
    assert transfer.maventa_uuid(connection, "7", 1) != transfer.maventa_uuid(connection, "7", 2)
    assert transfer.maventa_uuid(connection, "7", 1) != transfer.maventa_uuid(connection, "8", 1)


def test_claim_is_atomic_a_second_claim_gets_nothing(host):
    host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    first, _ = transfer.claim(transfer_id)
    second, _ = transfer.claim(transfer_id)
    assert first is not None and first.state == "sending" and first.attempts == 1
    assert second is None


def test_routing_without_customer_email_disables_email_and_prints_with_own_pdf(host):
    host.connect(send_customer_email=False, send_pdf=True)
    document = invoice_json("P-1", buyer={"einvoice_operator": None})
    host.add_invoice("1", document, pdf=b"%PDF-1.4 test pdf\n%%EOF")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    outcome = transfer.send(transfer_id)
    assert outcome.state == "accepted", outcome
    params = host.sandbox.invoices()["invoices"][0]["params"]
    assert "recipient_email" not in params
    assert params.get("disabled_routes[]", params.get("disabled_routes")) in (["email"], "email")
    assert str(params.get("print_settings[print_own_image]")).lower() == "true"
    assert "recipient_operator" not in params


@BOTH
def test_transient_500_backs_off_then_sends_with_the_same_uuid(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    host.sandbox.config(error_rate=1.0, fault_paths=["POST /v1/invoices"])
    assert transfer.send(transfer_id).state == "queued"
    row = host.transfers("1")[0]
    assert row.next_attempt_at is not None and row.last_error_message
    assert transfer.send(transfer_id).state == "skipped"  # not due yet
    host.sandbox.config(error_rate=0.0)
    wait_for(lambda: transfer.send(transfer_id).state == "accepted", timeout=10, what="accepted after backoff")
    assert host.transfers("1")[0].attempts == 2
    assert host.sandbox.invoices()["invoices_per_number"] == {"N-1": 1}


def test_429_honours_retry_after(host):
    connection = host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    host.sandbox.config(rate_limit=0.01)  # one request per 100 s per bearer token
    host.ext.company_client(connection).current()  # uses this token's one request
    assert transfer.send(transfer_id).state == "queued"
    row = host.transfers("1")[0]
    delay = (row.next_attempt_at - row.updated_at).total_seconds()
    assert delay > 5, "Retry-After (about 100 s) must win over the 1 s schedule step"
    assert host.sandbox.invoices()["receipts"] == 0


@BOTH
def test_in_doubt_after_a_dropped_answer_is_reconciled_by_reading_our_uuid(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    host.sandbox.config(drop_rate=1.0, fault_paths=["POST /v1/invoices"])
    assert transfer.send(transfer_id).state == "in_doubt"
    assert host.transfers("1")[0].state == "in_doubt"
    host.sandbox.config(drop_rate=0.0)
    wait_for(lambda: transfer.send(transfer_id).state == "accepted", timeout=10, what="reconciled")
    row = host.transfers("1")[0]
    assert host.sandbox.invoices()["received_per_uuid"] == {row.maventa_uuid: 1}  # never sent twice
    assert "transfer.reconciled" in [e.kind for e in _events(host, transfer_id)]
    assert host.status_of("1") == "transferred"


def test_in_doubt_not_found_sends_again_with_the_same_uuid(host):
    host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    host.sandbox.config(reset_rate=1.0, fault_paths=["POST /v1/invoices"])
    outcome = transfer.send(transfer_id)
    assert outcome.state in ("in_doubt", "queued")
    host.sandbox.config(reset_rate=0.0)
    row = host.transfers("1")[0]
    if row.state == "queued":
        pytest.skip("the client classified the reset as never sent; covered by the dropped-answer test")
    wait_for(lambda: transfer.send(transfer_id).state == "accepted", timeout=10, what="resent")
    received = host.sandbox.invoices()
    assert received["invoices_per_number"] == {"N-1": 1}
    assert list(received["received_per_uuid"]) == [row.maventa_uuid]


def test_expired_lease_becomes_in_doubt_and_is_reconciled(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "accepted"
    # Pretend the answer never got recorded: the worker died after Maventa stored the invoice.
    host.db.session.execute(sa.update(Transfer).where(Transfer.id == transfer_id).values(
        state="sending", lease_until=sa.func.datetime("now", "-1 minute"), maventa_invoice_id=None))
    host.db.session.commit()
    assert transfer.expire_leases() == 1
    assert host.transfers("1")[0].state == "in_doubt"
    assert transfer.send(transfer_id).state == "accepted"
    assert host.sandbox.invoices()["received_per_uuid"] == {host.transfers("1")[0].maventa_uuid: 1}


def test_preflight_failure_sets_failure_status_and_mails_the_reason(host):
    host.connect()
    host.add_invoice("1", invoice_json("B-1", buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                   "country": "NO"}}))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "failed"
    row = host.transfers("1")[0]
    assert row.last_error_code == "PREFLIGHT" and row.last_error_hint
    assert host.status_of("1") == "failed"
    assert host.sandbox.invoices()["receipts"] == 0  # never sent
    (mail,) = host.smtp.wait_for(1)
    assert mail["To"] == "errors@fjord.example" and "B-1" in mail["Subject"]
    body = mail.get_content()
    assert "street" in body.lower() and row.last_error_hint.split(".")[0] in body


def test_unverified_company_fails_permanently(host):
    host.connect(signed=False)  # our row says VERIFIED, Maventa does not agree
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "failed"
    row = host.transfers("1")[0]
    assert row.last_error_code == "UNVERIFIED" and "sign" in row.last_error_hint.lower()
    assert host.status_of("1") == "failed"


@BOTH
def test_invalid_credentials_fail_permanently_without_leaking_the_key(host):
    connection = host.connect()
    connection.api_key_encrypted = host.ext.secrets().encrypt("wrong-key-123456")
    host.db.session.commit()
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "failed"
    row = host.transfers("1")[0]
    assert row.last_error_code == "INVALID_CREDENTIALS"
    for event in _events(host, transfer_id):
        assert "wrong-key-123456" not in f"{event.message}{event.data}"


@BOTH
def test_maventa_failed_after_acceptance_fails_with_maventas_message(host):
    host.connect()  # no receiver seeded: the pinned Peppol route cannot be found
    host.add_invoice("1")
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "accepted"
    assert host.status_of("1") == "transferred"
    wait_for(lambda: transfer.poll(transfer_id).state == "failed", what="Maventa FAILED")
    row = host.transfers("1")[0]
    assert row.last_error_code == "MAVENTA_FAILED" and "not found" in row.last_error_message
    assert row.route == "einvoice"  # pinned: Maventa tried and failed on the e-invoice route only
    assert host.status_of("1") == "failed"
    (mail,) = host.smtp.wait_for(1)
    assert "not found" in mail.get_content()


def test_a_failed_transfer_shows_the_route_maventa_failed_on(host):
    """Expected e-invoice (an unregistered address, no operator), email off, print off: Maventa fails on print."""
    host.connect(send_customer_email=False)
    host.add_invoice("1", invoice_json("N-1", buyer={"einvoice_operator": None}))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "accepted"
    assert host.transfers("1")[0].route == "einvoice"  # what we expected when sending
    wait_for(lambda: transfer.poll(transfer_id).state == "failed", what="Maventa FAILED")
    assert host.transfers("1")[0].route == "print"


def test_sent_flag_guard_blocks_the_sweep(host):
    host.connect(transfer_status_id="sent")
    host.add_invoice("1", status_id="sent")
    result = transfer.sweep()
    assert result.created == [] and "c1" in result.blocked
    assert "sent" in result.blocked["c1"].lower()
    host.db.session.expire_all()
    assert host.transfers() == []


def test_inactive_connection_is_not_swept(host):
    host.connect(active=False)
    host.add_invoice("1")
    assert transfer.sweep().created == []


def test_retry_makes_a_new_revision_with_a_new_uuid(host):
    host.sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
    host.connect()
    host.add_invoice("1", invoice_json("R-1", buyer={"address": {"city": "Bergen", "post_code": "5003",
                                                                   "country": "NO"}}))
    (transfer_id,) = transfer.sweep(dispatch=False).created
    assert transfer.send(transfer_id).state == "failed"
    failed = host.transfers("1")[0]
    with pytest.raises(transfer.RetryRefused):
        transfer.retry(host.transfers("1")[0].__class__(state="queued", invoice_id="1"))
    # the user fixes the customer card
    host.db.session.execute(host_invoice_update("1", invoice_json("R-1")))
    host.db.session.commit()
    new = transfer.retry(failed)
    assert new.revision == 2 and new.maventa_uuid != failed.maventa_uuid
    assert host.status_of("1") == "ready"
    assert transfer.sweep(dispatch=False).created == []  # the sweep sees revision 2 already
    assert transfer.send(new.id).state == "accepted"
    assert host.status_of("1") == "transferred"
    with pytest.raises(transfer.RetryRefused):
        transfer.retry(host.transfers("1")[0])  # the failed revision 1 is no longer the latest


def host_invoice_update(invoice_id, document):
    import json

    from .hostapp import host_invoice

    return host_invoice.update().where(host_invoice.c.id == invoice_id).values(document=json.dumps(document))


def test_counters(host):
    host.connect()
    host.add_invoice("1")
    host.add_invoice("2")
    transfer.sweep(dispatch=False)
    assert transfer.counters() == {"queued": 2, "sending": 0, "accepted": 0, "delivered": 0, "failed": 0,
                                   "stuck": 0}
