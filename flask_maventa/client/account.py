"""The calls about a company's own account at Maventa: its credentials, its users, the signing request
(authorization), its settings and its webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast
from urllib.parse import quote

from .answers import (
    CompanyAuthorization,
    CompanyAuthorizationStatus,
    CompanySettings,
    JSONValue,
    NewCompanyUser,
    Notification,
    OAuthCurrent,
)
from .arguments import array, choice, json_object, require, without_nulls
from .token_client import TokenClient

SIGNING_LOCALES = ("FI", "NO", "SE", "EN", "NL", "BE")
WEBHOOK_EVENTS = ("DOCUMENTS.INVOICE.DELIVERED", "DOCUMENTS.INVOICE.FAILED")
# patchV1CompanySettings' "required": a PATCH carries these blocks whatever it changes.
REQUIRED_SETTINGS_BLOCKS = ("details", "address", "invoice_notifications")


class AccountCalls(TokenClient):
    """The company, its account and its webhooks (a part of :class:`~.api.CompanyClient`)."""

    # -- the company and its account ------------------------------------------------------------

    def check_credentials(self) -> OAuthCurrent:
        """Fetch a token and read the company: raises InvalidCredentialsError on a bad UUID/key pair."""
        return self.current()

    def current(self) -> OAuthCurrent:
        return cast(OAuthCurrent, self._json(self._call("GET", "/oauth2/current")))

    def add_company_user(self, email: str, first_name: str,
                         last_name: str | None = None) -> tuple[bool, str | None]:
        """Add a person to the company: (True, api_key) for a new account, (False, None) for an existing one."""
        body = {"email": require(email, "email"), "first_name": require(first_name, "first_name")}
        if last_name:
            body["last_name"] = last_name
        response = self._call("POST", "/v1/company/users", json=body)
        answer = cast(NewCompanyUser, self._json(response))
        if response.status_code == 201:
            return True, answer.get("api_key")
        return False, None

    def send_authorization(self, auth_email: str, locale: str) -> CompanyAuthorization:
        """Ask Maventa to send the signing invitation (Visma Sign) to ``auth_email``."""
        body = {"auth_email": require(auth_email, "auth_email"),
                "locale": choice(locale, SIGNING_LOCALES, "locale")}
        return cast(CompanyAuthorization, self._json(self._call("POST", "/v1/company/authorization", json=body)))

    def authorization(self) -> CompanyAuthorizationStatus:
        """``{"auth_state", "auth_email", "company_state"}``: poll until company_state is VERIFIED."""
        return cast(CompanyAuthorizationStatus, self._json(self._call("GET", "/v1/company/authorization")))

    def get_settings(self, fields: Sequence[str] | None = None) -> CompanySettings:
        params = array("fields", fields or ())
        return cast(CompanySettings, self._json(self._call("GET", "/v1/company/settings", params=params)))

    def update_settings(self, changes: CompanySettings) -> None:
        """Change some settings blocks, e.g. ``{"send_invoice_print": {"use_own_pdf": True}}``.

        The swagger requires ``details``, ``address`` and ``invoice_notifications`` in every PATCH:
        the ones not being changed are read first and sent back as Maventa has them.
        """
        if not isinstance(changes, dict) or not changes:
            raise ValueError("update_settings needs a dict of settings blocks to change")
        unchanged = [block for block in REQUIRED_SETTINGS_BLOCKS if block not in changes]
        body: dict[str, JSONValue] = {}
        if unchanged:
            current: dict[str, JSONValue] = json_object(self.get_settings(unchanged))
            for block in unchanged:
                value = current.get(block)
                body[block] = without_nulls(value) if isinstance(value, dict) else {}
        body.update(json_object(changes))
        self.patch_settings(cast(CompanySettings, body))

    def patch_settings(self, blocks: CompanySettings) -> None:
        """``PATCH /v1/company/settings`` as given: it must hold every required block (see update_settings)."""
        if not isinstance(blocks, dict) or not blocks:
            raise ValueError("patch_settings needs a dict of settings blocks")
        missing = [block for block in REQUIRED_SETTINGS_BLOCKS if block not in blocks]
        if missing:
            raise ValueError(f"a settings PATCH must carry {', '.join(missing)} too; use update_settings()")
        self._call("PATCH", "/v1/company/settings", json=blocks)
    # -- webhooks --------------------------------------------------------------------------------

    def register_webhook(self, url: str, events: Sequence[str] = WEBHOOK_EVENTS) -> Notification:
        if not str(url).startswith(("http://", "https://")):
            raise ValueError("webhook url must be an absolute http(s) URL")
        body = {"destination_type": "WEBHOOK", "destination": url, "events": list(events)}
        return cast(Notification, self._json(self._call("POST", "/v1/company/notifications", json=body)))

    def list_webhooks(self) -> list[Notification]:
        return cast("list[Notification]", self._json(self._call("GET", "/v1/company/notifications")))

    def delete_webhook(self, id: str) -> None:
        self._call("DELETE", f"/v1/company/notifications/{quote(require(id, 'id'), safe='')}")
