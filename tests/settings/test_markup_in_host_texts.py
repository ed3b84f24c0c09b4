"""Host texts are text: a status name full of markup is shown, never run (stored XSS regression)."""

from __future__ import annotations

from html.parser import HTMLParser

from flask_maventa.host import InvoiceStatus

from .conftest import HTMX, PREFIX, csrf_token, offline_connection

PAYLOAD = 'Sent"><script>alert(1)</script><img src=x onerror=alert(2)>'


class _Elements(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def planted_elements(html: str) -> list:
    """Elements only the payload could have made: a script, or an img with an error handler."""
    return [(tag, attrs) for tag, attrs in _Elements(html).tags
            if tag == "script" or "onerror" in attrs]


def test_a_sent_status_named_with_markup_is_escaped_on_the_page_and_in_every_answer(client, adapter):
    adapter.statuses["c1"].append(InvoiceStatus("evil", PAYLOAD, is_sent=True))
    offline_connection()

    page = client.get(f"{PREFIX}/companies/c1").get_data(as_text=True)
    assert "alert(1)" in page, "the status is offered on the page"
    assert planted_elements(page) == []

    answer = client.post(f"{PREFIX}/companies/c1/settings", headers=HTMX, data={
        "csrf_token": csrf_token(client), "transfer_status_id": "evil",
        "success_status_id": "transferred", "failure_status_id": "failed"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "alert(1)" in html
    assert planted_elements(html) == []
