"""``python -m flask_maventa.sandbox --port N --vendor-api-key KEY [--knob value ...]``

Every knob of ``knobs.Knobs`` is a flag of the same name (``--duplicate-uuid conflict``); list knobs
repeat (``--fault-path 'POST /v1/invoices' --fault-path /v1/lookup``); ``--no-check-responses``.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

# This process is the sandbox alone, and its request checks (Draft 4, spec.py) use no format checker. Left
# alone, jsonschema imports the optional IRI format checker (rfc3987-syntax, which bravado-core's
# jsonschema[format-nongpl] installs) and that compiles ~35 Earley parsers at import: ~5 s of CPU at every
# sandbox start (python-jsonschema/jsonschema#1428). A None entry makes that optional import fail, as if
# the package were not installed. Never done where the sandbox is imported into someone else's process.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from .knobs import Knobs  # noqa: E402 - after the line above
from .server import SandboxServer  # noqa: E402

# Shorter or older spellings kept working.
ALIASES = {"latency_ms": ["--latency"], "fault_paths": ["--fault-path"], "refused_scopes": ["--refused-scope"]}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flask_maventa.sandbox",
                                     description="A Maventa AutoXChange look-alike for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--vendor-api-key", required=True, help="the only vendor key the sandbox accepts")
    defaults = Knobs()
    for knob in dataclasses.fields(Knobs):
        name, default = knob.name, getattr(defaults, knob.name)
        flags = ["--" + name.replace("_", "-"), *ALIASES.get(name, [])]
        if isinstance(default, bool):  # a flag that turns the default around
            flag = ("--no-" if default else "--") + name.replace("_", "-")
            parser.add_argument(flag, dest=name, action="store_const", const=not default,
                                help=f"turn {name} {'off' if default else 'on'}")
        elif isinstance(default, list):
            parser.add_argument(*flags, dest=name, action="append", help="repeatable")
        elif name in Knobs.CHOICES:
            parser.add_argument(*flags, dest=name, choices=Knobs.CHOICES[name], help=f"default {default}")
        else:
            kind = Knobs.OPTIONAL.get(name) or type(default)
            parser.add_argument(*flags, dest=name, type=kind, help=f"default {default}")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = vars(_parser().parse_args(argv))
    host, port, key = args.pop("host"), args.pop("port"), args.pop("vendor_api_key")
    knobs = {name: value for name, value in args.items() if value is not None}
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = SandboxServer(vendor_api_key=key, port=port, host=host, **knobs)
    print(f"Maventa sandbox on {server.url} (knobs: {server.sandbox.knobs.as_dict()})", flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
