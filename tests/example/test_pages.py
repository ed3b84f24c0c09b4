"""The example ERP's own pages, and the extension's pages inside its layout."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
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
    from flask_maventa import ConfigurationError

    monkeypatch.setenv("MAVENTA_REDIS_ULR", "redis://x")
    with pytest.raises(ConfigurationError, match="Did you mean MAVENTA_REDIS_URL"):
        make_erp(monkeypatch, tmp_path)


# -- the customer card: fix what a failed invoice needs ---------------------------------------------------


def customer(name: str):
    from example_app.models import Customer

    return db.session.scalars(sa.select(Customer).where(Customer.name == name)).one()


def card_form(page: str, **changes) -> dict:
    """The card's form as the browser would post it: every field's current value, then the changes."""
    values = dict(re.findall(r'<input[^>]*?name="(\w+)"[^>]*?value="([^"]*)"', page))
    values["country"] = re.search(r'name="country"[^>]*>.*?<option selected value="(\w+)">', page, re.S).group(1)
    values.update(changes)
    return values


def test_customer_card_saves_a_fix_without_javascript(erp):
    client = erp.test_client()
    solberg = customer("Solberg Snekkeri")
    listing = client.get("/customers").get_data(as_text=True)
    assert f'href="/customers/{solberg.id}"' in listing and "Solberg Snekkeri" in listing
    page = client.get(f"/customers/{solberg.id}").get_data(as_text=True)
    assert "Reachable by: print." in page and "10003" in page
    assert f'href="{PREFIX}/transfers?number=10003"' in page  # where Retry is, after the fix

    response = client.post(f"/customers/{solberg.id}", data=card_form(
        page, email=" post@solberg.example ", einvoice_address="0192: 975312461", einvoice_operator=""))
    assert response.status_code == 303 and response.headers["Location"] == f"/customers/{solberg.id}"
    db.session.expire_all()
    solberg = customer("Solberg Snekkeri")
    assert (solberg.email, solberg.einvoice_address, solberg.einvoice_operator) == (
        "post@solberg.example", "0192:975312461", None)
    assert (solberg.street, solberg.post_code, solberg.city, solberg.country) == (
        "Verkstedveien 12", "3015", "Drammen", "NO")  # the untouched fields kept their values
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Customer card saved." in page and "Reachable by: e-invoice." in page

    # Clearing is a fix too: without the e-invoice address the customer is reached by email.
    response = client.post(f"/customers/{solberg.id}", data=card_form(page, einvoice_address=""))
    assert response.status_code == 303
    db.session.expire_all()
    assert customer("Solberg Snekkeri").einvoice_address is None
    assert customer("Solberg Snekkeri").channel == "email"


@pytest.mark.parametrize("changes, field, message", [
    ({"email": "post@solberg"}, "email", "Enter a valid email address, like name@example.com."),
    ({"einvoice_address": "975312461"}, "einvoice_address", "Write the address as scheme:identifier"),
    ({"einvoice_address": "0192:975312460"}, "einvoice_address",
     "975312460 is not a valid identifier for scheme 0192: check the digits."),
    ({"einvoice_address": "0037:003712345678"}, "einvoice_address",
     "Peppol no longer accepts the scheme 0037; use 0216."),
    ({"einvoice_address": "9999:123"}, "einvoice_address", "9999 is not a Peppol address scheme"),
    ({"einvoice_operator": "PEPPOL"}, "einvoice_operator", "An operator needs an e-invoice address"),
    ({"post_code": "30150"}, "post_code", "This is not a post code of Norway."),
    ({"street": ""}, "street", "A postal address needs street, post code and city"),
    ({"country": "XX"}, "country", "Not a valid choice"),
])
def test_customer_card_refuses_bad_input_with_a_clear_message_and_changes_nothing(erp, changes, field, message):
    client = erp.test_client()
    solberg = customer("Solberg Snekkeri")
    page = client.get(f"/customers/{solberg.id}").get_data(as_text=True)
    response = client.post(f"/customers/{solberg.id}", data=card_form(page, **{"email": "ok@solberg.example", **changes}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was saved: correct the fields marked below." in html
    error = re.search(rf'<span class="erp-error" id="{field}-error">([^<]*)</span>', html)
    assert error and message in unescape(error.group(1)), html[-4000:]
    # The field says which error describes it, for screen readers.
    field_tag = re.search(rf'<(?:input|select)[^>]*\bid="{field}"[^>]*>', html).group(0)
    assert "aria-invalid=\"true\"" in field_tag and f"{field}-error" in field_tag
    db.session.expire_all()
    solberg = customer("Solberg Snekkeri")
    assert (solberg.email, solberg.einvoice_address, solberg.street, solberg.post_code, solberg.country) == (
        None, None, "Verkstedveien 12", "3015", "NO")


def test_customer_card_without_csrf_token_changes_nothing(erp):
    client = erp.test_client()
    solberg = customer("Solberg Snekkeri")
    page = client.get(f"/customers/{solberg.id}").get_data(as_text=True)
    data = card_form(page, email="post@solberg.example")
    data.pop("csrf_token")
    response = client.post(f"/customers/{solberg.id}", data=data)
    assert response.status_code == 422 and "The form has expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert customer("Solberg Snekkeri").email is None
    assert client.get("/customers/999").status_code == 404


# -- the ERP speaks the reader's language, from its own catalogue ------------------------------------------


def example_catalogues() -> dict[str, dict[str, str]]:
    """lang -> msgid -> text, from the ERP's compiled catalogues (the "example" domain)."""
    from babel.messages.mofile import read_mo

    folder = Path(__file__).resolve().parents[2] / "example_app" / "translations"
    catalogues = {}
    for lang in ("en", "nb", "fi", "sv"):
        with (folder / lang / "LC_MESSAGES" / "example.mo").open("rb") as f:
            catalogues[lang] = {m.id: m.string for m in read_mo(f) if m.id and isinstance(m.id, str)}
    return catalogues


