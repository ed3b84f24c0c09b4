"""The onboarding tests: a test app that talks to the real sandbox over loopback HTTP, and a
watch that fails any test in which a user API key or token leaks.

The watch knows every key because the sandbox knows them: after each test it takes every user
API key and access token the sandbox issued and searches the SQLite file's bytes, every response
body the app sent (test client and live server alike) and every log record of the test.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.fixtures.apps import make_app

PREFIX = "/settings/integrations/maventa"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def bodies():
    return []


@pytest.fixture
def app(tmp_path, request, sandbox, bodies):
    marker = request.node.get_closest_marker("settings")
    redis = request.getfixturevalue("redis_url") if "redis_url" in request.fixturenames else "redis://127.0.0.1:1/0"
    config = dict(MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key,
                  MAVENTA_REDIS_URL=redis)  # port 1: no Redis, the token cache falls back to memory
    config.update(marker.kwargs if marker else {})
    app = make_app(tmp_path, **config)

    @app.after_request
    def keep_body(response):  # every body the app sends, for the secret search
        if not response.direct_passthrough:
            bodies.append(response.get_data())
        return response

    with app.app_context():
        yield app


@pytest.fixture(autouse=True)
def no_secret_leaks(request, sandbox, caplog, bodies, tmp_path):
    caplog.set_level(logging.DEBUG)
    yield
    state = sandbox.server.sandbox
    with state.lock:
        secrets = [u.api_key for u in state.users.values()] + list(state.grants)
    secrets = [s for s in secrets if s]
    database = Path(tmp_path / "host.db")
    db_bytes = database.read_bytes() if database.exists() else b""
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in records)
    for secret in secrets:
        raw = secret.encode()
        assert raw not in db_bytes, "a plaintext API key or token is in the database file"
        assert not any(raw in body for body in bodies), "a plaintext API key or token is in a response body"
        assert secret not in logs, "a plaintext API key or token is in the logs"


def csrf_token(client, path: str = f"{PREFIX}/companies/c1") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"{path} has no form with a CSRF token"
    return match.group(1)


def connection_row(company_id: str = "c1"):
    from flask_maventa.extension import current_maventa
    from flask_maventa.infra.models import Connection

    session = current_maventa().session
    session.expire_all()
    return session.query(Connection).filter_by(company_id=company_id).one_or_none()


def events(kind_prefix: str = ""):
    from flask_maventa.extension import current_maventa
    from flask_maventa.infra.models import Event

    session = current_maventa().session
    return [e for e in session.query(Event).order_by(Event.id) if e.kind.startswith(kind_prefix)]
