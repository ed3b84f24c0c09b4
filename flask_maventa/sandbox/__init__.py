"""A Maventa look-alike: the endpoints flask-maventa uses, checked against Maventa's own swagger.

    python -m flask_maventa.sandbox --port 8099 --vendor-api-key KEY

or in-process: ``create_app(vendor_api_key, **knobs)`` (a Flask app) and ``SandboxServer`` (served on
loopback in a thread). Test hooks live under ``/_sandbox/`` (reset, config, sign a company, list and
force invoices, seed receivers, webhook log, stats). See ``knobs.Knobs`` for what can be tuned.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app, sandbox_of
    from .knobs import Knobs
    from .server import SandboxServer

__all__ = ["Knobs", "SandboxServer", "create_app", "sandbox_of"]
_HOMES = {"create_app": ".app", "sandbox_of": ".app", "Knobs": ".knobs", "SandboxServer": ".server"}


def __getattr__(name: str) -> Any:
    """Imported on first use, so ``python -m flask_maventa.sandbox`` runs ``__main__`` before the app
    (and jsonschema) is imported: ``__main__`` decides how this process imports it."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
