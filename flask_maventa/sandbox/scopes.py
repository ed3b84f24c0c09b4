"""OAuth scopes as the sandbox grants and checks them, read from the swagger's ``company_auth``.

The aliases (``eui``, ``global``, ``company``) come from the scopes' own descriptions ("Alias for
company:read, ..."), so the sandbox and the swagger cannot drift apart. Two ways of checking an
operation's scope, chosen by the ``scope_aliases`` knob:

- ``expand`` (default): a token holds every scope it asked for plus their components, and it holds
  an alias when it holds all the alias's components (a token asked with ``eui`` passes ``global``);
- ``literal``: the operation's scope must have been asked by name (or be a component of one asked).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from .spec import load_spec

__all__ = ["aliases", "allowed", "expand", "known_scopes"]

DEFAULT_SCOPE = "global company"  # what Maventa grants when the token request names no scope


@functools.lru_cache(maxsize=1)
def _company_auth() -> dict[str, str]:
    return load_spec().document["securityDefinitions"]["company_auth"]["scopes"]


@functools.lru_cache(maxsize=1)
def aliases() -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for name, description in _company_auth().items():
        match = re.search(r"Alias for ([\w:, ]+)", description)
        if match:
            found[name] = frozenset(s.strip() for s in match.group(1).split(",") if s.strip())
    return found


def known_scopes() -> frozenset[str]:
    return frozenset(_company_auth())


def expand(scopes: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for scope in scopes:
        out |= {scope} | aliases().get(scope, frozenset())
    return out


def allowed(held: set[str], required: list[str], mode: str) -> bool:
    """Does a token holding ``held`` (already expanded) pass an operation needing any of ``required``?"""
    for scope in required:
        if scope in held:
            return True
        if mode == "expand" and scope in aliases() and aliases()[scope] <= held:
            return True
    return False
