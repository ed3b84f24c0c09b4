"""No secret in a row, a page or a log line -- even when Maventa echoes what it was sent.

The sandbox's ``echo_errors`` knob makes every error answer quote the request: the token request's form
(``client_secret`` is the User API key, ``vendor_api_key`` ours) and the ``Authorization`` header (a bearer
token). Every secret the app knows is then looked for in every column of every maventa_* row, in the
pages, in the error email and in the log.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import sqlalchemy as sa

from flask_maventa.extension import current_maventa
from flask_maventa.infra import audit, redaction
from flask_maventa.infra.models import Connection, Event, metadata, utcnow
from flask_maventa.services import transfer
from flask_maventa.services.webhooks import new_webhook_secret
from tests.fixtures.apps import demo_adapter, make_app

from .conftest import PREFIX, invoice_document

PACKAGE = Path(__file__).resolve().parents[2] / "flask_maventa"
VENDOR_KEY = "sandbox-vendor-key-for-tests"
PARTNER_KEY = "partner-api-key-never-to-be-seen"
MAIL_PASSWORD = "smtp-password-never-to-be-seen"


def _app(tmp_path, sandbox, **config):
    return make_app(tmp_path, demo_adapter(), MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=VENDOR_KEY,
                    MAVENTA_REDIS_URL="redis://127.0.0.1:1/0", MAVENTA_PARTNER_API_KEY=PARTNER_KEY,
                    MAVENTA_PARTNER_COMPANY_UUID="00000000-0000-4000-8000-00000000000f",
                    MAVENTA_MAIL_PASSWORD=MAIL_PASSWORD, **config)


def _connect(company_id: str, company_uuid: str, api_key: str, **fields) -> Connection:
    ext = current_maventa()
    connection = Connection(
        company_id=company_id, environment="sandbox", company_uuid=company_uuid,
        api_key_encrypted=ext.secrets().encrypt(api_key), company_state="VERIFIED", auth_state="SIGNED",
        transfer_status_id="ready", success_status_id="transferred", failure_status_id="failed",
        error_emails="errors@fjord.example", settings_saved_at=utcnow(), active=True, send_pdf=False, **fields)
    ext.session.add(connection)
    ext.session.commit()
    return connection


def _every_stored_text() -> str:
    """Every column of every row of the extension's tables, as text."""
    session = current_maventa().session
    session.commit()
    dump = []
    for table in metadata.sorted_tables:
        for row in session.execute(sa.select(table)).all():
            dump.extend(json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
                        for value in row)
    return "\n".join(dump)


def test_an_echoing_maventa_leaves_no_secret_in_rows_pages_mails_or_logs(tmp_path, sandbox, caplog):
    sandbox.config(echo_errors=True)
    app = _app(tmp_path, sandbox)
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        ext = current_maventa()
        # c1: its key is wrong, so the token request is refused -- and echoed (User API key, vendor key).
        real_uuid, real_key = sandbox.new_company(verified=False)
        wrong_key = "wrong-user-api-key-0123456789"
        _connect("c1", real_uuid, wrong_key)
        # c1-bergen: a real key, but the company never signed: the send is refused with the bearer token echoed.
        _connect("c1-bergen", real_uuid, real_key)
        ext.adapter.add_invoice("i1", "c1", "ready", invoice_document("E-1"))
        ext.adapter.add_invoice("i2", "c1-bergen", "ready", invoice_document("E-2"))
        created = transfer.sweep(dispatch=False).created
        assert [transfer.send(t).state for t in created] == ["failed", "failed"]
        bearer = [t.access_token for t in ext.token_store()._memory._tokens.values()]
        assert bearer, "a token was issued, so there is one to leak"
        echoed = [e for e in ext.session.query(Event).filter_by(kind="transfer.failed")]
        assert all("[redacted]" in json.dumps(e.data) for e in echoed), "the echo arrived, redacted"

        secrets = [wrong_key, real_key, VENDOR_KEY, PARTNER_KEY, MAIL_PASSWORD, *bearer]
        stored = _every_stored_text()
        client = app.test_client()
        pages = [client.get(url).get_data(as_text=True) for url in (
            f"{PREFIX}/transfers", f"{PREFIX}/transfers/1/invoices/i1", f"{PREFIX}/transfers/2/invoices/i2",
            f"{PREFIX}/companies/c1", f"{PREFIX}/companies/c1-bergen")]
        mails = [f"{m.subject}\n{m.body}" for m in ext.mailer.outbox]
        assert len(mails) == 2
        for secret in secrets:
            assert secret not in stored, f"a secret ({secret[:6]}…) is stored"
            assert all(secret not in page for page in pages), f"a secret ({secret[:6]}…) is on a page"
            assert all(secret not in mail for mail in mails), f"a secret ({secret[:6]}…) is in an error email"
            assert secret not in caplog.text, f"a secret ({secret[:6]}…) is in the log"


