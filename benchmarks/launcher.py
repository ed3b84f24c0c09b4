"""CPU of one ``flask maventa sweep`` process started plainly and through the tests' launcher.

    .venv/bin/python benchmarks/launcher.py [--runs 5]

The test suite starts ~150 such processes; tests/fixtures/launcher.py forks them from a zygote that has
imported the third-party libraries once. Each run starts the same command both ways, alternately, against
the same Redis and SQLite database; a process's CPU is what its parent gets when it is reaped (the test
process for a plain one, the zygote for a launched one). Printed: the medians and their ratio (the
zygote's own start, paid once per pytest worker, is printed apart).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures import launcher  # noqa: E402 - importable once ROOT is on the path
from tests.fixtures.processes import stat  # noqa: E402
from tests.fixtures.services import RedisServer  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def reaped_cpu(pid: int) -> float:
    """CPU of the children ``pid`` has reaped so far (cutime + cstime)."""
    fields = stat(pid)
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    redis = RedisServer()
    folder = tempfile.mkdtemp(prefix="maventa-bench-launcher-")
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/host.db", "MAVENTA_REDIS_URL": redis.url,
              "MAVENTA_SANDBOX_URL": "http://127.0.0.1:1", "MAVENTA_VENDOR_API_KEY": "bench"}
    env = {**os.environ, "FLASK_APP": "tests.transfer.hostapp:create_app", "MAVENTA_TEST_CONFIG": json.dumps(config),
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "flask", "maventa", "sweep"]
    try:
        started = time.perf_counter()
        zygote = launcher.shared()
        assert zygote is not None, "the launcher did not start"
        zygote_start = {"seconds": round(time.perf_counter() - started, 2),
                        "cpu_s": round(sum(int(f) for f in stat(zygote.process.pid)[11:13]) / CLOCK_TICKS, 2)}
        plain, launched = [], []
        for _ in range(args.runs):
            before = reaped_cpu(os.getpid())
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
            plain.append(reaped_cpu(os.getpid()) - before)
            before = reaped_cpu(zygote.process.pid)
            process = launcher.popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
            assert isinstance(process, launcher.LaunchedPopen)
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0 and out == done.stdout, err[-2000:]
            deadline = time.monotonic() + 5
            while reaped_cpu(zygote.process.pid) == before and time.monotonic() < deadline:
                time.sleep(0.01)  # the zygote reaps it once we have its status
            launched.append(reaped_cpu(zygote.process.pid) - before)
    finally:
        launcher.stop_shared()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    plain_cpu, launched_cpu = statistics.median(plain), statistics.median(launched)
    print(json.dumps({"benchmark": "launcher", "command": "flask maventa sweep", "runs": args.runs,
                      "plain_cpu_s": round(plain_cpu, 2), "launched_cpu_s": round(launched_cpu, 2),
                      "ratio": round(launched_cpu / plain_cpu, 3), "zygote_start": zygote_start}))


if __name__ == "__main__":
    main()
