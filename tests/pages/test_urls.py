"""Every URL of the extension serves a whole page to a plain GET and its fragment only to htmx.

The routes are read from the app's url_map, so a route added later is checked too (the test fails on a
GET route it has no sample arguments for, rather than skipping it).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import current_app

from example_app.models import Person, db

from .conftest import World

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
NOT_PAGES = {"maventa.static"}  # the stylesheet


def sample_urls(world: World) -> dict[str, str]:
    """One URL per GET endpoint of the blueprint, with real arguments from the world."""
    approver = db.session.scalars(sa.select(Person.id).where(Person.company_id == world.fjordline.id)).first()
    values = {"company_id": str(world.fjordline.id), "connection_id": str(world.failed.connection_id),
              "invoice_id": world.failed.invoice_id}
    query = {"maventa.signing_approver": f"?approver={approver}",
             "maventa.transfer_counters": f"?company={world.fjordline.id}"}
    prefix = world.url[world.url.index("/", len("http://")):]
    urls = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("maventa.") or "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"{rule.rule}: no sample value for {missing}; add one above"
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[^:>]+:)?{name}>", values[name], path)
        assert path.startswith(prefix)
        urls[rule.endpoint] = path + query.get(rule.endpoint, "")
    return urls


def is_page(html: str) -> bool:
    return bool(re.search(r"<html[\s>]", html)) and "maventa/maventa.css" in html


@pytest.mark.browser  # uses the same seeded ERP and sandbox as the browser tests
def test_every_get_route_is_a_page_for_a_plain_get_and_a_fragment_for_htmx(world: World):
    client = current_app.test_client()
    urls = sample_urls(world)
    assert {"maventa.signing_approver", "maventa.transfer_counters", "maventa.index", "maventa.company"} <= set(urls)
    wrong = []
    for endpoint, url in urls.items():
        plain = client.get(url, follow_redirects=True)
        if plain.status_code != 200 or not is_page(plain.get_data(as_text=True)):
            wrong.append(f"plain GET {url} ({endpoint}): {plain.status_code}, not a whole page")
        fragment = client.get(url, headers=HTMX)
        body = fragment.get_data(as_text=True)
        if fragment.status_code != 200 or is_page(body) or not body.strip():
            wrong.append(f"htmx GET {url} ({endpoint}): {fragment.status_code}, not a fragment")
        if "HX-Request" not in plain.headers.get("Vary", "") and plain.history == []:
            wrong.append(f"{url}: the response varies on HX-Request but does not say so (Vary)")
    assert not wrong, "\n".join(wrong)


@pytest.mark.browser  # the same seeded ERP and sandbox as above
def test_every_page_renders_for_a_host_that_turned_csrf_off(world: World):
    """WTF_CSRF_ENABLED = False (many hosts set it in their own tests): our forms then have no token field,
    and every page must still render, without an empty token input, whole and as fragments."""
    client = current_app.test_client()
    urls = sample_urls(world)
    current_app.config["WTF_CSRF_ENABLED"] = False
    try:
        wrong = []
        for endpoint, url in urls.items():
            for headers in ({}, HTMX):
                answer = client.get(url, headers=headers, follow_redirects=not headers)
                body = answer.get_data(as_text=True)
                if answer.status_code != 200 or 'name="csrf_token"' in body:
                    wrong.append(f"GET {url} ({endpoint}, {'htmx' if headers else 'plain'}): {answer.status_code}")
        assert not wrong, "\n".join(wrong)
    finally:
        current_app.config["WTF_CSRF_ENABLED"] = True
    # And with it on, the forms carry their token again (the company page has several forms).
    assert client.get(urls["maventa.company"]).get_data(as_text=True).count('name="csrf_token"') >= 2
