"""Setting the extension up in a host app, and the landing page."""

from __future__ import annotations

import re

import pytest
from flask import Flask, Request
from flask_sqlalchemy import SQLAlchemy

from flask_maventa import ConfigurationError, Maventa
from flask_maventa.infra.config import DEFAULTS
from flask_maventa.testing import MemoryAdapter

from .fixtures.apps import make_app

PREFIX = DEFAULTS["MAVENTA_URL_PREFIX"]


def bare_app(**config):
    app = Flask("host")
    app.config.update(SECRET_KEY="x", SQLALCHEMY_DATABASE_URI="sqlite://", **config)
    db = SQLAlchemy(app)
    return app, db


def test_double_registration_is_refused():
    app, db = bare_app()
    Maventa(app, db=db, adapter=MemoryAdapter())
    with pytest.raises(RuntimeError, match="already registered"):
        Maventa(app, db=db, adapter=MemoryAdapter())


def test_missing_adapter_names_the_fix():
    app, db = bare_app()
    with pytest.raises(RuntimeError, match=re.escape("subclass flask_maventa.HostAdapter")):
        Maventa(app, db=db)


def test_missing_db_names_the_fix():
    app, _ = bare_app()
    with pytest.raises(RuntimeError, match="Flask-SQLAlchemy object"):
        Maventa(app, adapter=MemoryAdapter())


def test_adapter_of_the_wrong_type_is_refused():
    app, db = bare_app()
    with pytest.raises(TypeError, match="HostAdapter"):
        Maventa(app, db=db, adapter=object())


def test_init_app_later_pattern():
    maventa = Maventa(adapter=MemoryAdapter())
    app, db = bare_app()
    state = maventa.init_app(app, db=db)
    assert app.extensions["maventa"] is state and state.db is db and state.adapter is maventa.adapter


def test_every_default_is_set_without_overriding_the_host():
    app, db = bare_app(MAVENTA_QUEUE="invoices")
    Maventa(app, db=db, adapter=MemoryAdapter())
    for key, value in DEFAULTS.items():
        assert key in app.config
        if key != "MAVENTA_QUEUE":
            assert app.config[key] == value
    assert app.config["MAVENTA_QUEUE"] == "invoices"


def test_misspelt_key_fails_at_start_up_with_a_suggestion():
    app, db = bare_app(MAVENTA_ENVIRONEMNT="sandbox")
    with pytest.raises(ConfigurationError, match="Did you mean MAVENTA_ENVIRONMENT"):
        Maventa(app, db=db, adapter=MemoryAdapter())


def test_unknown_environment_is_refused():
    app, db = bare_app(MAVENTA_ENVIRONMENT="staging")
    with pytest.raises(ConfigurationError, match="production, test, sandbox"):
        Maventa(app, db=db, adapter=MemoryAdapter())


def test_production_without_a_secret_key_is_a_start_up_error():
    app, db = bare_app(MAVENTA_ENVIRONMENT="production", MAVENTA_VENDOR_API_KEY="v")
    with pytest.raises(ConfigurationError, match="MAVENTA_SECRET_KEY is required"):
        Maventa(app, db=db, adapter=MemoryAdapter())


def test_blueprint_prefix_is_configurable(tmp_path):
    app = make_app(tmp_path, MAVENTA_URL_PREFIX="/admin/maventa")
    assert app.test_client().get("/admin/maventa/").status_code == 200
    assert app.test_client().get("/settings/integrations/maventa/").status_code == 404


def test_nothing_global_changes_in_the_host(tmp_path):
    app = make_app(tmp_path)
    assert app.request_class is Request
    assert app.test_client().get("/host-page").data == b"host Request"
    assert app.jinja_loader.searchpath == Flask("maventa_test_host").jinja_loader.searchpath


