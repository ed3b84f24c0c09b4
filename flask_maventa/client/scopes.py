"""Which OAuth scopes the client asks for, and why: one place, copied from the swagger's per-operation
``security`` (``tests/client/test_scopes.py`` checks every entry against the swagger, and that every
request the client sends is listed here).

A company token asks for exactly the scopes its operations name, literally: ``global`` for
``/oauth2/current``, ``company:read``/``company:write`` for settings, signing, users and webhooks,
``invoice:send`` for invoices and ``lookup`` for the receiver registry. Named literally, they work
whether Maventa expands aliases (``eui``, ``global``, ``company``) or compares names as given.
``partner:lookups`` is a partner-only scope: only the partner client asks for it, so a Maventa that
refuses it to a customer company can never break that company's token.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "ALIASES",
    "COMPANY_OPERATIONS",
    "COMPANY_SCOPE",
    "PARTNER_OPERATIONS",
    "PARTNER_SCOPE",
    "UNAUTHENTICATED_OPERATIONS",
    "covers",
    "expand",
    "required_for",
    "scope_for",
    "uncovered",
]

# (method, path template) -> the scopes the swagger lists for it; any one of them grants access.
COMPANY_OPERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/oauth2/current"): ("global",),
    ("POST", "/v1/company/users"): ("company:write",),
    ("POST", "/v1/company/authorization"): ("company:write",),
    ("GET", "/v1/company/authorization"): ("company:read",),
    ("GET", "/v1/company/settings"): ("company:read",),
    ("PATCH", "/v1/company/settings"): ("company:write",),
    ("POST", "/v1/invoices"): ("invoice:send",),
    ("GET", "/v1/invoices"): ("invoice:send", "invoice:receive"),
    ("GET", "/v1/invoices/{id}"): ("invoice:send", "invoice:receive"),
    ("GET", "/v1/invoices/{id}/actions"): ("invoice:send", "invoice:receive"),
    ("GET", "/v1/lookup/receivers"): ("lookup",),
    ("POST", "/v1/company/notifications"): ("company:write",),
    ("GET", "/v1/company/notifications"): ("company:read",),
    ("DELETE", "/v1/company/notifications/{id}"): ("company:write",),
}
PARTNER_OPERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/v1/partner/lookups/companies"): ("partner:lookups",),
}
UNAUTHENTICATED_OPERATIONS = frozenset({("POST", "/oauth2/token"), ("POST", "/v1/users"), ("POST", "/v1/companies")})

# The swagger's company_auth aliases (securityDefinitions).
ALIASES: dict[str, frozenset[str]] = {
    "eui": frozenset({"eui:open", "company:read", "company:write", "lookup", "receivables:assignments",
                      "document:send", "document:receive", "invoice:receive", "invoice:send", "analysis"}),
    "global": frozenset({"company:read", "document:receive", "document:send", "lookup"}),
    "company": frozenset({"company:read", "company:write"}),
}


def scope_for(operations: Mapping[tuple[str, str], tuple[str, ...]]) -> str:
    """The scope string that names, literally, one granting scope of every operation (the first the
    swagger lists: ``invoice:send`` before ``invoice:receive``)."""
    return " ".join(sorted({scopes[0] for scopes in operations.values()}))


COMPANY_SCOPE = scope_for(COMPANY_OPERATIONS)  # "company:read company:write global invoice:send lookup"
PARTNER_SCOPE = scope_for(PARTNER_OPERATIONS)  # "partner:lookups"


def expand(scopes: str | Iterable[str]) -> set[str]:
    """The scopes with every alias also standing for its components."""
    names = scopes.split() if isinstance(scopes, str) else list(scopes)
    out: set[str] = set()
    for name in names:
        out |= {name} | ALIASES.get(name, frozenset())
    return out


def covers(granted: str | Iterable[str], required: Iterable[str]) -> bool:
    """Does a token holding ``granted`` pass an operation that needs any one of ``required``?
    An alias is held when all its components are (``eui`` holds ``global``)."""
    held = expand(granted)
    return any(scope in held or (scope in ALIASES and ALIASES[scope] <= held) for scope in required)


_PATTERNS = [(method, template, re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"))
             for method, template in [*COMPANY_OPERATIONS, *PARTNER_OPERATIONS]]


def required_for(method: str, path: str) -> tuple[str, ...] | None:
    """The scopes the swagger lists for a request the client sends (None: not a token operation)."""
    for op_method, template, pattern in _PATTERNS:
        if op_method == method.upper() and pattern.match(path):
            return {**COMPANY_OPERATIONS, **PARTNER_OPERATIONS}[(op_method, template)]
    return None


def uncovered(scope: str, operations: Mapping[tuple[str, str], tuple[str, ...]] = COMPANY_OPERATIONS) -> list[str]:
    """``METHOD template`` of every operation a token with ``scope`` could not call."""
    return [f"{method} {template}" for (method, template), needed in operations.items() if not covers(scope, needed)]
