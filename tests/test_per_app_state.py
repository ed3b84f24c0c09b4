"""One ``Maventa()`` on two apps, the plug points, and what a host keeps for itself on our pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from flask_maventa import Maventa
from flask_maventa.client import MemoryTokenStore
from flask_maventa.extension import current_maventa
from flask_maventa.infra.mail import HostMailer
from flask_maventa.infra.models import metadata
from flask_maventa.infra.state import MaventaState
from flask_maventa.testing import MemoryAdapter, MemoryMailer

from .fixtures.apps import FJORD, PERSONS, STATUSES, demo_adapter

PREFIX = "/settings/integrations/maventa"


def _host(tmp_path, name: str, **config) -> tuple[Flask, SQLAlchemy]:
    app = Flask(name)
    app.config.update(SECRET_KEY=f"{name}-secret", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / name}.db",
                      MAVENTA_ENVIRONMENT="sandbox", **config)
    return app, SQLAlchemy(app)


def test_one_maventa_on_two_apps_keeps_each_apps_own_state(tmp_path):
    maventa = Maventa()
    first_app, first_db = _host(tmp_path, "first")
    second_app, second_db = _host(tmp_path, "second", MAVENTA_QUEUE="second")
    first_adapter, second_adapter = demo_adapter(), MemoryAdapter()
    second_adapter.add_company(FJORD, PERSONS, STATUSES)
    first_mailer, second_mailer = MemoryMailer(), MemoryMailer()
    maventa.init_app(first_app, db=first_db, adapter=first_adapter, mailer=first_mailer)
    maventa.init_app(second_app, db=second_db, adapter=second_adapter, mailer=second_mailer)

    for app, db, adapter, mailer in ((first_app, first_db, first_adapter, first_mailer),
                                     (second_app, second_db, second_adapter, second_mailer)):
        with app.app_context():
            state = current_maventa()
            assert isinstance(state, MaventaState) and state is app.extensions["maventa"]
            assert state.db is db and state.adapter is adapter and state.mailer is mailer
            assert state.session is db.session and state.config is app.config
            assert state.queue().name == app.config["MAVENTA_QUEUE"]
    assert first_app.extensions["maventa"] is not second_app.extensions["maventa"]
    assert first_app.extensions["maventa"].secrets() is not second_app.extensions["maventa"].secrets()
    assert not hasattr(maventa, "session") and not hasattr(maventa, "client")  # the object holds no app state

    # Each app's pages list its own adapter's companies, through its own database.
    for app, db in ((first_app, first_db), (second_app, second_db)):
        with app.app_context():
            metadata.create_all(db.engine)
    first = first_app.test_client().get(f"{PREFIX}/").get_data(as_text=True)
    second = second_app.test_client().get(f"{PREFIX}/").get_data(as_text=True)
    assert "Fjord Bergen AS" in first and "Fjord Bergen AS" not in second and "Fjord Consulting AS" in second


def test_init_app_arguments_win_over_the_constructors(tmp_path):
    app, db = _host(tmp_path, "host")
    default, chosen = MemoryAdapter(), MemoryAdapter()
    Maventa(db=db, adapter=default).init_app(app, adapter=chosen)
    assert app.extensions["maventa"].adapter is chosen


def test_the_token_store_plug_point_gets_tokens_encrypted(tmp_path, sandbox):
    """Flask-Dance's ``storage=``: the host says where processes share tokens; they arrive there encrypted."""
    shared = MemoryTokenStore()
    app, db = _host(tmp_path, "host", MAVENTA_SANDBOX_URL=sandbox.url, MAVENTA_VENDOR_API_KEY=sandbox.vendor_api_key)
    Maventa(app, db=db, adapter=demo_adapter(), token_store=shared)
    company_uuid, api_key = sandbox.new_company(verified=True)
    with app.app_context():
        state = current_maventa()
        state.client().for_company(company_uuid, api_key).current()
        (key,) = shared._tokens  # what the host's store holds
        stored = shared.get(key)
        assert stored is not None
        assert state.secrets().decrypt(stored.access_token) == state.token_store().get(key).access_token
        assert stored.access_token != state.token_store().get(key).access_token  # never in clear


