"""A fake login: the demo's current user is an administrator of every company.

``EXAMPLE_RESTRICTED_COMPANIES`` (company ids, comma-separated) lists companies this user
may not manage, to show the extension's 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class User:
    name: str
    email: str
    restricted: frozenset[str]

    def may_manage(self, company_id: str) -> bool:
        return str(company_id) not in self.restricted


def current_user() -> User:
    restricted = current_app.config.get("EXAMPLE_RESTRICTED_COMPANIES") or ""
    if isinstance(restricted, str):
        restricted = [part for part in restricted.split(",")]
    return User(
        name="Kari Nordmann",
        email="kari.nordmann@fjordline.example",
        restricted=frozenset(str(part).strip() for part in restricted if str(part).strip()),
    )
