"""``make demo``'s runner: it starts, the page answers over HTTP, and nothing outlives it.

Every process the demo starts inherits a marker in its environment, so the test finds
all of them in /proc — also any that left the demo's process tree.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.fixtures.processes import stat
from tests.fixtures.services import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
              # `make demo` shares the checkout's .venv and .demo/setup.log: one xdist worker runs them all.
              pytest.mark.xdist_group("make-demo")]


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
    fields = stat(pid)
    return fields is not None and fields[0] != "Z"


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError:
        return 0


class DemoRun:
    """One ``python -m example_app.demo`` (or ``make demo``) in its own session, as from a terminal."""

    def __init__(self, tmp_path: Path, *, instance: Path | None = None, port: int | None = None,
                 sandbox_port: int | None = None, args: tuple[str, ...] = (), via_make: bool = False,
                 name: str = "demo"):
        self.marker = uuid.uuid4().hex
        self.port, self.sandbox_port = port or free_port(), sandbox_port or free_port()
        self.instance = instance or tmp_path / "instance"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAVENTA_", "DEMO_", "EXAMPLE_"))}
        env.update(DEMO_TEST_RUN=self.marker, PYTHONPATH=str(ROOT))
        self.output = tmp_path / f"{name}.out"
        if via_make:
            argv = ["make", "--no-print-directory", "demo", f"DEMO_PORT={self.port}",
                    f"DEMO_SANDBOX_PORT={self.sandbox_port}", f"EXAMPLE_INSTANCE_PATH={self.instance}",
                    f"SETUP_LOG={tmp_path / 'setup.log'}"]
        else:
            argv = [sys.executable, "-m", "example_app.demo", "--port", str(self.port),
                    "--sandbox-port", str(self.sandbox_port), "--instance", str(self.instance), *args]
        with self.output.open("wb") as output:  # the demo writes to its own copy of the file
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,  # like a terminal: our SIGINT goes to the demo alone
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_until_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the demo exited early:\n{self.log()}"
            if get(f"{self.url}/settings/integrations/maventa/") == 200 and "Ctrl-C stops" in self.log():
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

    def interrupt(self) -> int:
        """Ctrl-C in its terminal: SIGINT to its whole foreground group (make and the demo alike)."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.wait()

    def cleanup(self) -> None:
        """Whatever the test's outcome, leave nothing behind on the test machine."""
        for pid in marked_processes(self.marker, self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def demos(tmp_path):
    """Start demos with ``demos(name, **options)``; every one is cleaned up after the test."""
    runs: list[DemoRun] = []

    def start(name: str = "demo", **options) -> DemoRun:
        run = DemoRun(tmp_path, name=name, **options)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.cleanup()


def test_a_new_demo_run_forgets_the_connections_to_the_last_runs_sandbox(erp):
    """The sandbox starts empty on every run; a stale connection would fail every page and job."""
    import sqlalchemy as sa

    from example_app.demo import forget_sandbox_connections
    from example_app.models import db
    from flask_maventa.infra.models import Connection, Event

    db.session.add(Connection(company_id="1", environment="sandbox", company_uuid=str(uuid.uuid4())))
    db.session.flush()
    db.session.add(Event(connection_id=db.session.scalar(sa.select(Connection.id)), kind="test", message="x"))
    db.session.commit()
    assert forget_sandbox_connections() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Connection)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert forget_sandbox_connections() == 0


# -- a demo that is never damaged, and can be replayed ------------------------------------------------------

PREFIX = "/settings/integrations/maventa"


def query(instance: Path, sql: str, *params):
    """One row of the demo's own SQLite database, read the way any other program would."""
    with closing(sqlite3.connect(instance / "example.db", timeout=30)) as connection:
        return connection.execute(sql, params).fetchone()


def demo_state(instance: Path) -> dict:
    """What the walkthrough changes: an invoice's status, a status flag, a customer card, connections."""
    return {
        "10001": query(instance, "SELECT s.name FROM invoice i JOIN invoice_status s ON s.id = i.status_id "
                                 "WHERE i.number = '10001'")[0],
        "sent flag": bool(query(instance, "SELECT is_sent FROM invoice_status WHERE name = 'Ready to send'")[0]),
        "solberg email": query(instance, "SELECT email FROM customer WHERE name = 'Solberg Snekkeri'")[0],
        "connections": query(instance, "SELECT count(*) FROM maventa_connection")[0],
    }


STARTING_POINT = {"10001": "Draft", "sent flag": True, "solberg email": None, "connections": 0}


