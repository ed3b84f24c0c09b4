"""The transfer engine: every due invoice reaches Maventa exactly once, as fast as Maventa answers.

    queued ──claim──▶ sending ──201──▶ accepted ──▶ delivered
      ▲                 │  │               └── Maventa FAILED ──▶ failed
      └── transient ────┘  └── timeout after the request left ──▶ in_doubt ──read by our uuid──▶ accepted | resend
    permanent error (4xx, pre-flight, unverified company) ──────────────────────────────────────▶ failed

The database is the outbox: :mod:`.sweeping` writes one row per due invoice, :mod:`.dispatch` only wakes
workers through Redis, and a worker's job claims due rows itself (:mod:`.sending`, :mod:`.delivery`) and
works on many at once (:mod:`.batch`). :mod:`.states` holds the rules every step follows (conditional
updates, commits retried after transient database errors, structured log lines); :mod:`.queries` the
read-only questions of the pages, ``doctor`` and the metrics. The host invoice's status changes in the
same transaction as our row. Functions here run inside the host's app context; the RQ job wrappers
live in :mod:`flask_maventa.runtime.jobs`.
"""

from __future__ import annotations

from .batch import poll_due, send_due
from .delivery import claim_polls, hint_reread, poll
from .dispatch import (
    POLL,
    SEND,
    count_due,
    expire_leases,
    queue_name,
    queue_names,
    try_dispatch,
)
from .queries import counters, oldest_due_age, state_counts
from .sending import MAVENTA_LANG, accept, attempt, claim, claim_batch, fail, retry, send, send_claimed
from .states import (
    ACCEPTED,
    DELIVERED,
    FAILED,
    IN_DOUBT,
    OPEN_STATES,
    QUEUED,
    SENDING,
    STATES,
    UUID_NAMESPACE,
    Outcome,
    RetryRefused,
    backoff,
    maventa_uuid,
    transition,
)
from .sweeping import SweepResult, create_transfers, sweep, transfer_blockers

__all__ = [
    "sweep", "SweepResult", "create_transfers", "transfer_blockers",
    "send", "claim", "claim_batch", "send_claimed", "attempt", "accept", "fail", "retry",
    "poll", "claim_polls", "hint_reread", "send_due", "poll_due",
    "try_dispatch", "expire_leases", "count_due", "queue_name", "queue_names", "SEND", "POLL",
    "counters", "state_counts", "oldest_due_age",
    "QUEUED", "SENDING", "IN_DOUBT", "ACCEPTED", "DELIVERED", "FAILED", "STATES", "OPEN_STATES",
    "UUID_NAMESPACE", "MAVENTA_LANG", "Outcome", "RetryRefused", "backoff", "maventa_uuid", "transition",
]
