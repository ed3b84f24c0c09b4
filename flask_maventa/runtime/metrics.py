"""Prometheus metrics: what happens (the counters of :mod:`flask_maventa.infra.counters`) and where things stand
(from the database).

Mount the exposition in the host, behind whatever protects its other internal endpoints::

    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from flask_maventa.runtime.metrics import make_wsgi_app
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": make_wsgi_app(app)})

Workers and schedulers are separate processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable
directory in the environment of every process on the host (web included) before they start, and the
web process exports the counters of all of them (prometheus-client's multiprocess mode). Without it
each process counts only for itself.

State gauges (transfers by state, the oldest due invoice, queue depth, heartbeats) are read from the
database and Redis at scrape time, so they are the same whichever process answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from ..infra.heartbeat import health, processes
from ..infra.models import utcnow
from ..services.transfer.dispatch import queue_depths
from ..services.transfer.queries import oldest_due_age, state_counts


class StateCollector:
    """Gauges read at scrape time: the database is the truth, so every process reports the same."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def describe(self) -> Iterable[Metric]:
        return []  # collected on demand only

    def collect(self) -> Iterator[Metric]:
        with self.app.app_context():
            session = self.app.extensions["maventa"].session
            try:
                transfers = GaugeMetricFamily("maventa_transfers", "Transfers by state.", labels=["state"])
                for state, count in state_counts().items():
                    transfers.add_metric([state], count)
                yield transfers
                yield GaugeMetricFamily("maventa_oldest_due_seconds",
                                        "Age of the oldest queued or in-doubt transfer that is due (0: none).",
                                        value=oldest_due_age())
                alive = GaugeMetricFamily("maventa_processes_alive", "Workers and schedulers with a recent "
                                          "heartbeat.", labels=["kind"])
                for kind, found in health(session).items():
                    alive.add_metric([kind], found.alive)
                yield alive
                age = GaugeMetricFamily("maventa_heartbeat_age_seconds", "Seconds since each running process "
                                        "last wrote its heartbeat.", labels=["kind", "process"])
                now = utcnow()
                for process in processes(session):
                    if process.stopped_at is None:
                        age.add_metric([process.kind, process.id], (now - process.seen_at).total_seconds())
                yield age
            finally:
                session.remove()
            depth = GaugeMetricFamily("maventa_queue_depth", "Jobs waiting in each RQ queue (absent: Redis "
                                      "unreachable).", labels=["queue"])
            for name, count in queue_depths().items():
                depth.add_metric([name], count)
            yield depth


def render(app: Any) -> bytes:
    """The exposition text: this host's counters (all processes in multiprocess mode) and the state gauges."""
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(app))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)  # type: ignore[no-untyped-call]  # prometheus-client's
    else:
        counters = REGISTRY
    return generate_latest(counters) + generate_latest(state)


def make_wsgi_app(app: Any) -> WSGIApplication:
    """A WSGI app answering the exposition for ``app`` (mount it with ``DispatcherMiddleware``)."""

    def metrics_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = render(app)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    return metrics_app