def csrf_token(html: str, prefix: str = "") -> str:
    return re.search(rf'name="{re.escape(prefix)}csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def demo_children(run: DemoRun) -> dict[int, str]:
    """The processes the demo itself started (not the RQ work horses that come and go for each job)."""
    table = processes()
    marked = marked_processes(run.marker, run.process.pid)
    demo_pid = next(pid for pid, command in marked.items() if "example_app.demo" in command)
    return {pid: command for pid, command in marked.items() if table.get(pid, (None,))[0] == demo_pid}


def walk_through(run: DemoRun) -> None:
    """What a user does in the running demo's pages: register Fjordline in the sandbox, put an invoice in
    "Ready for Maventa", clear the Sent flag of "Ready to send", add an email on Solberg's customer card."""
    ids = {
        "company": query(run.instance, "SELECT id FROM company WHERE name = 'Fjordline Consulting AS'")[0],
        "person": query(run.instance, "SELECT id FROM person WHERE email = 'kari.nordmann@fjordline.example'")[0],
        "invoice": query(run.instance, "SELECT id FROM invoice WHERE number = '10001'")[0],
        "ready": query(run.instance, "SELECT id FROM invoice_status WHERE name = 'Ready for Maventa'")[0],
        "ready to send": query(run.instance, "SELECT id FROM invoice_status WHERE name = 'Ready to send'")[0],
        "solberg": query(run.instance, "SELECT id FROM customer WHERE name = 'Solberg Snekkeri'")[0],
    }
    with httpx.Client(base_url=run.url, timeout=30) as http:
        page = http.get(f"{PREFIX}/").text
        response = http.post(f"{PREFIX}/register", data={
            "csrf_token": csrf_token(page), "company": ids["company"], "person": ids["person"]})
        assert response.status_code == 303, response.text[-2000:]
        invoice = ids["invoice"]
        page = http.get("/invoices").text
        assert http.post(f"/invoices/{invoice}/status", data={
            f"i{invoice}-csrf_token": csrf_token(page, f"i{invoice}-"),
            f"i{invoice}-status_id": ids["ready"]}).status_code == 303
        flag = ids["ready to send"]
        page = http.get("/invoice-statuses").text
        assert http.post(f"/invoice-statuses/{flag}", data={f"s{flag}-csrf_token": csrf_token(page, f"s{flag}-")}
                         ).status_code == 303
        page = http.get(f"/customers/{ids['solberg']}").text
        assert http.post(f"/customers/{ids['solberg']}", data={
            "csrf_token": csrf_token(page), "email": "post@solberg.example", "street": "Verkstedveien 12",
            "post_code": "3015", "city": "Drammen", "country": "NO"}).status_code == 303
    assert demo_state(run.instance) == {"10001": "Ready for Maventa", "sent flag": False,
                                         "solberg email": "post@solberg.example", "connections": 1}


def test_the_demo_starts_refuses_a_second_start_stops_on_ctrl_c_and_a_restart_replays_the_walkthrough(
        demos, tmp_path):
    """One scenario, so the demo is started three times and not four: `make demo` starts it, a second start
    touches nothing, Ctrl-C stops it, a restart keeps the data or resets it, and a child that dies stops the
    others."""
    instance = tmp_path / "instance"
    run = demos("first", instance=instance, via_make=True)  # as the README says: make demo
    run.wait_until_up()
    assert get(f"{run.url}/invoices") == 200
    running = marked_processes(run.marker, run.process.pid)
    commands = " | ".join(running.values())
    assert "redis-server" in commands and "flask --app example_app run" in commands
    assert "flask_maventa.sandbox" in commands and get(f"http://127.0.0.1:{run.sandbox_port}/_sandbox/invoices") == 200
    assert "maventa worker" in commands and "maventa scheduler" in commands
    children = demo_children(run)
    assert len(children) == 5, running  # redis, sandbox, worker, scheduler, app
    registry = httpx.get(f"http://127.0.0.1:{run.sandbox_port}/_sandbox/receivers").json()
    assert {r["eia"] for r in registry} == {"0192:998877660", "0216:003715728600"}  # the e-invoice customers
    assert f"{run.url}/" in run.log()  # the URL is printed, with what to click
    assert "What to click" in run.log()
    # make demo on a warm machine: its own lines only (the setup's output is in the setup log).
    lines = run.log().split("\n\n")[0].splitlines()
    assert lines and all(line.startswith(("[setup]", "[demo]")) for line in lines), run.log()
    assert "Requirement already satisfied" not in run.log()
    walk_through(run)

    # A second start refuses and touches nothing: not the running demo, not its data, not its ports.
    before = demo_state(instance)
    second_tries = [
        ("same folder, same ports", {"instance": instance, "port": run.port, "sandbox_port": run.sandbox_port},
         "a demo is already running from"),
        ("same folder, other ports", {"instance": instance}, "a demo is already running from"),
        ("other folder, same ports", {"instance": tmp_path / "other", "port": run.port,
                                      "sandbox_port": run.sandbox_port}, f"port {run.port} (example ERP)"),
        ("other folder, the sandbox's port", {"instance": tmp_path / "other2", "sandbox_port": run.sandbox_port},
         f"port {run.sandbox_port} (sandbox Maventa) is in use"),
    ]
    for name, options, message in second_tries:
        second = demos(name.replace(" ", "-").replace(",", ""), **options)
        assert second.wait(60) == 1, (name, second.log())
        assert message in second.log() and "nothing was touched" in second.log()
        assert "[demo] started" not in second.log() and "Ctrl-C stops" not in second.log(), second.log()
        assert not (Path(options["instance"]) / "example.db").exists() or options["instance"] == instance
    # make clean-demo refuses too while the demo runs from that folder.
    clean = subprocess.run(["make", "--no-print-directory", "clean-demo", f"EXAMPLE_INSTANCE_PATH={instance}",
                            f"SETUP_LOG={tmp_path / 'setup.log'}"], cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
    assert clean.returncode != 0 and "a demo is running from" in clean.stdout, clean.stdout + clean.stderr
    assert demo_children(run) == children
    assert all(pid_alive(pid) for pid in children)
    assert get(f"{run.url}/invoices") == 200
    assert demo_state(instance) == before
    assert httpx.get(f"http://127.0.0.1:{run.sandbox_port}/_sandbox/receivers").json() == registry

    # Ctrl-C in its terminal stops every process it started, and the port is free again (the demo's own exit
    # status on Ctrl-C is checked below, where no make stands between).
    run.interrupt()
    assert "[demo] stopped every process" in run.log()
    assert marked_processes(run.marker) == {}, f"left behind:\n{run.log()}"
    assert [pid for pid in running if pid_alive(pid)] == []
    assert get(f"{run.url}/") == 0

    # --keep-data (DEMO_KEEP_DATA=1): the ERP's data as left; Maventa connections pointed at the old sandbox.
    run = demos("kept", instance=instance, args=("--keep-data",))
    run.wait_until_up()
    assert demo_state(instance) == {"10001": "Ready for Maventa", "sent flag": False,
                                    "solberg email": "post@solberg.example", "connections": 0}
    assert "kept as you left it" in run.log()
    (instance / "logs" / "mail.log").write_text("To: faktura@fjordline.example\nSubject: old run\n")
    assert run.interrupt() == 0

    # The default: back to the starting point, so the walkthrough can be clicked through again.
    run = demos("replay", instance=instance)
    run.wait_until_up()
    assert demo_state(instance) == STARTING_POINT
    assert "reset to the demo's starting point" in run.log()
    assert not (instance / "logs" / "mail.log").exists(), "the last run's error emails are gone too"
    walk_through(run)  # and it can be done again

    # A child that dies stops the others: the demo exits 1 and says which one it was.
    running = marked_processes(run.marker, run.process.pid)
    app = next(pid for pid, cmd in running.items() if "example_app run" in cmd)
    os.kill(app, signal.SIGKILL)
    assert run.wait() == 1
    assert "app exited" in run.log()
    assert marked_processes(run.marker) == {}, f"left behind:\n{run.log()}"
    assert [pid for pid in running if pid_alive(pid)] == []


def test_a_port_counts_only_when_the_demos_own_child_listens_on_it(tmp_path, capsys):
    """The race a check before starting cannot close: someone else takes the port in between."""
    from example_app.demo import Demo, listens

    demo = Demo(tmp_path / "instance", free_port(), free_port())
    foreign = socket.socket()
    try:
        foreign.bind(("127.0.0.1", demo.port))
        foreign.listen()
        idle = demo.start("idle", [sys.executable, "-c", "import time; time.sleep(60)"], demo.env())
        assert not listens(idle, demo.port)
        assert demo.wait_until_listening(idle, demo.port, 1.5) is False
        assert "another program took the port meanwhile; it was left alone" in capsys.readouterr().out
        server = demo.start("server", [sys.executable, "-c", (
            f"import socket, time; s = socket.socket(); s.bind(('127.0.0.1', {demo.sandbox_port})); s.listen(); "
            "time.sleep(60)"
        )], demo.env())
        assert demo.wait_until_listening(server, demo.sandbox_port, 20) is True
        assert not listens(server, demo.port)
    finally:
        foreign.close()
        pids = [child.process.pid for child in demo.children]
        demo.stop()
    assert not any(pid_alive(pid) for pid in pids)


@pytest.mark.parametrize("command, status", [("echo pip says a lot; echo more", 0), ("echo broken; exit 3", 3)])
def test_each_setup_phase_is_one_line_and_its_output_goes_to_the_log(tmp_path, command, status):
    log = tmp_path / "setup.log"
    result = subprocess.run(["sh", str(ROOT / "scripts" / "step"), "installing things", "sh", "-c", command],
                            env={**os.environ, "STEP_LOG": str(log)}, capture_output=True, text=True, timeout=30)
    assert result.returncode == status
    first_line, *rest = result.stdout.splitlines()
    if status == 0:
        assert re.fullmatch(r"\[setup\] installing things \.\.\. done \(\d+ s\)", first_line) and rest == []
        assert "pip says a lot\nmore" in log.read_text()
    else:  # a failure shows where it went wrong, and where the rest is
        assert first_line == f"[setup] installing things ... failed (status 3); the last lines of {log}:"
        assert rest[-1] == "broken"
    # Without STEP_LOG (make install): the command talks as usual.
    result = subprocess.run(["sh", str(ROOT / "scripts" / "step"), "installing things", "sh", "-c", command],
                            env={k: v for k, v in os.environ.items() if k != "STEP_LOG"},
                            capture_output=True, text=True, timeout=30)
    assert result.stdout.splitlines()[:2] == ["[setup] installing things", command.split(";")[0][5:]]
