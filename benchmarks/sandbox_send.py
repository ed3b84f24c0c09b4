"""Invoices per second through MaventaClient -> sandbox over loopback, printed as JSON.

    .venv/bin/python benchmarks/sandbox_send.py [--invoices 300] [--threads 4]

Measures the client and the sandbox together (HTTP/1.1 keep-alive, multipart upload, token cached),
not Maventa. Swagger checking of the sandbox's answers is switched off, request checking stays on.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_maventa.client import MaventaClient, MemoryTokenStore
from flask_maventa.sandbox import SandboxServer
from tests.fixtures.sandbox import SandboxHandle, ubl_invoice


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown the JSON
    with SandboxServer(vendor_api_key="bench-key", check_responses=False, delivery_delay=3600) as server:
        handle = SandboxHandle(server)
        company_uuid, api_key = handle.new_company(verified=True)
        client = MaventaClient(server.url, server.vendor_api_key, token_store=MemoryTokenStore())
        company = client.for_company(company_uuid, api_key)
        company.current()  # token fetched outside the measurement
        documents = [ubl_invoice(f"BENCH-{n}") for n in range(args.invoices)]

        def send(n: int) -> None:
            company.send_invoice(documents[n], "invoice.xml", uuid=str(uuid.uuid4()),
                                 recipient_eia="0192:987654321", recipient_operator="PEPPOL")

        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(send, range(args.invoices)))
        elapsed = time.perf_counter() - started
        received = handle.invoices()
        print(json.dumps({
            "benchmark": "sandbox_send", "invoices": args.invoices, "threads": args.threads,
            "seconds": round(elapsed, 3), "invoices_per_second": round(args.invoices / elapsed, 1),
            "stored": len(received["invoices"]), "token_requests": handle.stats()["token_requests"],
        }))


if __name__ == "__main__":
    main()
