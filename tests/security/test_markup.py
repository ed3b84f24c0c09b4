"""Every text a host or Maventa provides is text: markup in any of them is shown, never run.

The world (see conftest) plants markup in the company, department, person, email, status, invoice number
and customer names, a pre-flight message (it quotes a hostile VAT number), Maventa's error text and a
Maventa company name. Then every page and every answer a user can get is parsed: HTML bodies (out-of-band
swaps included), HX-Trigger and redirect headers.
"""

from __future__ import annotations

from markupsafe import escape

from flask_maventa.infra.i18n import lazy_gettext
from flask_maventa.infra.models import Transfer

from .conftest import HTMX, PAYLOAD, PREFIX, check_answer, csrf_token, oob_swaps


def _get(client, path, seen):
    for headers in ({}, HTMX):  # the whole page, and the fragment htmx swaps in
        response = client.get(path, headers=headers)
        check_answer(response)
        seen.append(response.get_data(as_text=True))


def test_markup_in_every_host_and_maventa_text_is_escaped_everywhere(world_app):
    app, world = world_app
    client = app.test_client()
    seen: list[str] = []
    transfers = app.extensions["test.db"].session.query(Transfer).all()

    for path in [f"{PREFIX}/", f"{PREFIX}/register", f"{PREFIX}/register?company=c1",
                 f"{PREFIX}/transfers", f"{PREFIX}/transfers?state=failed", f"{PREFIX}/transfers/counters",
                 *[f"{PREFIX}/transfers/{t.connection_id}/invoices/{t.invoice_id}" for t in transfers]]:
        _get(client, path, seen)
    for company in ("c1", "c2", "c3"):
        base = f"{PREFIX}/companies/{company}"
        for path in (base, f"{base}/settings", f"{base}/settings/print", f"{base}/activation", f"{base}/signing",
                     f"{base}/signing/approver?approver=p1", f"{base}/signing/approver?approver=p2",
                     f"{base}/routing"):
            _get(client, path, seen)

    token = csrf_token(client)
    base = f"{PREFIX}/companies/c1"
    sent_status = {"transfer_status_id": "sent", "success_status_id": "transferred", "failure_status_id": "failed",
                   "error_emails": PAYLOAD}
    posts = [
        (f"{base}/settings", {**sent_status, "csrf_token": token}),
        (f"{base}/settings/validate", {**sent_status, "csrf_token": token}),  # out-of-band problem slots
        (f"{base}/activation", {"active": "1", "csrf_token": token}),
        (f"{base}/settings/print", {"use_own_pdf": "1", "csrf_token": token}),
        (f"{base}/signing", {"csrf_token": token}),
        (f"{base}/signing/send", {"approver": "p2", "email": PAYLOAD, "locale": "FI", "csrf_token": token}),
        (f"{base}/signing/refresh", {"csrf_token": token}),
        (f"{PREFIX}/companies/c2/credentials", {"company_uuid": world.other_uuid, "api_key": world.other_key,
                                                "csrf_token": token}),  # a hostile Maventa company's name
        (f"{PREFIX}/register", {"company": "c2", "person": "p2", "csrf_token": token}),  # a hostile person
        (f"{PREFIX}/transfers/retry", {"ids": [str(t.id) for t in transfers] + [PAYLOAD], "csrf_token": token}),
    ]
    for path, data in posts:
        for headers in ({}, HTMX):
            response = client.post(path, data=data, headers=headers)
            check_answer(response)
            seen.append(response.get_data(as_text=True))
            if path.endswith("/validate") and headers:
                assert oob_swaps(response.get_data(as_text=True)), "the inline check answers out of band"

    everything = "\n".join(seen)
    escaped = str(escape(PAYLOAD))
    for planted in ("Fjord AS", "Bergen dept", "Support dept", "Kari", "Nordmann", "aino", "Sent", "Ready", "N1",
                    "Kunde 3", "Kunde 4", "Maventa says", "Maventa Oy"):
        assert planted + escaped in everything, f"{planted!r} was never shown: the walk missed a text"
    assert f"The VAT number {escaped} " in everything, "the pre-flight message quoting a host value"


def test_a_lazy_translation_with_a_hostile_parameter_is_text(app):
    """The root cause: Flask-Babel's lazy string declared itself markup, parameters included."""
    text = lazy_gettext("%(name)s (marked as Sent)", name=PAYLOAD)
    assert "<script>" not in str(escape(text)) and "&lt;script&gt;" in str(escape(text))
