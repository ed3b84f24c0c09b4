"""Client-credentials authentication for Maventa's AutoXChange API, as an ``httpx.Auth``.

``client_id`` is the company UUID, ``client_secret`` a user API key of that company and
``vendor_api_key`` identifies us (the ERP) to Maventa. The token is cached in a ``TokenStore``,
refreshed ``refresh_margin`` seconds before it expires, and fetched once more when Maventa answers
401 to a cached token (it may have been revoked early). A 401 to a token fetched for this very request
is returned as is: re-authenticating will not help (Maventa's own advice).

The token request is yielded from ``auth_flow``, so it goes through the same ``httpx.Client``
(connection pool, transport, test mocks) as every other request. When the token endpoint refuses,
the flow stops and its response becomes the final response; the API layer maps it to an error.
"""
from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from .scopes import COMPANY_SCOPE
from .tokens import MemoryTokenStore, Token, TokenStore, token_key

__all__ = ["DEFAULT_SCOPE", "FRESH_TOKEN", "GRANTED_SCOPE", "TOKEN_PATH", "MaventaAuth"]

# Exactly the scopes a company's operations need (see scopes.py); partner scopes are never asked here.
DEFAULT_SCOPE = COMPANY_SCOPE
TOKEN_PATH = "/oauth2/token"
# Response extensions: was the final response made with a token that had just been fetched, and
# which scopes Maventa said it granted to that token (None when its token answer did not say).
FRESH_TOKEN = "maventa_fresh_token"
GRANTED_SCOPE = "maventa_granted_scope"


class MaventaAuth(httpx.Auth):
    requires_request_body = True   # a request refused with 401 is sent again, body included
    requires_response_body = True  # the token response is parsed inside the flow

    def __init__(self, *, base_url: str, company_uuid: str, user_api_key: str, vendor_api_key: str,
                 scope: str = DEFAULT_SCOPE, token_store: TokenStore | None = None,
                 refresh_margin: float = 60.0) -> None:
        self.token_url = base_url.rstrip("/") + TOKEN_PATH
        self.company_uuid = company_uuid
        self._user_api_key = user_api_key
        self._vendor_api_key = vendor_api_key
        self.scope = scope
        self.token_store = token_store if token_store is not None else MemoryTokenStore()
        self.refresh_margin = refresh_margin
        self.key = token_key(base_url, company_uuid, user_api_key, scope)

    def __repr__(self) -> str:
        return f"MaventaAuth(company_uuid={self.company_uuid!r}, scope={self.scope!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token_store.get(self.key)
        fetched = False
        if token is None or not token.fresh():
            with self.token_store.lock(self.key):
                token = self.token_store.get(self.key)  # another worker may have fetched meanwhile
                if token is None or not token.fresh():
                    token = yield from self._fetch(request)
                    if token is None:
                        return
                    fetched = True

        response = yield self._authorized(request, token)
        if response.status_code != 401 or fetched:
            response.extensions[FRESH_TOKEN] = fetched
            response.extensions[GRANTED_SCOPE] = token.scope
            return

        refused = token
        with self.token_store.lock(self.key):
            token = self.token_store.get(self.key)
            if token is None or token.access_token == refused.access_token:
                self.token_store.delete(self.key)
                token = yield from self._fetch(request)
                if token is None:
                    return
        response = yield self._authorized(request, token)
        response.extensions[FRESH_TOKEN] = True
        response.extensions[GRANTED_SCOPE] = token.scope

    def _authorized(self, request: httpx.Request, token: Token) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        return request

    def _fetch(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, Token | None]:
        # Built here, not by the client: it takes the client's headers (User-Agent, Accept) from the request.
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("user-agent", "accept")}
        response = yield httpx.Request("POST", self.token_url, headers=headers, data={
            "grant_type": "client_credentials",
            "client_id": self.company_uuid,
            "client_secret": self._user_api_key,
            "vendor_api_key": self._vendor_api_key,
            "scope": self.scope,
        })
        token = self._parse(response)
        if token is not None:
            self.token_store.set(self.key, token)
        return token

    def _parse(self, response: httpx.Response) -> Token | None:
        if response.status_code != 200:
            return None
        try:
            body = response.json()
            access_token = body["access_token"]
            expires_in = float(body["expires_in"])
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(access_token, str) or not access_token or expires_in <= 0:
            return None
        now = time.time()
        # Short-lived tokens (tests, sandbox) would otherwise be "stale" the moment they arrive.
        lifetime = max(expires_in - self.refresh_margin, expires_in / 2)
        granted = body.get("scope")
        return Token(access_token=access_token, expires_at=now + expires_in, refresh_at=now + lifetime,
                     scope=granted if isinstance(granted, str) else None)
