"""The example ERP's own pages, and the extension's pages inside its layout."""

from __future__ import annotations

import re

import sqlalchemy as sa

from example_app.models import Invoice, InvoiceStatus, db
from example_app.seed import seed

from .conftest import make_erp

PREFIX = "/settings/integrations/maventa"


def csrf(html: str) -> str:
    return re.search(r'name="[a-z0-9-]*csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def status(name: str) -> InvoiceStatus:
    return db.session.scalars(sa.select(InvoiceStatus).where(InvoiceStatus.name == name)).one()


def invoice(number: str) -> Invoice:
    return db.session.scalars(sa.select(Invoice).where(Invoice.number == number)).one()


def test_seed_is_idempotent(erp):
    assert seed()["new_invoices"] == 0
    assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 8
    assert db.session.scalar(sa.select(sa.func.count(InvoiceStatus.id))) == 8


def test_seed_command(erp):
    result = erp.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0 and "8 invoices (0 new)" in result.output


def test_extension_pages_render_inside_the_erp_layout(erp):
    client = erp.test_client()
    html = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert 'id="nav-maventa"' in html and "Fjordline ERP" in html  # our layout around it
    assert "Fjordline Bergen AS" in html and "Revontuli Oy" in html
    support_row = re.search(r'<tr class="maventa-ineligible[^>]*>.*?</tr>', html, re.S).group(0)
    assert "Fjordline Support" in support_row and "has no VAT number of its own" in support_row
    assert client.get(f"{PREFIX}/companies/999").status_code == 404
    assert client.get(f"{PREFIX}/companies/not-a-number").status_code == 404


def test_a_restricted_company_is_403(monkeypatch, tmp_path):
    app = make_erp(monkeypatch, tmp_path, EXAMPLE_RESTRICTED_COMPANIES="4")
    client = app.test_client()
    assert client.get(f"{PREFIX}/companies/4").status_code == 403
    assert client.get(f"{PREFIX}/companies/1").status_code == 200
    assert "Revontuli Oy" not in client.get(f"{PREFIX}/").get_data(as_text=True)


def test_htmx_is_loaded_from_our_static_files_only(erp):
    html = erp.test_client().get("/invoices").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert all(src.startswith("/static/vendor/") for src in scripts)
    assert "unpkg.com" not in html and "cdn" not in html.lower()


def test_change_an_invoice_status_with_htmx(erp):
    client = erp.test_client()
    page = client.get("/invoices").get_data(as_text=True)
    target, ready = invoice("10001"), status("Ready for Maventa")
    response = client.post(f"/invoices/{target.id}/status",
                           data={f"i{target.id}-status_id": ready.id, f"i{target.id}-csrf_token": csrf(page)},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "example:invoice-status-changed"
    assert html.startswith(f'<tr id="invoice-{target.id}"') and "<html" not in html
    assert f'<option selected value="{ready.id}">Ready for Maventa</option>' in html
    db.session.expire_all()
    assert invoice("10001").status.name == "Ready for Maventa"


def test_change_an_invoice_status_without_javascript(erp):
    client = erp.test_client()
    page = client.get("/invoices").get_data(as_text=True)
    target, paid = invoice("10002"), status("Paid")
    response = client.post(f"/invoices/{target.id}/status",
                           data={f"i{target.id}-status_id": paid.id, f"i{target.id}-csrf_token": csrf(page)})
    assert response.status_code == 303 and response.headers["Location"] == "/invoices"
    db.session.expire_all()
    assert invoice("10002").status.name == "Paid"


def test_a_status_change_without_csrf_token_changes_nothing(erp):
    client = erp.test_client()
    target = invoice("10001")
    response = client.post(f"/invoices/{target.id}/status", data={f"i{target.id}-status_id": status("Paid").id})
    assert response.status_code == 400
    response = client.post(f"/invoices/{target.id}/status", data={f"i{target.id}-status_id": status("Paid").id},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'role="alert"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert invoice("10001").status.name == "Draft"
    assert client.post("/invoices/999/status", data={}).status_code == 404


def test_clear_the_sent_flag_on_the_statuses_page(erp):
    client = erp.test_client()
    wrong = status("Ready to send")
    page = client.get("/invoice-statuses").get_data(as_text=True)
    assert f'id="status-{wrong.id}"' in page
    response = client.post(f"/invoice-statuses/{wrong.id}", data={f"s{wrong.id}-csrf_token": csrf(page)},
                           headers={"HX-Request": "true"})  # an unchecked box is absent from the form
    assert response.status_code == 200 and "Saved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert status("Ready to send").is_sent is False
    response = client.post(f"/invoice-statuses/{wrong.id}",
                           data={f"s{wrong.id}-csrf_token": csrf(page), f"s{wrong.id}-is_sent": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert status("Ready to send").is_sent is True


def test_invoice_pdf_download(erp):
    response = erp.test_client().get(f"/invoices/{invoice('30001').id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and b"Invoice 30001" in response.data
    assert erp.test_client().get("/invoices/999.pdf").status_code == 404


def test_language_switch_is_stored_in_the_session(erp):
    client = erp.test_client()
    page = client.get("/invoices").get_data(as_text=True)
    response = client.post("/language", data={"lang-language": "nb", "lang-next": f"{PREFIX}/",
                                              "lang-csrf_token": csrf(page)})
    assert response.status_code == 303 and response.headers["Location"] == f"{PREFIX}/"
    html = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert '<html lang="nb">' in html
    with client.session_transaction() as session:
        assert session["language"] == "nb"
    # Never an open redirect, and an unknown language changes nothing.
    response = client.post("/language", data={"lang-language": "xx", "lang-next": "//evil.example/",
                                              "lang-csrf_token": csrf(page)})
    assert response.headers["Location"] == "/invoices"
    with client.session_transaction() as session:
        assert session["language"] == "nb"


def test_environment_config_passes_maventa_keys_through():
    from example_app import environment_config

    config = environment_config({"DATABASE_URL": "postgresql://x/y", "MAVENTA_SWEEP_INTERVAL": "10",
                                 "MAVENTA_REDIS_URL": "redis://r:6379/1", "OTHER": "ignored"})
    assert config == {"SQLALCHEMY_DATABASE_URI": "postgresql://x/y", "MAVENTA_SWEEP_INTERVAL": 10,
                      "MAVENTA_REDIS_URL": "redis://r:6379/1"}


def test_a_misspelt_maventa_variable_fails_at_start_up(monkeypatch, tmp_path):
    import pytest

    from flask_maventa import ConfigurationError

    monkeypatch.setenv("MAVENTA_REDIS_ULR", "redis://x")
    with pytest.raises(ConfigurationError, match="Did you mean MAVENTA_REDIS_URL"):
        make_erp(monkeypatch, tmp_path)
