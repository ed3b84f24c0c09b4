"""``python -m flask_maventa.sandbox --port N --vendor-api-key KEY [knobs]``"""
from __future__ import annotations

import argparse
import logging

from .knobs import Knobs
from .server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flask_maventa.sandbox",
                                     description="A Maventa AutoXChange look-alike for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--vendor-api-key", required=True, help="the only vendor key the sandbox accepts")
    parser.add_argument("--token-lifetime", type=float, help="seconds a token lives (default 3600)")
    parser.add_argument("--delivery-delay", type=float, help="seconds from PENDING to DELIVERED/FAILED")
    parser.add_argument("--sign-delay", type=float, help="seconds until a sent signing request is signed")
    parser.add_argument("--duplicate-uuid", choices=Knobs.CHOICES["duplicate_uuid"])
    parser.add_argument("--unverified-status", type=int, help="status for an unverified company (401)")
    parser.add_argument("--latency", dest="latency_ms", type=float, help="milliseconds added per request")
    parser.add_argument("--error-rate", type=float, help="share of requests answered 500")
    parser.add_argument("--drop-rate", type=float, help="share processed, then hung up on")
    parser.add_argument("--reset-rate", type=float, help="share hung up on before processing")
    parser.add_argument("--fault-path", dest="fault_paths", action="append",
                        help="limit faults to e.g. 'POST /v1/invoices' (repeatable)")
    parser.add_argument("--rate-limit", type=float, help="requests per second per client, then 429")
    parser.add_argument("--seed", type=int, help="RNG seed for failure injection")
    parser.add_argument("--webhook-retries", type=int)
    parser.add_argument("--webhook-retry-delay", type=float)
    parser.add_argument("--no-check-responses", dest="check_responses", action="store_const", const=False)
    args = vars(parser.parse_args(argv))
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