def test_landing_page_lists_companies_and_greys_out_ineligible_departments(client):
    response = client.get("/settings/integrations/maventa/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fjord Consulting AS" in html and "Fjord Bergen AS" in html
    assert 'href="/settings/integrations/maventa/companies/c1-bergen"' in html
    # The department without a VAT number is shown, not linked, with the reason.
    assert "Fjord Support" in html
    assert 'href="/settings/integrations/maventa/companies/c1-support"' not in html
    assert "has no VAT number of its own" in html
    assert "<html" in html  # the whole page


def test_htmx_request_gets_the_fragment_from_the_same_url(client):
    page = client.get("/settings/integrations/maventa/")
    fragment = client.get("/settings/integrations/maventa/", headers={"HX-Request": "true"})
    boosted = client.get("/settings/integrations/maventa/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="maventa-companies"' in fragment.get_data(as_text=True)
    assert "<html" in boosted.get_data(as_text=True)


def test_without_permission_the_page_is_403(client, adapter):
    adapter.allowed = {"c1"}
    assert client.get("/settings/integrations/maventa/companies/c1-bergen").status_code == 403
    page = client.get("/settings/integrations/maventa/").get_data(as_text=True)
    assert "Fjord Consulting AS" in page and "Fjord Bergen AS" not in page
    adapter.allowed = set()
    assert client.get("/settings/integrations/maventa/").status_code == 403


def test_unknown_company_is_a_404_page_not_a_traceback(client):
    response = client.get("/settings/integrations/maventa/companies/nope")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_ineligible_department_page_says_why(client):
    response = client.get("/settings/integrations/maventa/companies/c1-support")
    assert response.status_code == 200
    assert "has no VAT number of its own" in response.get_data(as_text=True)


def test_host_can_override_any_template_at_the_same_path(tmp_path):
    templates = tmp_path / "host_templates" / "maventa" / "partials"
    templates.mkdir(parents=True)
    (templates / "_companies.html").write_text("<p id='host-override'>{{ rows|length }} companies</p>")
    app = make_app(tmp_path)
    app.template_folder = str(tmp_path / "host_templates")
    html = app.test_client().get("/settings/integrations/maventa/").get_data(as_text=True)
    assert "<p id='host-override'>3 companies</p>" in html


def test_host_base_template_wraps_the_pages(tmp_path):
    folder = tmp_path / "host_templates"
    folder.mkdir()
    (folder / "erp.html").write_text(
        "<html><body><nav id='erp-nav'>ERP</nav>{% block content %}{% endblock %}</body></html>"
    )
    app = make_app(tmp_path, MAVENTA_BASE_TEMPLATE="erp.html")
    app.template_folder = str(folder)
    html = app.test_client().get("/settings/integrations/maventa/").get_data(as_text=True)
    assert "<nav id='erp-nav'>ERP</nav>" in html and "Fjord Consulting AS" in html


def test_a_host_without_flask_babel_gets_the_pages_in_english(tmp_path):
    """Flask-Babel is a dependency, but a host need not initialise it: every page and form still renders."""
    app = make_app(tmp_path, babel=False)
    client = app.test_client()
    pages = [f"{PREFIX}/", f"{PREFIX}/register", f"{PREFIX}/companies/c1", f"{PREFIX}/transfers"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
    assert "Register" in client.get(f"{PREFIX}/register").get_data(as_text=True)


def test_jobs_never_ask_the_hosts_locale_selector_outside_a_request(tmp_path):
    """A host's selector usually reads ``request``; workers and the CLI have none, so they use the default."""
    from flask import request
    from flask_babel import Babel, force_locale

    from flask_maventa.infra import i18n

    app = make_app(tmp_path, babel=False, BABEL_DEFAULT_LOCALE="nb")
    Babel(app, locale_selector=lambda: request.args["lang"])  # raises outside a request
    with app.app_context():
        assert i18n.gettext("Where invoices go") == "Hvor fakturaene går"
        assert str(i18n.lazy_gettext("Where invoices go")) == "Hvor fakturaene går"
    with app.app_context(), force_locale("sv"):  # a host may choose, e.g. the company's language
        assert i18n.gettext("Where invoices go") == "Vart fakturorna går"
    with app.test_request_context("/?lang=fi"):
        assert i18n.gettext("Where invoices go") == "Minne laskut menevät"
