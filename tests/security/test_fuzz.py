"""No request makes a 5xx: every route of the blueprint, fuzzed, on SQLite and on PostgreSQL.

Hypothesis builds requests from the url_map (so a new route is fuzzed too): hostile path values, query
strings and bodies (form fields with and without a valid CSRF token, JSON of any shape and depth, files
where text is expected, bytes that are no encoding at all), with and without htmx headers. The seed is
fixed, so CI runs the same requests every time; the app propagates exceptions, so a crash shows its
traceback rather than only a 500. The world is the hostile one of the markup test (see conftest).
"""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection
from flask_maventa.services.webhooks import new_webhook_secret

from .conftest import HTMX, PAYLOAD, build_world, csrf_token, hostile_app

EXAMPLES = 14  # per route and method, per database: ~350 requests, ~15 s each on the development machine

# Values that broke something once (or could): NUL for PostgreSQL, digits int() or a column cannot take,
# dates with no next day, format strings, markup, traversal, header injection, open redirects.
NASTY = [
    "\x00", "a\x00b", "%00", "i1\x00", "\u00b2", "\u0663", "9" * 26, "9" * 5000, "-1", "2147483648",
    "9999-12-31", "0001-01-01", "2026-02-30", "", "../../etc/passwd", "' OR 1=1 --", "\r\nX-Injected: 1",
    "/\t/evil.example/", PAYLOAD, "{value.x}",
]
nasty = st.sampled_from(NASTY) | st.text(max_size=30)
FIELDS = ["csrf_token", "ids", "company", "person", "api_key", "company_uuid", "approver", "email", "locale",
          "active", "use_own_pdf", "send_pdf", "send_customer_email", "error_emails", "transfer_status_id",
          "success_status_id", "failure_status_id", "state", "date_from", "date_to", "number", "saved", "notice"]
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | nasty,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty, inner, max_size=4),
                           max_leaves=12)
deep_json = st.integers(min_value=50, max_value=200_000).map(lambda n: "[" * n + "]" * n)


def _routes(app):
    found = [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("maventa.")
             and rule.endpoint != "maventa.static" for method in rule.methods - {"HEAD", "OPTIONS"}]
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))  # a stable order: the same requests each run


@st.composite
def requests(draw, rule, method, valid):
    """Mostly a request the route would accept, with one or two of its values hostile: so the hostile
    value gets past the checks of the others and reaches as deep as it can."""
    path_slots = [("path", name) for name in sorted(rule.arguments)]
    fields = draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True))
    if method == "POST" and "csrf_token" not in fields:  # a valid token (unless it is the hostile slot)
        fields.insert(0, "csrf_token")
    body = draw(st.sampled_from(["form"] * 4 + ["json", "deep", "file", "bytes", "none"])) if method == "POST" else None
    slots = path_slots + [("field", name) for name in fields]
    hostile = set(draw(st.lists(st.sampled_from(slots), min_size=1, max_size=2))) if slots else set()
    value = {slot: (draw(nasty) if slot in hostile else valid[slot[1]]) for slot in slots}
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: quote(str(value[("path", m.group(1))]), safe=""), rule.rule)
    pairs = [(name, value[("field", name)]) for name in fields]
    kwargs: dict = {}
    if body is None:
        path += "?" + urlencode(pairs) if pairs else ""
    elif body == "form":
        kwargs = {"data": urlencode(pairs), "content_type": "application/x-www-form-urlencoded"}
    elif body == "json":
        kwargs = {"data": json.dumps(draw(json_values)), "content_type": "application/json"}
    elif body == "deep":
        kwargs = {"data": draw(deep_json), "content_type": draw(st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded"]))}
    elif body == "file":  # a file where a text field is expected
        files = {name: (io.BytesIO(draw(st.binary(max_size=64))), "x.txt") for name in fields[:2]}
        kwargs = {"data": {**dict(pairs[2:]), **files}, "content_type": "multipart/form-data"}
    elif body == "bytes":
        kwargs = {"data": draw(st.binary(max_size=200)), "content_type": draw(st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]))}
    headers = {"Referer": draw(st.sampled_from(["", "http://evil.example/x", "/\t/evil.example/", PAYLOAD]))}
    if draw(st.booleans()):
        headers.update(HTMX)
        if draw(st.booleans()):
            headers["HX-Boosted"] = "true"
    return method, path, headers, kwargs


def _fuzz(app, sandbox):
    with app.app_context():
        world = build_world(sandbox)
        connection = current_maventa().session.get(Connection, world.connection_id)
        secret = new_webhook_secret(connection)
        current_maventa().session.commit()
    client = app.test_client()
    token = csrf_token(client, "/settings/integrations/maventa/companies/c1")
    valid = {"company_id": "c1", "connection_id": world.connection_id, "invoice_id": "i1", "secret": secret,
             "csrf_token": token, "ids": "1", "company": "c1", "person": "p1", "api_key": "user-api-key-123456",
             "company_uuid": world.other_uuid, "approver": "p1", "email": "kari@fjord.example", "locale": "FI",
             "active": "1", "use_own_pdf": "1", "send_pdf": "y", "send_customer_email": "y",
             "error_emails": "errors@fjord.example", "transfer_status_id": "ready",
             "success_status_id": "transferred", "failure_status_id": "failed", "state": "failed",
             "date_from": "2020-01-01", "date_to": "2030-12-31", "number": "N2", "saved": "1", "notice": "registered"}
    for rule, method in _routes(app):  # every route gets its share, whatever hypothesis would prefer

        @seed(20261130)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(requests(rule, method, valid))
        def no_5xx(request):
            method, url, headers, kwargs = request
            response = client.open(url, method=method, headers=headers, **kwargs)
            assert response.status_code < 500, (method, url, response.status_code)

        no_5xx()


def test_fuzz_every_route_on_sqlite(tmp_path, sandbox):
    _fuzz(hostile_app(tmp_path, sandbox), sandbox)


def test_fuzz_every_route_on_postgresql(tmp_path, sandbox, postgres_url):
    _fuzz(hostile_app(tmp_path, sandbox, database_url=postgres_url), sandbox)
