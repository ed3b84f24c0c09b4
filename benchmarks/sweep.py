"""One sweep of N due invoices, on SQLite and PostgreSQL, with a small and a large host invoice table.

    .venv/bin/python benchmarks/sweep.py [--due 1000] [--small 10000] [--large 100000]

The sweep (``transfer.sweep()``, what the scheduler runs every MAVENTA_SWEEP_INTERVAL) creates the
transfer rows and their events and wakes the workers through Redis (none runs here). Printed per
database: seconds and CPU for the small and the large table, and their ratio (the sweep must not grow
with the host's table: it asks the host for the due ids only). Target: <= 1 s for 1,000 due on PostgreSQL.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Stack, add_invoices, connect


def measure(stack: Stack, app, due: int) -> dict:
    import sqlalchemy as sa

    from flask_maventa.infra.models import Event, Transfer
    from flask_maventa.services import transfer

    with app.app_context():
        session = app.extensions["maventa"].session
        session.execute(sa.delete(Event))
        session.execute(sa.delete(Transfer))
        session.commit()
        app.extensions["maventa"].redis().flushdb()
        started, cpu = time.perf_counter(), time.process_time()
        result = transfer.sweep()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert len(result.created) == due, (len(result.created), result)
    return {"seconds": round(seconds, 3), "cpu_ms": round(cpu * 1000, 1), "created": len(result.created),
            "send_jobs": result.dispatched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--small", type=int, default=10_000, help="other invoices in the host table")
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    out = {"benchmark": "sweep", "due": args.due}
    for database in args.database or ["sqlite", "postgresql"]:
        stack = Stack(database=database)
        try:
            app = stack.app()
            connect(app, stack, "c1", 1)
            add_invoices(app, "c1", args.due, prefix="D", status="ready", pdf=None)
            add_invoices(app, "c1", args.small, prefix="X", status="transferred", pdf=None)
            measure(stack, app, args.due)  # warm: compiled statements, connections
            small = measure(stack, app, args.due)
            add_invoices(app, "c1", args.large - args.small, prefix="X", status="transferred", pdf=None,
                         start=args.small)
            large = measure(stack, app, args.due)
        finally:
            stack.close()
        out[database] = {f"host_table_{args.small + args.due}": small, f"host_table_{args.large + args.due}": large,
                         "large_over_small": round(large["seconds"] / small["seconds"], 2),
                         "target_at_most_1s": small["seconds"] <= 1.0 and large["seconds"] <= 1.0}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
