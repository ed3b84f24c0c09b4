"""The hostile inputs that once made a 5xx, one by one (the fuzz test looks for new ones), and the edge
rules: permission before parsing, NUL refused, open redirects, state changes only on POST."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, Event, Transfer
from flask_maventa.services.webhooks import new_webhook_secret, secret_hash
from flask_maventa.web.views.webhooks import MAX_BODY_BYTES

from .conftest import HTMX, PREFIX, build_world, csrf_token, hostile_app


@pytest.fixture
def world(world_app):
    return world_app


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request, tmp_path, sandbox):
    """The same world on both databases: for what only PostgreSQL refuses (a NUL, an out-of-range integer)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    app = hostile_app(tmp_path, sandbox, database_url=url)
    with app.app_context():
        world = build_world(sandbox)
        yield app, world


def _transfers():
    return current_maventa().session.query(Transfer).order_by(Transfer.id).all()


def test_bad_query_values_are_ignored_with_a_message_not_a_5xx(both):
    app, w = both
    client = app.test_client()
    assert client.get(f"{PREFIX}/transfers?date_to=9999-12-31").status_code == 200  # no day after it
    assert client.get(f"{PREFIX}/transfers?date_from=0001-01-01&date_to=0001-01-01").status_code == 200
    assert client.get(f"{PREFIX}/transfers?number={'9' * 5000}").status_code == 200
    assert client.get(f"{PREFIX}/transfers/{2**31}/invoices/i1").status_code == 404
    assert client.get(f"{PREFIX}/transfers/{10**30}/invoices/i1").status_code == 404


@pytest.mark.parametrize("raw", ["\u00b2 \u0663 -1 1.0 " + "9" * 26 + " " + "9" * 5000])
def test_retry_ids_int_or_the_database_cannot_take_say_the_transfer_does_not_exist(both, raw):
    app, w = both
    client = app.test_client()
    ids = raw.split(" ")
    response = client.post(f"{PREFIX}/transfers/retry", data={"ids": ids, "csrf_token": csrf_token(client)},
                           headers=HTMX)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("does not exist") == len(ids)


