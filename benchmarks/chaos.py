"""The chaos run: many workers and two schedulers against one PostgreSQL and one Redis, while things break.

    .venv/bin/python benchmarks/chaos.py [--invoices 2000] [--workers 4] [--seed 7]

Set-up: PostgreSQL, a real redis-server without persistence, the sandbox Maventa (its own process)
failing invoice uploads -- 10 % answered 500, 5 % stored and then hung up on (accept-then-drop), 2 %
reset before being read -- and N invoices of 3 companies. K ``flask maventa worker`` processes and two
``flask maventa scheduler`` processes run, each with an environment of its own as separate hosts would.

During the run, as the invoices go out, the script
  1. SIGKILLs one worker's supervisor alone (its child is told to stop and finishes what it holds),
  2. SIGKILLs another worker together with its child (requests in flight are cut off),
  3. stops Redis for 5 s and starts it again empty (new invoices become due meanwhile),
  4. SIGKILLs a third worker's child alone (its supervisor starts a new one),
and restarts nothing itself. It waits until every invoice is delivered (or --timeout), then checks:
each invoice delivered exactly once (one invoice per number at Maventa, each uuid uploaded once), none
lost or stuck, the host's status right for each, the two schedulers never sweeping at the same time,
and the surviving workers and schedulers still running. It prints JSON counts and exits 1 on any
violation.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import BUYER_EIA, Stack, add_invoices, connect, log, tree, wait_for

COMPANIES = ("c1", "c1-bergen", "c2")
# Short enough for a run of minutes; the faults and the kills are what is tested, not the defaults.
CONFIG = {
    "MAVENTA_SEND_CONCURRENCY": 2,
    "MAVENTA_RETRY_SCHEDULE": [1, 2, 4, 8, 15, 30],
    "MAVENTA_POLL_SCHEDULE": [2, 4, 8],
    "MAVENTA_SWEEP_INTERVAL": 3,
    "MAVENTA_DISPATCH_INTERVAL": 1,
    "MAVENTA_HEARTBEAT_TIMEOUT": 10,
    "MAVENTA_HTTP_TIMEOUT": 15.0,
}
FAULTS = ["--error-rate", "0.10", "--drop-rate", "0.05", "--reset-rate", "0.02", "--fault-path", "POST /v1/invoices"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-N", "--invoices", type=int, default=2000)
    parser.add_argument("-K", "--workers", type=int, default=4, help="worker hosts (at least 4)")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="sandbox latency per request")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for everything to drain")
    args = parser.parse_args()
    if args.workers < 4:
        parser.error("the run kills three workers in three ways and needs one left untouched: --workers >= 4")
    stack = Stack(database="postgresql", latency_ms=args.latency_ms, sandbox_args=[*FAULTS, "--seed", str(args.seed)])
    try:
        report = run(stack, args)
        if report["violations"]:  # keep the processes' logs for whoever looks into it
            kept = Path(tempfile.mkdtemp(prefix="maventa-chaos-logs-"))
            for log_file in stack.tmp.glob("*.log"):
                shutil.copy(log_file, kept)
            report["logs"] = str(kept)
    finally:
        stack.close()
    print(json.dumps(report, indent=2))
    return 1 if report["violations"] else 0


def run(stack: Stack, args) -> dict:
    stack.config.update(CONFIG)
    app = stack.app()
    stack.sandbox_call("POST", "/_sandbox/receivers", json=[{"eia": BUYER_EIA, "operator": "PEPPOL"}])
    for n, company in enumerate(COMPANIES, start=1):
        connect(app, stack, company, n, send_pdf=True)
    waves = [args.invoices // 2, args.invoices // 4, args.invoices - args.invoices // 2 - args.invoices // 4]
    _due(app, waves[0], start=0)

    def host_env(name: str) -> dict:
        home = stack.tmp / name
        home.mkdir(exist_ok=True)
        return {**stack.env(), "HOME": str(home), "TMPDIR": str(home), "MAVENTA_CHAOS_HOST": name}

    workers = [stack.flask(f"worker-{i}", "worker", env=host_env(f"worker-{i}")) for i in range(args.workers)]
    schedulers = [stack.flask(f"scheduler-{i}", "scheduler", env=host_env(f"scheduler-{i}")) for i in range(2)]
    started = time.monotonic()
    faults: list[dict] = []

    def fault(name: str, **details) -> None:
        faults.append({"at_s": round(time.monotonic() - started, 1), "fault": name, **details})
        log(f"chaos: {name} {details}")

    def progress() -> float:
        return _count(app, "state IN ('accepted', 'delivered')") / args.invoices

    # 1. A worker's supervisor alone.
    wait_for(lambda: progress() >= 0.10, args.timeout, "10 % accepted")
    fault("sigkill_worker_supervisor", pid=workers[0].pid)
    os.kill(workers[0].pid, signal.SIGKILL)
    # 2. A worker and its child, in the middle of their requests.
    wait_for(lambda: progress() >= 0.20 and _sending(app), args.timeout, "20 % accepted, sends in flight")
    victims = tree(workers[1].pid)
    fault("sigkill_worker_and_child", pids=victims)
    for pid in victims:
        _kill(pid)
    # 3. Redis down for 5 s, restarted empty; invoices become due meanwhile.
    wait_for(lambda: progress() >= 0.30, args.timeout, "30 % accepted")
    fault("redis_stop")
    stack.redis.process.terminate()
    stack.redis.process.wait(10)
    _due(app, waves[1], start=waves[0])
    time.sleep(5)
    stack.redis.restart()
    fault("redis_start_empty")
    # 4. A worker's child alone, mid-request: its supervisor must start another.
    wait_for(lambda: progress() >= 0.45 and _sending(app), args.timeout, "45 % accepted, sends in flight")
    children = [pid for pid in tree(workers[2].pid) if pid != workers[2].pid]
    fault("sigkill_worker_child", pids=children)
    for pid in children:
        _kill(pid)
    _due(app, waves[2], start=waves[0] + waves[1])
    last_fault = time.monotonic()

    drained = True
    try:
        wait_for(lambda: _count(app, "state = 'delivered'") >= args.invoices
                 and _count(app, "state <> 'delivered'") == 0, args.timeout, "everything delivered", interval=0.5)
    except TimeoutError:
        drained = False
    finished = time.monotonic()
    return _report(stack, app, args, workers, schedulers, faults, drained, finished - started, finished - last_fault)


# -- the data ----------------------------------------------------------------------------------------------


def _due(app, count: int, start: int) -> None:
    """``count`` more invoices become due, spread over the three companies."""
    for i, company in enumerate(COMPANIES):
        share = count // len(COMPANIES) + (1 if i < count % len(COMPANIES) else 0)
        offset = start + sum(count // len(COMPANIES) + (1 if j < count % len(COMPANIES) else 0) for j in range(i))
        add_invoices(app, company, share, prefix=f"K{i}", status="ready", pdf=b"%PDF-1.4\n%chaos\n%%EOF\n",
                     start=offset)


def _sql(app, text: str):
    import sqlalchemy as sa

    with app.app_context():
        session = app.extensions["maventa"].session
        try:
            return session.execute(sa.text(text)).all()
        finally:
            session.remove()


def _count(app, where: str) -> int:
    return _sql(app, f"SELECT count(*) FROM maventa_transfer WHERE {where}")[0][0]


def _sending(app) -> bool:
    return _count(app, "state = 'sending'") > 0


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# -- the verdict -------------------------------------------------------------------------------------------


def _report(stack: Stack, app, args, workers, schedulers, faults, drained: bool, seconds: float,
            after_last_fault: float) -> dict:
    received = stack.sandbox_call("GET", "/_sandbox/invoices")
    stats = stack.sandbox_call("GET", "/_sandbox/stats")
    states = dict(_sql(app, "SELECT state, count(*) FROM maventa_transfer GROUP BY state"))
    events = dict(_sql(app, "SELECT kind, count(*) FROM maventa_event GROUP BY kind"))
    per_invoice = dict(_sql(app, "SELECT invoice_id, count(*) FROM maventa_transfer GROUP BY invoice_id"))
    host = dict(_sql(app, "SELECT status_id, count(*) FROM host_invoice GROUP BY status_id"))
    queued_events = _sql(app, "SELECT transfer_id, count(*) FROM maventa_event WHERE kind = 'transfer.queued' "
                              "GROUP BY transfer_id HAVING count(*) > 1")
    per_number = received["invoices_per_number"]
    per_uuid = received["received_per_uuid"]
    sweeps = _sweeps(schedulers)
    overlapping = [(a, b) for a, b in itertools.pairwise(sweeps) if b[0] < a[1]]
    alive = {"untouched_worker": workers[3].poll() is None, "worker_whose_child_was_killed": workers[2].poll() is None,
             "schedulers": [s.poll() is None for s in schedulers]}
    counts = {
        "invoices": args.invoices,
        "delivered_once": sum(1 for n in per_number.values() if n == 1),
        "delivered_transfers": states.get("delivered", 0),
        "lost": args.invoices - len(per_invoice) + sum(v for k, v in states.items() if k == "failed"),
        "duplicated_at_maventa": sum(1 for n in per_number.values() if n > 1),
        "uuids_uploaded_more_than_once": sum(1 for n in per_uuid.values() if n > 1),
        "transfers_per_invoice_max": max(per_invoice.values(), default=0),
        "stuck": sum(v for k, v in states.items() if k not in ("delivered", "failed")),
        "host_status": host,
        "retries": events.get("transfer.retry", 0),
        "in_doubt": events.get("transfer.in_doubt", 0),
        "reconciliations": events.get("transfer.reconciled", 0),
        "uploads": sum(per_uuid.values()),
        "token_requests": stats["tokens_issued"],
        "faults_injected_by_the_sandbox": stats["faults"],
        "sweeps": len(sweeps), "overlapping_sweeps": len(overlapping),
        "drain_seconds": round(seconds, 1), "drain_after_last_fault_seconds": round(after_last_fault, 1),
    }
    violations = []
    if not drained:
        violations.append(f"not everything was delivered within {args.timeout:.0f} s: {states}")
    for key in ("lost", "duplicated_at_maventa", "uuids_uploaded_more_than_once", "stuck", "overlapping_sweeps"):
        if counts[key]:
            violations.append(f"{key}: {counts[key]}")
    if counts["transfers_per_invoice_max"] != 1:
        violations.append(f"an invoice has {counts['transfers_per_invoice_max']} transfers")
    if queued_events:
        violations.append(f"{len(queued_events)} transfers were queued twice")
    if host != {"transferred": args.invoices}:
        violations.append(f"host statuses are {host}, not all 'transferred'")
    if not (alive["untouched_worker"] and alive["worker_whose_child_was_killed"] and all(alive["schedulers"])):
        violations.append(f"a process that was not killed has exited: {alive}")
    return {"benchmark": "chaos", "database": "postgresql", "redis": stack.redis.kind, "workers": args.workers,
            "schedulers": 2, "latency_ms": args.latency_ms, "seed": args.seed, "config": CONFIG,
            "sandbox_faults": " ".join(FAULTS), "faults": faults, "counts": counts, "still_running": alive,
            "violations": violations}


_SWEEP = re.compile(r"^(\S+ \S+) \d+ flask_maventa.scheduler \w+ step=sweep_done .* seconds=([0-9.]+)", re.M)


def _sweeps(schedulers) -> list[tuple[float, float]]:
    """(start, end) of every sweep either scheduler ran, from their logs, in order."""
    found = []
    for process in schedulers:
        for stamp, seconds in _SWEEP.findall(Path(process.log_path).read_text(errors="replace")):
            # logging's asctime is the machine's local time: astimezone() says so (as .timestamp() assumed)
            end = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()
            found.append((end - float(seconds), end))
    return sorted(found)


if __name__ == "__main__":
    sys.exit(main())
