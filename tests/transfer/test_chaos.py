"""The chaos run in CI: benchmarks/chaos.py with 200 invoices (the README reports a run with 2,000).

PostgreSQL, a real redis-server restarted empty mid-run, the sandbox failing uploads, four workers and
two schedulers with environments of their own; workers SIGKILLed three ways; nothing restarted by the
test. The script itself checks every invoice was delivered exactly once and exits non-zero otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.fixtures import launcher
from tests.fixtures.services import require_service

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_chaos_run_delivers_every_invoice_exactly_once():
    if not shutil.which("redis-server"):
        require_service("redis-server", "the chaos run restarts a real redis-server")
    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        require_service("postgresql", "the chaos run uses PostgreSQL")
    # TEST_LAUNCHER=on: the script's workers, schedulers and sandbox fork from a preloaded launcher of its own.
    run = launcher.run([sys.executable, "benchmarks/chaos.py", "--invoices", "200", "--timeout", "300"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "TEST_LAUNCHER": os.environ.get("TEST_LAUNCHER", "on")})
    assert run.stdout.strip(), run.stderr[-4000:]
    report = json.loads(run.stdout)
    assert run.returncode == 0, json.dumps(report, indent=2)
    counts = report["counts"]
    assert counts["delivered_once"] == counts["invoices"] == 200
    assert counts["lost"] == counts["duplicated_at_maventa"] == counts["uuids_uploaded_more_than_once"] == 0
    assert counts["stuck"] == 0 and counts["overlapping_sweeps"] == 0
    assert counts["host_status"] == {"transferred": 200}
    # The faults really happened: uploads failed every way, and the run recovered from each.
    assert {"error", "drop", "reset"} <= set(counts["faults_injected_by_the_sandbox"])
    assert counts["retries"] and counts["in_doubt"] and counts["reconciliations"]
    assert [f["fault"] for f in report["faults"]] == [
        "sigkill_worker_supervisor", "sigkill_worker_and_child", "redis_stop", "redis_start_empty",
        "sigkill_worker_child"]
    assert all(report["still_running"]["schedulers"]) and report["still_running"]["untouched_worker"]