def test_a_json_or_garbage_body_on_a_form_post_is_a_missing_form(world):
    app, w = world
    client = app.test_client()
    csrf_token(client)  # a session, so only the body is wrong
    before = current_maventa().session.query(Event).count()
    for body in (b"[1,2]", b'{"ids": [1], "csrf_token": "x"}', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe garbage"):
        for path in (f"{PREFIX}/transfers/retry", f"{PREFIX}/companies/c1/settings", f"{PREFIX}/register",
                     f"{PREFIX}/companies/c1/activation", f"{PREFIX}/companies/c1/credentials",
                     f"{PREFIX}/companies/c1/signing/send", f"{PREFIX}/companies/c1/settings/validate",
                     f"{PREFIX}/companies/c1/settings/print"):
            response = client.post(path, data=body, content_type="application/json", headers=HTMX)
            assert response.status_code == 200, (path, response.status_code)  # the form, saying it expired
    current_maventa().session.rollback()
    assert current_maventa().session.query(Event).count() == before  # nothing done, nothing refused even


def test_a_refused_user_gets_403_before_the_body_is_read(world):
    app, w = world
    app.extensions["maventa"].adapter.allowed = set()
    response = app.test_client().post(f"{PREFIX}/transfers/retry", data=b"[1,2]", content_type="application/json")
    assert response.status_code == 403


def test_a_file_where_text_is_expected_is_a_missing_field(world):
    app, w = world
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(f"{PREFIX}/companies/c1/settings", headers=HTMX, content_type="multipart/form-data",
                           data={"csrf_token": token, "transfer_status_id": "ready", "success_status_id": "transferred",
                                 "failure_status_id": "failed", "error_emails": (io.BytesIO(b"x@y.example"), "a.txt")})
    assert response.status_code == 200
    connection = current_maventa().session.get(Connection, w.connection_id)
    assert connection.error_emails is None  # saved without the file: the field was simply empty


def test_nul_anywhere_in_the_request_is_refused_with_a_400(both):
    app, w = both
    client = app.test_client()
    for path in (f"{PREFIX}/transfers?number=a%00b", f"{PREFIX}/transfers/{w.connection_id}/invoices/i1%00",
                 f"{PREFIX}/companies/c1%00", f"{PREFIX}/companies/c1/signing/approver?approver=p%00",
                 f"{PREFIX}/transfers?a%00=1"):
        response = client.get(path)
        assert response.status_code == 400 and "could not be read" in response.get_data(as_text=True), path
    connection, url, secret = _webhook(w)
    assert client.post(f"{PREFIX}/webhooks/{connection.id}/%00", json={"id": "x"}).status_code == 400
    assert client.post(url, json={"id": "a\u0000b"}).status_code == 202


def test_nul_in_a_posted_field_is_refused_and_changes_nothing(world):
    app, w = world
    client = app.test_client()
    response = client.post(f"{PREFIX}/companies/c1/settings", data={
        "csrf_token": csrf_token(client), "transfer_status_id": "ready", "success_status_id": "transferred",
        "failure_status_id": "failed", "error_emails": "a\x00b@fjord.example"})
    assert response.status_code == 400
    assert current_maventa().session.get(Connection, w.connection_id).error_emails == "errors@fjord.example"


# -- the webhook -------------------------------------------------------------------------------------------


def _webhook(w):
    connection = current_maventa().session.get(Connection, w.connection_id)
    secret = new_webhook_secret(connection)
    current_maventa().session.commit()
    return connection, f"{PREFIX}/webhooks/{connection.id}/{secret}", secret


def test_the_webhook_secret_is_stored_only_as_its_hash_and_found_by_connection_id(world):
    app, w = world
    connection, url, secret = _webhook(w)
    client = app.test_client()
    assert connection.webhook_secret_hash == secret_hash(secret) and secret not in connection.webhook_secret_hash
    assert client.post(url, json={"id": "x"}).status_code == 202
    assert client.post(f"{PREFIX}/webhooks/{connection.id}/{secret[:-1]}x", json={"id": "x"}).status_code == 403
    assert client.post(f"{PREFIX}/webhooks/{connection.id + 1}/{secret}", json={"id": "x"}).status_code == 403
    assert client.post(f"{PREFIX}/webhooks/{2**31}/{secret}", json={"id": "x"}).status_code == 403
    assert client.post(f"{PREFIX}/webhooks/{connection.id}/%00", json={"id": "x"}).status_code == 400
    assert client.post(f"{PREFIX}/webhooks/{secret}", json={"id": "x"}).status_code == 404  # the old form


def test_the_webhook_ignores_garbage(world):
    app, w = world
    connection, url, secret = _webhook(w)
    for body in (b"[" * 32_000 + b"]" * 32_000, b'{"id": "a\\u0000b"}', b"\x00\xff", b"", b"[]",
                 b'{"id": ' + b'"x", "y": ' * 10 + b'1}', b'{"id": {"nested": 1}}'):
        response = app.test_client().post(url, data=body, content_type="application/json")
        assert response.status_code == 202, body[:40]


def test_the_webhook_refuses_a_body_over_its_limit_unread(world):
    app, w = world
    connection, url, secret = _webhook(w)
    response = app.test_client().post(url, data=b" " * (MAX_BODY_BYTES + 1), content_type="application/json")
    assert response.status_code == 413


def test_the_webhook_secret_stays_out_of_the_access_log(world, caplog):
    """werkzeug's access log gets the secret filter (a real server writes the request line there)."""
    app, w = world
    connection, url, secret = _webhook(w)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('127.0.0.1 - - "%s %s HTTP/1.1" %s -', "POST", url, 202)
        logging.getLogger("werkzeug").info('"POST %s/webhooks/%s/%s HTTP/1.1" 403 -', PREFIX, 7, "a" * 40)
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
    assert all("a" * 40 not in r.getMessage() for r in caplog.records)  # unknown secrets too, by their shape
    assert f"/webhooks/{connection.id}/[redacted]" in caplog.text


# -- open redirects, state changes ------------------------------------------------------------------------


def test_retry_goes_back_only_to_our_own_pages(world):
    from flask_maventa.web.views import own_url

    app, w = world
    cases = {"http://evil.example/steal": None, "//evil.example/x": None, f"/\t/evil.example{PREFIX}/": None,
             f"/\\evil.example{PREFIX}/": None, "/somewhere/else": None, f"{PREFIX}/../../admin": None,
             f"javascript:alert(1)//{PREFIX}/": None, f"https://evil.example{PREFIX}/": None,
             f"http://localhost{PREFIX}/transfers?state=failed": f"{PREFIX}/transfers?state=failed",
             f"{PREFIX}/transfers/1/invoices/i1": f"{PREFIX}/transfers/1/invoices/i1"}
    with app.test_request_context("/"):
        assert {target: own_url(target) for target in cases} == cases
    client = app.test_client()
    failed = [t for t in _transfers() if t.state == "failed"]
    for transfer_row, (referrer, expected) in zip(failed, [("http://evil.example/steal", f"{PREFIX}/transfers"),
                                                          (f"http://localhost{PREFIX}/transfers?state=failed",
                                                           f"{PREFIX}/transfers?state=failed")], strict=True):
        response = client.post(f"{PREFIX}/transfers/retry", headers={"Referer": referrer},
                               data={"ids": str(transfer_row.id), "csrf_token": csrf_token(client)})
        assert response.status_code == 303 and response.headers["Location"] == expected


def test_a_get_of_the_signing_state_asks_no_one_and_writes_nothing(world, sandbox):
    app, w = world
    connection = current_maventa().session.get(Connection, w.connection_id)
    connection.company_state, connection.auth_state = "UNVERIFIED", "SENT"
    connection.auth_next_check_at = connection.auth_sent_at = connection.created_at  # a check is due
    current_maventa().session.commit()
    before = (sandbox.stats()["requests"], current_maventa().session.query(Event).count())
    response = app.test_client().get(f"{PREFIX}/companies/c1/signing", headers=HTMX)
    assert response.status_code == 200
    assert (sandbox.stats()["requests"], current_maventa().session.query(Event).count()) == before


def test_the_example_apps_language_switch_never_leaves_the_site(monkeypatch, tmp_path):
    from tests.example.conftest import make_erp

    erp = make_erp(monkeypatch, tmp_path)
    client = erp.test_client()
    page = client.get("/invoices").get_data(as_text=True)
    token = re.search(r'name="lang-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    for target in ("/\t/evil.example/", "/\\evil.example/", "//evil.example/", "http://evil.example/",
                   "javascript:alert(1)", "/\n/evil.example", " //evil.example"):
        answer = client.post("/language", data={"lang-language": "fi", "lang-next": target, "lang-csrf_token": token})
        assert answer.status_code == 303 and answer.headers["Location"] == "/invoices", target
    without = client.post("/language", data={"lang-language": "fi", "lang-next": "/invoice-statuses"})
    assert without.headers["Location"] == "/invoices", "without the page's token: nowhere but home"
    good = client.post("/language", data={"lang-language": "fi", "lang-next": "/invoice-statuses?x=1",
                                          "lang-csrf_token": token})
    assert good.headers["Location"] == "/invoice-statuses?x=1"


def test_an_htmx_trigger_set_before_as_plain_names_is_kept(app):
    from flask import Response

    from flask_maventa.web import htmx as _htmx

    response = Response()
    response.headers["HX-Trigger"] = "host:one, host:two"
    _htmx.add_trigger(response, "maventa:x", {"name": "<b>"})
    assert json.loads(response.headers["HX-Trigger"]) == {"host:one": True, "host:two": True,
                                                          "maventa:x": {"name": "<b>"}}


def test_the_migration_forgets_clear_tokens_and_keeps_the_old_subscription_to_replace(tmp_path):
    """0002: the clear ``webhook_token`` goes; a registered webhook is re-registered (new URL) by the sweep."""
    import sqlalchemy as sa
    from alembic import command

    from flask_maventa.infra.migrations import alembic_config
    from flask_maventa.infra.models import metadata
    from tests.fixtures.apps import make_app

    app = make_app(tmp_path)
    db = app.extensions["test.db"]
    with app.app_context():
        metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(sa.text(
                "INSERT INTO maventa_connection (company_id, environment, needs_manual_credentials, auth_state, "
                "company_state, auth_check_count, send_pdf, send_customer_email, active, webhook_token, webhook_id, "
                "created_at, updated_at) VALUES ('c1', 'test', false, 'NONE', 'VERIFIED', 0, true, true, true, "
                "'clear-token-0123456789', 'hook-1', '2026-01-01', '2026-01-01')"))
            command.upgrade(alembic_config(conn), "head")
            columns = {c["name"] for c in sa.inspect(conn).get_columns("maventa_connection")}
            row = conn.execute(sa.text("SELECT webhook_secret_hash, webhook_id FROM maventa_connection")).one()
    assert "webhook_token" not in columns
    assert tuple(row) == (None, "hook-1")  # no secret: ensure_webhook registers anew and deletes hook-1


def test_the_sweep_replaces_a_webhook_registered_under_an_old_url(tmp_path, sandbox):
    from flask_maventa.services import transfer

    app = hostile_app(tmp_path, sandbox, MAVENTA_WEBHOOK_BASE_URL="https://erp.example")
    with app.app_context():
        w = build_world(sandbox)
        connection = current_maventa().session.get(Connection, w.connection_id)
        company = current_maventa().company_client(connection)
        for hook in company.list_webhooks():  # the world's own sweep registered one already
            company.delete_webhook(hook["id"])
        old = company.register_webhook(f"https://erp.example{PREFIX}/webhooks/clear-token-0123456789")
        connection.webhook_id, connection.webhook_secret_hash = old["id"], None  # as migration 0002 leaves it
        current_maventa().session.commit()
        transfer.sweep(dispatch=False)
        hooks = [h["destination"] for h in company.list_webhooks()]
        assert len(hooks) == 1 and re.fullmatch(rf"https://erp\.example{PREFIX}/webhooks/{connection.id}/[\w-]{{43}}",
                                                hooks[0]), hooks
        secret = hooks[0].rsplit("/", 1)[1]
        assert connection.webhook_secret_hash == secret_hash(secret) and connection.webhook_id != old["id"]
        assert app.test_client().post(hooks[0].removeprefix("https://erp.example"), json={"id": "x"}).status_code == 202
