"""``make demo``'s runner: it starts, the page answers over HTTP, and nothing outlives it.

Every process the demo starts inherits a marker in its environment, so the test finds
all of them in /proc — also any that left the demo's process tree.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest

from tests.fixtures.services import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                                    reason="needs Linux /proc")]


def processes() -> dict[int, tuple[int, str, bytes, str]]:
    """pid -> (parent pid, state, environ, command line) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        table[int(entry.name)] = (int(fields[1]), fields[0], environ, cmdline)
    return table


def marked_processes(marker: str, root: int | None = None) -> dict[int, str]:
    """pid -> command line of every live (non-zombie) process that carries the marker in its
    environment or descends from ``root`` (redis-server rewrites its environment area)."""
    table = processes()
    needle = f"DEMO_TEST_RUN={marker}".encode()
    found = {pid for pid, (_, _, environ, _) in table.items() if needle in environ.split(b"\0")}
    if root is not None:
        found.add(root)
    changed = True
    while changed:  # add descendants of what we found
        more = {pid for pid, (ppid, *_) in table.items() if ppid in found} - found
        found |= more
        changed = bool(more)
    return {pid: table[pid][3] for pid in found if pid in table and table[pid][1] != "Z"}


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError:
        return 0


class DemoRun:
    def __init__(self, tmp_path: Path):
        self.marker = uuid.uuid4().hex
        self.port, self.sandbox_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAVENTA_")}
        env.update(DEMO_TEST_RUN=self.marker, PYTHONPATH=str(ROOT))
        self.output = tmp_path / "demo.out"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "example_app.demo", "--port", str(self.port),
             "--sandbox-port", str(self.sandbox_port), "--instance", str(tmp_path / "instance")],
            cwd=ROOT, env=env, stdout=self.output.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,  # like a terminal: our SIGINT goes to the demo alone
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_until_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the demo exited early:\n{self.log()}"
            if get(f"{self.url}/settings/integrations/maventa/") == 200:
                return
            time.sleep(0.3)
        pytest.fail(f"the demo page never answered:\n{self.log()}")

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the demo did not stop within {timeout}s:\n{self.log()}")

    def cleanup(self) -> None:
        """Whatever the test's outcome, leave nothing behind on the test machine."""
        for pid in marked_processes(self.marker, self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def demo(tmp_path):
    run = DemoRun(tmp_path)
    yield run
    run.cleanup()


def test_the_demo_starts_answers_and_ctrl_c_stops_every_process(demo):
    demo.wait_until_up()
    assert get(f"{demo.url}/invoices") == 200
    running = marked_processes(demo.marker, demo.process.pid)
    commands = " | ".join(running.values())
    assert "redis-server" in commands and "flask --app example_app run" in commands
    assert "flask_maventa.sandbox" in commands and get(f"http://127.0.0.1:{demo.sandbox_port}/_sandbox/invoices") == 200
    assert "maventa worker" in commands and "maventa scheduler" in commands
    registry = httpx.get(f"http://127.0.0.1:{demo.sandbox_port}/_sandbox/receivers").json()
    assert {r["eia"] for r in registry} == {"0192:998877660", "0216:003715728600"}  # the e-invoice customers
    assert f"{demo.url}/" in demo.log()  # the URL is printed, with what to click
    assert "What to click" in demo.log()

    demo.process.send_signal(signal.SIGINT)
    assert demo.wait() == 0, demo.log()
    assert marked_processes(demo.marker) == {}, f"left behind:\n{demo.log()}"
    assert [pid for pid in running if pid_alive(pid)] == []
    assert get(f"{demo.url}/") == 0


def test_when_a_child_dies_the_demo_stops_the_others(demo):
    demo.wait_until_up()
    running = marked_processes(demo.marker, demo.process.pid)
    app = next(pid for pid, cmd in running.items() if "example_app run" in cmd)
    os.kill(app, signal.SIGKILL)
    assert demo.wait() == 1
    assert "app exited" in demo.log()
    assert marked_processes(demo.marker) == {}, f"left behind:\n{demo.log()}"
    assert [pid for pid in running if pid_alive(pid)] == []


def test_a_new_demo_run_forgets_the_connections_to_the_last_runs_sandbox(erp):
    """The sandbox starts empty on every run; a stale connection would fail every page and job."""
    import sqlalchemy as sa

    from example_app.demo import forget_sandbox_connections
    from example_app.models import db
    from flask_maventa.models import Connection, Event

    db.session.add(Connection(company_id="1", environment="sandbox", company_uuid=str(uuid.uuid4())))
    db.session.flush()
    db.session.add(Event(connection_id=db.session.scalar(sa.select(Connection.id)), kind="test", message="x"))
    db.session.commit()
    assert forget_sandbox_connections() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Connection)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert forget_sandbox_connections() == 0
