"""The sandbox as a host's tests see it: a running sandbox Maventa over real HTTP, and helpers over its
``/_sandbox`` hooks (sign a company, deliver or fail an invoice, seed the receiver registry...).

The pytest plugin (:mod:`flask_maventa.testing.pytest_plugin`) gives one to every test as
``maventa_sandbox``. Needs the ``testing`` extra (the sandbox checks requests with jsonschema). Outside
pytest::

    with SandboxServer(vendor_api_key="k") as server:
        sandbox = SandboxHandle(server)
        app.config.update(sandbox.app_config())
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from ..client.http import tls_context
from ..sandbox import SandboxServer
from ..sandbox.bodies import JSONValue

__all__ = ["SandboxHandle", "wait_for"]

_T = TypeVar("_T")
_numbers = itertools.count(1)


def wait_for(predicate: Callable[[], _T], timeout: float = 5.0) -> _T:
    """Poll until ``predicate()`` is truthy (the sandbox moves invoices on its own clock); return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not reached within {timeout} s")


class SandboxHandle:
    """A running sandbox's URL and vendor key, and helpers over ``/_sandbox``."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.url = server.url
        self.vendor_api_key = server.vendor_api_key
        self.http = httpx.Client(base_url=server.url, timeout=10, verify=tls_context())

    def app_config(self) -> dict[str, str]:
        """The config that points flask-maventa at this sandbox: ``app.config.update(sandbox.app_config())``."""
        return {"MAVENTA_ENVIRONMENT": "sandbox", "MAVENTA_SANDBOX_URL": self.url,
                "MAVENTA_VENDOR_API_KEY": self.vendor_api_key}

    def _control(self, method: str, path: str, *, json: JSONValue = None) -> JSONValue:
        response = self.http.request(method, "/_sandbox" + path, json=json)
        response.raise_for_status()
        answer: JSONValue = response.json()
        return answer

    def _object(self, method: str, path: str, *, json: JSONValue = None) -> dict[str, JSONValue]:
        answer = self._control(method, path, json=json)
        if not isinstance(answer, dict):
            raise AssertionError(f"/_sandbox{path} answered {answer!r}, not an object")
        return answer

    def reset(self) -> None:
        """Forget every user, company, invoice and webhook; back to the start-up knobs."""
        self._control("POST", "/reset")

    def config(self, **knobs: JSONValue) -> dict[str, JSONValue]:
        """Change knobs (README, "The sandbox"); returns them all."""
        return self._object("POST", "/config", json=knobs)

    def sign(self, company_uuid: str) -> dict[str, JSONValue]:
        """The signer signs the company's signing request."""
        return self._object("POST", f"/companies/{company_uuid}/sign")

    def cancel(self, company_uuid: str) -> dict[str, JSONValue]:
        """The signer declines."""
        return self._object("POST", f"/companies/{company_uuid}/cancel")

    def company(self, company_uuid: str) -> dict[str, JSONValue]:
        return self._object("GET", f"/companies/{company_uuid}")

    def invoices(self) -> dict[str, JSONValue]:
        """Every invoice received, and the uploads per uuid and per number."""
        return self._object("GET", "/invoices")

    def deliver(self, invoice_id: str) -> dict[str, JSONValue]:
        return self._object("POST", f"/invoices/{invoice_id}/deliver")

    def fail(self, invoice_id: str, message: str | None = None) -> dict[str, JSONValue]:
        return self._object("POST", f"/invoices/{invoice_id}/fail", json={"message": message} if message else {})

    def seed_receivers(self, *entries: dict[str, JSONValue]) -> dict[str, JSONValue]:
        """Add receivers to the registry: ``{"eia": "0192:987654321", "name": ..., "bid": ..., "country": ...}``."""
        return self._object("POST", "/receivers", json=list(entries))

    def webhooks(self) -> list[JSONValue]:
        answer = self._control("GET", "/webhooks")
        if not isinstance(answer, list):
            raise AssertionError(f"/_sandbox/webhooks answered {answer!r}, not a list")
        return answer

    def revoke_tokens(self) -> dict[str, JSONValue]:
        """Make every issued token invalid, as if Maventa revoked them early."""
        return self._object("POST", "/tokens/revoke")

    def stats(self) -> dict[str, JSONValue]:
        return self._object("GET", "/stats")

    def new_company(self, *, verified: bool = False, email: str | None = None, bid: str | None = None,
                    country: str = "FI") -> tuple[str, str]:
        """Register a user and a company with plain HTTP (not our client); returns (company uuid, api key)."""
        n = next(_numbers)
        email = email or f"owner{n}@example.test"
        user = self.http.post("/v1/users", json={"vendor_api_key": self.vendor_api_key, "email": email,
                                                 "first_name": "Owner", "last_name": str(n)})
        user.raise_for_status()
        api_key = str(user.json()["user_api_key"])
        fields = {"vendor_api_key": self.vendor_api_key, "user_api_key": api_key, "name": f"Company {n} Oy",
                  "bid": bid or f"FI{10000000 + n}", "no_vat": "false", "address1": "Street 1",
                  "post_code": "00100", "post_office": "Helsinki", "city": "Helsinki", "country": country,
                  "email": email}
        company = self.http.post("/v1/companies", files=[(k, (None, v)) for k, v in fields.items()])
        company.raise_for_status()
        company_uuid = str(company.json()["id"])
        if verified:
            self.sign(company_uuid)
        return company_uuid, api_key

    def close(self) -> None:
        self.http.close()
