"""A Maventa look-alike: the endpoints flask-maventa uses, checked against Maventa's own swagger.

    python -m flask_maventa.sandbox --port 8099 --vendor-api-key KEY

or in-process: ``create_app(vendor_api_key, **knobs)`` (a Flask app) and ``SandboxServer`` (served on
loopback in a thread). Test hooks live under ``/_sandbox/`` (reset, config, sign a company, list and
force invoices, seed receivers, webhook log, stats). See ``knobs.Knobs`` for what can be tuned.
"""
from .app import create_app, sandbox_of
from .knobs import Knobs
from .server import SandboxServer

__all__ = ["Knobs", "SandboxServer", "create_app", "sandbox_of"]
