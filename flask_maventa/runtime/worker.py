"""``flask maventa worker``: long-lived worker processes that outlive Redis restarts.

A small supervisor forks ``--processes`` children once and starts a new one when a child dies. Each
child is a non-forking RQ worker (no work horse per job: the app, the HTTP connection pool, the token
cache and SQLAlchemy's compiled statements live as long as the process) with a heartbeat in the
database. When Redis goes away RQ's loop gives up; the child waits for Redis with a growing pause and
starts its loop again -- a job lost meanwhile costs nothing, the scheduler enqueues another for what the
database says is due.

Stopping: SIGTERM or SIGINT asks for a warm shutdown (requests in flight finish, nothing new is
claimed; a second signal stops at once). A child whose supervisor dies gets SIGTERM (Linux) and stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from types import FrameType

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from rq.worker import DequeueStrategy

from ..infra import counters as metrics
from ..infra import heartbeat
from ..services.transfer import POLL, SEND, queue_name
from ..services.transfer.batch import STOP
from .database import use_wal

log = logging.getLogger("flask_maventa.worker")

REDIS_WAIT_MAX = 30.0  # seconds between reconnection attempts at most
QUICK_DEATH = 10.0  # a child dying sooner than this after its start is restarted after a growing pause
QUEUE_KINDS = ("send", "poll", "default")


def queue_names(kinds: Sequence[str] | None) -> list[str]:
    names = {"send": queue_name(SEND), "poll": queue_name(POLL), "default": queue_name()}
    return [names[kind] for kind in (kinds or QUEUE_KINDS)]


def run(app: Flask, *, processes: int = 1, burst: bool = False, kinds: Sequence[str] | None = None) -> int:
    """``--burst`` works in this process until the queues are empty; otherwise supervise ``processes`` children."""
    if burst:
        with app.app_context():
            return work(app, queue_names(kinds), burst=True)
    return Supervisor(app, processes, kinds).run()


# -- one worker process ------------------------------------------------------------------------------------


class MaventaWorker(SimpleWorker):
    """RQ's worker without a work horse; a stop request also tells the running job to stop claiming."""

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        STOP.set()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # RQ's, unannotated


def work(app: Flask, names: list[str], *, burst: bool = False, parent: int | None = None) -> int:
    """Run RQ's loop on ``names`` until stopped, starting it again whenever Redis took it down."""
    def parent_gone() -> None:
        if parent is not None and os.getppid() != parent:
            log.warning("the supervisor %s is gone; stopping", parent)
            os.kill(os.getpid(), signal.SIGTERM)

    use_wal(app)
    beat = heartbeat.Heartbeat(app, heartbeat.WORKER, queues=",".join(names),
                               concurrency=int(app.config["MAVENTA_SEND_CONCURRENCY"]), on_beat=parent_gone).start()
    log.info("worker %s listening on %s", beat.id, ", ".join(names))
    url = app.config["MAVENTA_REDIS_URL"]
    pause = 0.5
    try:
        while not STOP.is_set():
            redis = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
            if not wait_for_redis(redis):
                break
            worker = MaventaWorker([Queue(name, connection=redis) for name in names], connection=redis)
            started, finished = time.monotonic(), False
            try:
                worker.work(burst=burst, with_scheduler=False, dequeue_strategy=DequeueStrategy.ROUND_ROBIN)
                finished = True
            except Exception as exc:  # noqa: BLE001 - RQ's own bookkeeping hit a dead Redis
                log.warning("the worker loop stopped: %s: %s", type(exc).__name__, exc)
            if STOP.is_set() or worker._stop_requested:
                break
            if burst and finished and _empty(redis, names):
                break
            metrics.REDIS_ERRORS.inc()
            pause = 0.5 if time.monotonic() - started > 60 else min(REDIS_WAIT_MAX, pause * 2)
            log.warning("the worker loop ended (Redis connection lost?); starting it again in %.1f s", pause)
            STOP.wait(pause)
    finally:
        beat.stop()
        log.info("worker %s stopped", beat.id)
    return 0


def wait_for_redis(redis: Redis) -> bool:
    """Block until Redis answers (True) or a stop is asked for (False), pausing longer each time."""
    pause, warned = 0.5, False
    while not STOP.is_set():
        try:
            redis.ping()
            if warned:
                log.warning("Redis answers again")
            return True
        except Exception as exc:  # noqa: BLE001 - any connection problem: wait and try again
            if not warned:
                log.warning("Redis is not reachable (%s); waiting for it", type(exc).__name__)
                warned = True
            STOP.wait(pause)
            pause = min(REDIS_WAIT_MAX, pause * 2)
    return False


def _empty(redis: Redis, names: list[str]) -> bool:
    try:
        return all(Queue(name, connection=redis).count == 0 for name in names)
    except Exception:  # noqa: BLE001 - cannot tell: work again
        return False


# -- the supervisor ----------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (elsewhere the heartbeat notices)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Supervisor:
    """Forks the worker processes and keeps their number up; forwards SIGTERM/SIGINT to them."""

    def __init__(self, app: Flask, processes: int, kinds: Sequence[str] | None) -> None:
        self.app = app
        self.processes = max(1, processes)
        self.kinds = kinds
        self.children: dict[int, float] = {}  # pid -> start time
        self.stopping = False
        self.quick_deaths = 0
        self.next_start = 0.0

    def run(self) -> int:
        with self.app.app_context():
            names = queue_names(self.kinds)
            db = self.app.extensions["maventa"].db
            for engine in db.engines.values():
                engine.dispose()  # no database connection may cross the fork
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        log.info("supervisor %s starting %d worker process(es)", os.getpid(), self.processes)
        while True:
            while not self.stopping and len(self.children) < self.processes and time.monotonic() >= self.next_start:
                self._start(names)
            self._reap()
            if self.stopping and not self.children:
                return 0
            time.sleep(0.2)

    def _start(self, names: list[str]) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):  # until RQ installs its own handlers
                    signal.signal(sig, lambda *_: STOP.set())
                _die_with_parent()
                if os.getppid() == parent:
                    with self.app.app_context():
                        code = work(self.app, names, parent=parent)
            except BaseException:  # noqa: BLE001 - whatever ends the child, its exit status says so
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            lived = time.monotonic() - started
            self.quick_deaths = self.quick_deaths + 1 if lived < QUICK_DEATH else 0
            pause = min(REDIS_WAIT_MAX, 2.0 ** self.quick_deaths) if self.quick_deaths else 0.0
            self.next_start = time.monotonic() + pause
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.WEXITSTATUS(status)}"
            log.warning("worker process %s ended (%s) after %.0f s; starting another in %.0f s", pid, how, lived,
                        pause)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        first = not self.stopping
        self.stopping = True
        log.info("supervisor got signal %s: %s", signum, "warm shutdown" if first else "stopping now")
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # RQ: the first asks for a warm shutdown, a second for a cold one