def test_secrets_are_replaced_by_value_wherever_they_appear(app):
    key = "a-user-api-key-in-free-text"
    redaction.remember(key)
    event = audit.record(current_maventa().session, "x", f"Maventa said: your key {key} is wrong",
                         data={"nested": [{"text": f"…{key}…"}], "Authorization": "Bearer abc", "note": "fine"})
    current_maventa().session.commit()
    row = current_maventa().session.execute(sa.text("SELECT message, data FROM maventa_event")).one()
    assert key not in row.message and "[redacted]" in row.message
    data = json.loads(row.data) if isinstance(row.data, str) else row.data
    assert data == {"nested": [{"text": "…[redacted]…"}], "Authorization": "[redacted]", "note": "fine"}
    assert event.id
    # Shapes of secrets never seen before are caught too.
    text = redaction.scrub_text('client_secret=abc123456789&scope=x "vendor_api_key": "zzz99999999" '
                                "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y POST /m/webhooks/12/AbCdEfGhIjKlMn")
    assert all(s not in text for s in ("abc123456789", "zzz99999999", "eyJhbGciOiJIUzI1NiJ9", "AbCdEfGhIjKlMn"))
    assert "scope=x" in text and "/webhooks/12/[redacted]" in text


def test_a_text_scrubbed_before_a_secret_was_known_is_scrubbed_of_it_afterwards(app):
    """Scrubbing remembers short texts it has cleaned, for one set of secrets only: a secret learnt later,
    or a secret setting changed, is replaced in the very texts seen before."""
    import uuid

    later, partner = f"later-{uuid.uuid4().hex}", f"partner-{uuid.uuid4().hex}"  # no other test's secrets in them
    text = f"echo: {later} and more"
    assert redaction.scrub_text(text) == text  # remembered as clean while the key is unknown
    redaction.remember(later)
    assert redaction.scrub_text(text) == "echo: [redacted] and more"
    app.config["MAVENTA_PARTNER_API_KEY"] = partner
    assert redaction.scrub_text(f"key {partner}") == "key [redacted]"
    assert redaction.scrub_text("tiny") == "tiny"  # shorter than any secret: untouched
    # The shapes of secrets are caught whatever their case, in short and long texts alike.
    for filler in ("", " " * 300):
        assert "abc123456789" not in redaction.scrub_text(f"{filler}CLIENT_SECRET=abc123456789")
        assert "eyJhbGciOiJIUzI1NiJ9" not in redaction.scrub_text(f"{filler}bEaReR eyJhbGciOiJIUzI1NiJ9")
        long_s = "pa\u017f\u017fword=abc123456789 \u00e6"  # LATIN SMALL LETTER LONG S matches "s" under re.I
        assert "abc123456789" not in redaction.scrub_text(f"{filler}{long_s}")


def test_a_bulk_update_of_an_error_message_is_scrubbed_too(app):
    """The transfer state machine writes errors with UPDATE … WHERE state IN (…): the column scrubs them."""
    from flask_maventa.infra.models import Transfer

    session = current_maventa().session
    connection = _connect("c1", "00000000-0000-4000-8000-000000000001", "secret-user-api-key-42")
    session.add(Transfer(connection_id=connection.id, invoice_id="i1", maventa_uuid="u1", state="sending"))
    session.commit()
    current_maventa().api_key(connection)  # decrypted once, as any send does
    session.execute(sa.update(Transfer).values(last_error_message="401: client_secret is secret-user-api-key-42"))
    session.commit()
    assert session.execute(sa.text("SELECT last_error_message FROM maventa_transfer")).scalar() == \
        "401: client_secret is [redacted]"


def test_a_secret_stored_before_scrubbing_existed_never_reaches_a_page(app, client):
    session = current_maventa().session
    connection = _connect("c1", "00000000-0000-4000-8000-000000000001", "old-user-api-key-from-2025")
    from flask_maventa.infra.models import Transfer

    session.add(Transfer(connection_id=connection.id, invoice_id="i1", maventa_uuid="u1", state="failed"))
    session.commit()
    session.execute(sa.text("INSERT INTO maventa_event (connection_id, transfer_id, kind, message, created_at) "
                            "VALUES (:c, 1, 'transfer.failed', :m, :t)"),
                    {"c": connection.id, "m": "echo: old-user-api-key-from-2025", "t": utcnow()})
    session.commit()
    assert client.get(f"{PREFIX}/companies/c1").status_code == 200  # the page decrypts the key: now it is known
    html = client.get(f"{PREFIX}/transfers/{connection.id}/invoices/i1").get_data(as_text=True)
    assert "echo: [redacted]" in html and "old-user-api-key-from-2025" not in html