def test_error_mail_goes_through_the_hosts_flask_mailman(tmp_path, smtp_server):
    """With Flask-Mailman on the host (set up before or after us), our error emails go through it."""
    from flask_mailman import Mail

    app, db = _host(tmp_path, "host", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                    MAIL_DEFAULT_SENDER="erp@fjord.example")
    Maventa(app, db=db, adapter=demo_adapter())
    Mail(app)  # after us: looked up when sending
    with app.app_context():
        assert isinstance(current_maventa().mailer, HostMailer)
        current_maventa().mailer.send(["errors@fjord.example"], "Maventa: invoice 1\r\nBcc: x@evil.example", "Body")
    (mail,) = smtp_server.wait_for(1)
    assert mail["From"] == "erp@fjord.example" and mail["To"] == "errors@fjord.example"
    assert mail["Subject"] == "Maventa: invoice 1 Bcc: x@evil.example" and mail["Bcc"] is None


def test_error_mail_goes_through_the_hosts_flask_mail(tmp_path, smtp_server):
    from flask_mail import Mail

    app, db = _host(tmp_path, "host", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                    MAIL_DEFAULT_SENDER="erp@fjord.example", MAVENTA_MAIL_SENDER="maventa@fjord.example")
    Mail(app)
    Maventa(app, db=db, adapter=demo_adapter())
    with app.app_context():
        current_maventa().mailer.send(["errors@fjord.example"], "Subject", "Body")
    (mail,) = smtp_server.wait_for(1)
    assert mail["From"] == "maventa@fjord.example"  # MAVENTA_MAIL_SENDER, when set, is ours


def test_an_adapter_that_still_sends_mail_itself_is_told_the_new_way(tmp_path):
    class OldAdapter(MemoryAdapter):
        def send_mail(self, to, subject, body):
            pass

    app, db = _host(tmp_path, "host")
    with pytest.raises(TypeError, match="mailer="):
        Maventa(app, db=db, adapter=OldAdapter())


HOST_LAYOUT = """<!doctype html><html lang="{{ maventa_locale() }}"><body>
<nav>{{ _("Invoices") }} | {{ gettext("Customers") }}</nav>{% block content %}{% endblock %}</body></html>"""
HOST_TRANSLATIONS = Path(__file__).resolve().parents[1] / "example_app" / "translations"  # a real host catalogue


def test_a_host_layout_keeps_its_own_translations_on_our_pages(tmp_path):
    """The host's `_` and `gettext` in its layout stay the host's (its Flask-Babel domain) on a Maventa page."""
    from jinja2 import ChoiceLoader, DictLoader

    app, db = _host(tmp_path, "host", MAVENTA_BASE_TEMPLATE="host/layout.html",
                    BABEL_TRANSLATION_DIRECTORIES=str(HOST_TRANSLATIONS))
    Babel(app, locale_selector=lambda: "nb", default_domain="example")
    app.jinja_loader = ChoiceLoader([DictLoader({"host/layout.html": HOST_LAYOUT}), app.jinja_loader])
    Maventa(app, db=db, adapter=demo_adapter())
    with app.app_context():
        metadata.create_all(db.engine)
    html = app.test_client().get(f"{PREFIX}/").get_data(as_text=True)
    assert "<nav>Fakturaer | Kunder</nav>" in html  # the host's nb strings, from the host's catalogue
    assert '<html lang="nb">' in html  # maventa_locale is defined
    assert "Fjord Consulting AS" in html and "Registrer" in html  # our page, in our own nb catalogue


def test_the_webhook_passes_a_csrf_protect_made_after_us(tmp_path):
    """No before-request hook in the host's app-wide list: the blueprint exempts its webhook publicly."""
    app, db = _host(tmp_path, "host", WTF_CSRF_ENABLED=True)
    Maventa(app, db=db, adapter=demo_adapter())
    CSRFProtect(app)
    with app.app_context():
        metadata.create_all(db.engine)
    assert all(f.__module__.startswith("flask_wtf") for f in app.before_request_funcs.get(None, []))
    response = app.test_client().post(f"{PREFIX}/webhooks/1/not-the-secret", json={"id": "x"})
    assert response.status_code == 403 and response.get_json() == {"error": "unknown webhook"}  # not CSRF's 400
    form = app.test_client().post(f"{PREFIX}/companies/c1/settings", data={})
    assert form.status_code == 400  # everything else stays protected


def test_the_commands_leave_a_hosts_logging_alone():
    import logging

    from flask_maventa.cli.processes import _logging

    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    handler = logging.NullHandler()
    before = (list(root.handlers), root.level, httpx_logger.level)
    root.addHandler(handler)
    try:
        _logging()
        assert root.handlers == [*before[0], handler] and root.level == before[1]
        assert httpx_logger.level == before[2]
    finally:
        root.removeHandler(handler)
