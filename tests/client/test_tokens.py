"""Token caching: one token serves many requests, expiry and a 401 each cause exactly one new token."""
import types

import httpx
import pytest

from flask_maventa.client import ConnectError, MemoryTokenStore, RedisTokenStore, Token, UnauthorizedError
from flask_maventa.client import auth as auth_module
from flask_maventa.client import tokens as tokens_module
from flask_maventa.client.tokens import token_key

from .fakes import API_KEY, BASE, COMPANY, calls_to, client_for, maventa_router, token_body


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    fake = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(tokens_module, "time", fake)
    monkeypatch.setattr(auth_module, "time", fake)
    return now


def test_one_token_call_serves_many_requests_and_companies_share_the_store():
    router = maventa_router()
    store = MemoryTokenStore()
    client = client_for(router, token_store=store)
    for _ in range(5):
        client.for_company(COMPANY, API_KEY).current()  # a new CompanyClient each time, like one per job
    assert calls_to(router, "/oauth2/token") == 1
    assert calls_to(router, "/oauth2/current") == 5
    client.for_company("another-company", "another-key").current()
    assert calls_to(router, "/oauth2/token") == 2


def test_token_is_refreshed_before_it_expires(clock):
    router = maventa_router()
    company = client_for(router, refresh_margin=60).for_company(COMPANY, API_KEY)
    company.current()
    clock[0] += 3600 - 61
    company.current()
    assert calls_to(router, "/oauth2/token") == 1
    clock[0] += 2  # inside the refresh margin: fetch a new one before Maventa refuses the old
    company.current()
    assert calls_to(router, "/oauth2/token") == 2


def test_short_lived_tokens_are_still_reused(clock):
    router = maventa_router()
    router.routes["token"].respond(200, json=token_body(expires_in=30))
    company = client_for(router, refresh_margin=60).for_company(COMPANY, API_KEY)
    company.current()
    clock[0] += 10
    company.current()
    assert calls_to(router, "/oauth2/token") == 1
    clock[0] += 10
    company.current()
    assert calls_to(router, "/oauth2/token") == 2


def test_a_401_to_a_cached_token_fetches_one_new_token_and_retries():
    router = maventa_router()
    router.routes["token"].side_effect = [httpx.Response(200, json=token_body("old-token")),
                                          httpx.Response(200, json=token_body("new-token"))]
    seen = []  # the flow resends the same Request object, so record headers as they were sent

    def current(request):
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer old-token":
            return httpx.Response(401, json={"code": "auth_unauthorized", "message": "Unauthorized", "details": []})
        return httpx.Response(200, json={"user": {"id": "u"}, "company": {"id": COMPANY}})

    router.get("/oauth2/current").mock(side_effect=current)
    store = MemoryTokenStore()
    client = client_for(router, token_store=store)
    client.for_company(COMPANY, API_KEY).authorization()  # caches old-token
    assert client.for_company(COMPANY, API_KEY).current()["company"]["id"] == COMPANY
    assert calls_to(router, "/oauth2/token") == 2
    assert seen == ["Bearer old-token", "Bearer new-token"]
    assert store.get(token_key(BASE, COMPANY, API_KEY, client.scope)).access_token == "new-token"


def test_a_401_that_persists_fetches_only_once_more():
    router = maventa_router()
    router.get("/v1/company/settings").respond(
        401, json={"code": "auth_unauthorized", "message": "Unauthorized", "details": []})
    company = client_for(router).for_company(COMPANY, API_KEY)
    company.current()
    with pytest.raises(UnauthorizedError):
        company.get_settings()
    assert calls_to(router, "/oauth2/token") == 2
    assert calls_to(router, "/v1/company/settings") == 2


def test_token_store_keys_hide_the_api_key_and_reprs_hide_the_token():
    key = token_key(BASE, COMPANY, API_KEY, "global")
    assert API_KEY not in key and COMPANY not in key
    assert key != token_key(BASE, COMPANY, API_KEY + "x", "global")
    token = Token("secret-token-value", 2e9, 2e9)
    assert "secret-token-value" not in repr(token)


def test_redis_token_store_shares_tokens_and_never_stores_the_api_key(redis_url):
    import redis
    connection = redis.Redis.from_url(redis_url)
    router = maventa_router()
    first = client_for(router, token_store=RedisTokenStore(connection))
    second = client_for(router, token_store=RedisTokenStore(connection))  # another process, in effect
    first.for_company(COMPANY, API_KEY).current()
    second.for_company(COMPANY, API_KEY).current()
    assert calls_to(router, "/oauth2/token") == 1
    keys = connection.keys("maventa:token:*")
    assert keys
    dump = b" ".join(keys + [connection.get(k) or b"" for k in keys])
    assert API_KEY.encode() not in dump and COMPANY.encode() not in dump


def test_a_failed_token_fetch_releases_the_lock_for_the_next_call():
    router = maventa_router()
    router.routes["token"].side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, json=token_body())]
    company = client_for(router).for_company(COMPANY, API_KEY)
    with pytest.raises(ConnectError):  # a token fetch that failed was never sent
        company.current()
    assert company.current()["company"]["id"] == COMPANY  # would hang on a lock still held
    assert calls_to(router, "/oauth2/token") == 2