def test_every_logger_of_the_extension_and_the_access_log_has_the_secret_filter(app):
    names = set(re.findall(r'getLogger\("(flask_maventa[a-z_.]*)"\)',
                           "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))))
    assert {"flask_maventa.transfer", "flask_maventa.webhooks", "flask_maventa.registration"} <= names
    names = {name for name in names if not name.startswith("flask_maventa.sandbox")}  # an app of its own
    for name in [*names, "werkzeug", "gunicorn.access", "rq.worker"]:
        assert redaction.SECRET_FILTER in logging.getLogger(name).filters, name


def test_a_secret_in_a_log_line_or_its_traceback_is_replaced(app, caplog):
    connection = _connect("c1", "00000000-0000-4000-8000-000000000001", "logged-user-api-key-77")
    current_maventa().api_key(connection)
    secret = new_webhook_secret(connection)
    log = logging.getLogger("flask_maventa.transfer")
    with caplog.at_level(logging.INFO):
        log.warning("token refused for %s", "logged-user-api-key-77")
        try:
            raise ValueError(f"echo {secret}")
        except ValueError:
            log.exception("failed")
    assert "logged-user-api-key-77" not in caplog.text and secret not in caplog.text
    assert caplog.text.count("[redacted]") >= 2


def test_bearer_tokens_in_redis_are_encrypted(tmp_path, sandbox, redis_url):
    from redis import Redis

    app = make_app(tmp_path, MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=VENDOR_KEY,
                   MAVENTA_REDIS_URL=redis_url)
    with app.app_context():
        company_uuid, api_key = sandbox.new_company(verified=True)
        connection = _connect("c1", company_uuid, api_key)
        current_maventa().company_client(connection).check_credentials()
        raw = Redis.from_url(redis_url)
        [key] = [k for k in raw.keys("maventa:token:*") if b":lock:" not in k]
        stored = json.loads(raw.get(key))
        token = current_maventa().token_store().get(key.decode()[len("maventa:token:"):])
        assert token is not None and token.access_token and token.access_token not in raw.get(key).decode()
        assert current_maventa().secrets().decrypt(stored["access_token"]) == token.access_token
        # Under a retired key the cached token reads as missing, and a new one is simply fetched. (A process
        # keeps the tokens it has in memory; a new process, or a new store, reads Redis.)
        raw.set(key, json.dumps({**stored, "access_token": "not-a-fernet-token"}))
        from flask_maventa.client import RedisTokenStore
        from flask_maventa.infra.token_cache import TokenCache

        fresh = TokenCache(lambda: RedisTokenStore(current_maventa().redis()), current_maventa().secrets())
        assert fresh.get(key.decode()[len("maventa:token:"):]) is None
        current_maventa().company_client(connection).check_credentials()


def test_a_failed_jobs_exception_text_in_redis_has_no_secret(tmp_path, sandbox, redis_url, monkeypatch):
    """RQ keeps a failed job's exception text in Redis; a secret in the message never gets there."""
    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.registry import FailedJobRegistry

    from flask_maventa.runtime import jobs

    app = make_app(tmp_path, MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=VENDOR_KEY,
                   MAVENTA_REDIS_URL=redis_url)
    with app.app_context():
        connection = _connect("c1", "00000000-0000-4000-8000-000000000001", "failed-job-user-api-key-42")
        current_maventa().api_key(connection)  # the process now knows this secret

        def leaky_send_due():
            raise RuntimeError("Maventa said: bad key failed-job-user-api-key-42 for " + VENDOR_KEY)

        monkeypatch.setattr(transfer, "send_due", leaky_send_due)
        redis = Redis.from_url(redis_url)
        queue = Queue("leaky-test", connection=redis)
        job = queue.enqueue(jobs.send_due)
        SimpleWorker([queue], connection=redis).work(burst=True)
        assert job.id in FailedJobRegistry(queue=queue).get_job_ids()
        job.refresh()
        result = job.latest_result()
        stored = result.exc_string if result else ""
        assert "RuntimeError: Maventa said: bad key [redacted]" in stored  # what failed is kept ...
        assert "failed-job-user-api-key-42" not in stored and VENDOR_KEY not in stored  # ... no secret