def visible_text(html: str) -> str:
    """What a reader sees or hears: the text, and the labels in aria-label, data-label and title."""
    labels = re.findall(r'(?:aria-label|data-label|title)="([^"]*)"', html)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    body = re.sub(r'<select[^>]*name="lang-language".*?</select>', " ", body, flags=re.S)  # each in its own
    text = re.sub(r"<[^>]+>", " ", body)
    return unescape(" ".join([text, *labels]))


def strings_of_other_languages(text: str, lang: str, catalogues) -> list[str]:
    """The ERP's texts of another language found in ``text``, as whole words. A text that is also
    one of this language's own (Status, Land, PDF) is not foreign."""
    own = set(catalogues[lang].values())
    found = set()
    for other, catalogue in catalogues.items():
        if other == lang:
            continue
        for string in catalogue.values():
            if string in own or "%(" in string:
                continue
            if re.search(rf"(?<!\w){re.escape(string)}(?!\w)", text):
                found.add(f"{other}: {string}")
    return sorted(found)


ERP_PAGES = ["/invoices", "/invoice-statuses", "/customers", "/customers/{solberg}", f"{PREFIX}/"]


@pytest.mark.parametrize("lang", ["en", "nb", "fi", "sv"])
def test_every_erp_page_is_in_one_language(erp, lang):
    catalogues = example_catalogues()
    client = erp.test_client()
    solberg = customer("Solberg Snekkeri")
    page = client.get("/invoices").get_data(as_text=True)
    client.post("/language", data={"lang-language": lang, "lang-next": "/invoices", "lang-csrf_token": csrf(page)})
    own = catalogues[lang]
    for path in ERP_PAGES:
        html = client.get(path.format(solberg=solberg.id)).get_data(as_text=True)
        assert f'<html lang="{lang}">' in html
        text = visible_text(html)
        assert strings_of_other_languages(text, lang, catalogues) == [], path
        # Navigation and status names in this language (also around the extension's own page).
        for msgid in ("Invoices", "Customers", "Invoicing › Invoice statuses", "Integrations › Maventa"):
            assert own[msgid] in text, (path, msgid)
    statuses = visible_text(client.get("/invoice-statuses").get_data(as_text=True))
    for name in ("Draft", "Ready for Maventa", "Transferred to Maventa", "Maventa transfer failed", "Paid"):
        assert own[name] in statuses


def test_the_extension_sees_the_status_names_in_the_readers_language(erp):
    from example_app.adapter import ExampleAdapter

    with erp.test_request_context("/", headers={"Accept-Language": "fi"}):
        names = [s.name for s in ExampleAdapter().list_invoice_statuses("1")]
    assert names[:3] == ["Luonnos", "Hyväksytty", "Valmis Maventaan"]
    with erp.app_context():  # a worker: no request, the default locale
        names = [s.name for s in ExampleAdapter().list_invoice_statuses("1")]
    assert names[:3] == ["Draft", "Approved", "Ready for Maventa"]
    # A status the user named stays as named, in every language.
    db.session.add(InvoiceStatus(name="Til godkjenning hos kunden", position=99))
    db.session.commit()
    with erp.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert ExampleAdapter().list_invoice_statuses("1")[-1].name == "Til godkjenning hos kunden"


# -- the demo's data: back to the starting point ---------------------------------------------------------


def test_reset_brings_the_demo_back_to_its_starting_point(erp):
    from example_app.seed import reset
    from flask_maventa.infra.models import Connection

    invoice("10001").status = status("Transferred to Maventa")
    status("Ready to send").is_sent = False
    customer("Solberg Snekkeri").email = "post@solberg.example"
    db.session.add(Connection(company_id="1", environment="sandbox", company_uuid="00000000-0000-4000-8000-0000000000aa"))
    db.session.commit()

    result = reset()
    assert result == {"invoices": 8, "new_invoices": 8}
    assert invoice("10001").status.name == "Draft" and invoice("10003").status.name == "Draft"
    assert status("Ready to send").is_sent is True
    assert customer("Solberg Snekkeri").email is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Connection)) == 0
    result = erp.test_cli_runner().invoke(args=["seed", "--reset"])
    assert result.exit_code == 0 and "8 invoices (8 new)" in result.output
