"""MAVENTA_SECRET_KEY mistakes and rotation: a malformed key stops start-up, a changed key pauses the
company (pages say why, nothing fails), and `flask maventa rotate-secrets` lets an old key retire."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from flask_maventa import ConfigurationError
from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, Event, Transfer, utcnow
from flask_maventa.services import transfer
from tests.fixtures.apps import make_app

from .conftest import PREFIX, csrf_token, hostile_adapter, invoice_document

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))
UNREADABLE = "The stored key cannot be decrypted with MAVENTA_SECRET_KEY \u2014 was it changed?"


@pytest.mark.parametrize("keys,which", [("not-a-fernet-key", "the key"), (f"{OLD},{OLD[:-2]}", "key 2 of 2"),
                                        (f"{OLD[:10]}\u00e9{OLD[11:]}", "the key")],
                         ids=["not-fernet", "second-cut-short", "non-ascii"])  # stable ids: xdist compares them
def test_a_malformed_key_stops_start_up_naming_the_fix_not_the_key(tmp_path, keys, which):
    with pytest.raises(ConfigurationError) as refused:
        make_app(tmp_path, MAVENTA_SECRET_KEY=keys)
    message = str(refused.value)
    assert which in message and "flask maventa generate-key" in message
    assert OLD[:10] not in message and "not-a-fernet-key" not in message


def _app(tmp_path, sandbox, keys: str):
    """Apps made one after the other share one database file: only MAVENTA_SECRET_KEY differs."""
    return make_app(tmp_path, hostile_adapter(), MAVENTA_SECRET_KEY=keys, MAVENTA_SANDBOX_URL=sandbox.url,
                    MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key, MAVENTA_REDIS_URL="redis://127.0.0.1:1/0")


def _connect(sandbox) -> int:
    ext = current_maventa()
    company_uuid, api_key = sandbox.new_company(verified=True, bid="923456789", country="NO")
    connection = Connection(
        company_id="c1", environment="sandbox", company_uuid=company_uuid, api_key_encrypted=ext.secrets().encrypt(api_key),
        company_state="VERIFIED", auth_state="SIGNED", transfer_status_id="ready", success_status_id="transferred",
        failure_status_id="failed", error_emails="errors@fjord.example", settings_saved_at=utcnow(), active=True,
        activated_at=utcnow(), send_pdf=False)
    ext.session.add(connection)
    ext.session.commit()
    return connection.id


def test_a_changed_key_pauses_the_company_until_the_old_key_is_back(tmp_path, sandbox):
    before = _app(tmp_path, sandbox, OLD)
    with before.app_context():
        _connect(sandbox)
        before.extensions["maventa"].adapter.add_invoice("i1", "c1", "ready", invoice_document("K-1"))
        (queued,) = transfer.sweep(dispatch=False).created  # queued before the key changed

    changed = _app(tmp_path, sandbox, NEW)  # someone replaced the key instead of putting the new one first
    changed.extensions["maventa"].adapter = before.extensions["maventa"].adapter
    with changed.app_context():
        client = changed.test_client()
        for path in ("companies/c1", "companies/c1/settings/print", "companies/c1/routing"):
            response = client.get(f"{PREFIX}/{path}")
            assert response.status_code == 200 and UNREADABLE in response.get_data(as_text=True), path
        refused = client.post(f"{PREFIX}/companies/c1/activation", data={"active": "1", "csrf_token": csrf_token(client)},
                              headers={"HX-Request": "true"})
        assert UNREADABLE in refused.get_data(as_text=True)

        changed.extensions["maventa"].adapter.add_invoice("i2", "c1", "ready", invoice_document("K-2"))
        swept = transfer.sweep(dispatch=False)
        assert swept.created == [] and UNREADABLE in swept.blocked["c1"]
        outcome = transfer.send(queued)
        row = current_maventa().session.get(Transfer, queued)
        assert outcome.state == "queued" and row.state == "queued" and row.attempts == 0
        assert row.last_error_code == "SECRET_UNREADABLE"
        adapter = current_maventa().adapter
        assert current_maventa().mailer.outbox == [] and ("i1", "failed") not in adapter.status_changes  # no mail
        assert transfer.send(queued).state == "skipped"  # not due again until the next sweep interval
        assert current_maventa().session.query(Event).filter_by(kind="transfer.paused").count() == 1
        doctor = changed.test_cli_runner().invoke(args=["maventa", "doctor"])
        assert "cannot be decrypted with MAVENTA_SECRET_KEY" in doctor.output

    fixed = _app(tmp_path, sandbox, f"{NEW},{OLD}")
    fixed.extensions["maventa"].adapter = before.extensions["maventa"].adapter
    with fixed.app_context():
        current_maventa().session.execute(Transfer.__table__.update().values(next_attempt_at=None))
        current_maventa().session.commit()
        assert transfer.send(queued).state == "accepted"
        swept = transfer.sweep(dispatch=False)
        assert len(swept.created) == 1 and "c1" not in swept.blocked
        page = fixed.test_client().get(f"{PREFIX}/companies/c1").get_data(as_text=True)
        assert UNREADABLE not in page.split('id="maventa-history"')[0]  # only the history remembers it


def test_rotate_secrets_re_encrypts_in_batches_is_idempotent_and_lets_the_old_key_go(tmp_path, sandbox):
    old = make_app(tmp_path, MAVENTA_SECRET_KEY=OLD)
    with old.app_context():
        ext = current_maventa()
        for n, company_id in enumerate(("c1", "c1-bergen", "c1-support")):
            ext.session.add(Connection(company_id=company_id, environment="sandbox", company_uuid=f"uuid-{n}",
                                       api_key_encrypted=ext.secrets().encrypt(f"user-api-key-{n}")))
        ext.session.commit()

    both = make_app(tmp_path, MAVENTA_SECRET_KEY=f"{NEW},{OLD}")
    runner = both.test_cli_runner()
    first = runner.invoke(args=["maventa", "rotate-secrets", "--batch-size", "2"])
    assert first.exit_code == 0, first.output
    assert "3 re-encrypted, 0 already under the newest key" in first.output
    again = runner.invoke(args=["maventa", "rotate-secrets"])
    assert again.exit_code == 0 and "0 re-encrypted, 3 already under the newest key" in again.output

    new_only = make_app(tmp_path, MAVENTA_SECRET_KEY=NEW)
    with new_only.app_context():
        ext = current_maventa()
        keys = sorted(ext.api_key(c) for c in ext.session.query(Connection))
        assert keys == ["user-api-key-0", "user-api-key-1", "user-api-key-2"]
        lost = ext.session.query(Connection).filter_by(company_id="c1").one()
        lost.api_key_encrypted = Fernet(OTHER.encode()).encrypt(b"k").decode()
        ext.session.commit()
    unreadable = new_only.test_cli_runner().invoke(args=["maventa", "rotate-secrets"])
    assert unreadable.exit_code == 1
    assert "1 unreadable" in unreadable.output and "c1" in unreadable.output
