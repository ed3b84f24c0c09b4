"""The Prometheus counters every process increments (workers, schedulers, the web): steps, latency, retries.

They are exported, with the state read from the database, by :mod:`flask_maventa.runtime.metrics`.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SEND_SECONDS = Histogram(
    "maventa_send_seconds", "Duration of one invoice upload to Maventa (the POST), by result.", ["result"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30))
STEPS = Counter(
    "maventa_transfer_steps", "Transfer steps taken: accepted, retry, in_doubt, reconciled, failed, delivered, "
    "lease_expired.", ["step"])
TOKEN_REQUESTS = Counter("maventa_token_requests", "Access tokens fetched from Maventa.")
DB_RETRIES = Counter("maventa_db_retries", "Transactions run again after a transient database error.")
REDIS_ERRORS = Counter("maventa_redis_errors", "Dispatches or worker loops that found Redis unreachable.")


def step(name: str) -> None:
    STEPS.labels(name).inc()
