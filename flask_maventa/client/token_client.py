"""The base of the clients that call with a company's token (:class:`~.api.CompanyClient`,
:class:`~.api.PartnerClient`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Unpack

import httpx

from .auth import MaventaAuth
from .http import Api, RequestOptions

if TYPE_CHECKING:
    from .api import MaventaClient


class TokenClient(Api):
    """Requests made with a company's token (``auth``)."""

    def __init__(self, client: MaventaClient, auth: MaventaAuth, user_api_key: str) -> None:
        self.client = client
        self.auth = auth
        self.company_uuid = auth.company_uuid
        self.base_url = client.base_url
        self.timeout = client.timeout
        self._user_api_key = user_api_key

    @property
    def _http(self) -> httpx.Client:
        return self.client._http

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, company_uuid={self.company_uuid!r})"

    def _secrets(self) -> tuple[str, ...]:
        return (*self.client._secrets(), self._user_api_key)

    def _call(self, method: str, path: str, *, unverified_possible: bool = False,
              params: Sequence[tuple[str, str]] | None = None, **kwargs: Unpack[RequestOptions]) -> httpx.Response:
        return self._send(method, path, auth=self.auth, unverified_possible=unverified_possible, params=params,
                          **kwargs)
