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
from .claiming import claim, claim_batch
from .delivery import claim_polls, hint_reread, poll, poll_claimed
from .dispatch import (
    POLL,
    SEND,
    count_due,
    expire_leases,
    queue_name,
    queue_names,
    try_dispatch,
)
from .failures import fail, retry
from .notices import Answer, receive_notice
from .queries import counters, oldest_due_age, state_counts
from .sending import accept, attempt, send, send_claimed
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
    "ACCEPTED",
    "DELIVERED",
    "FAILED",
    "IN_DOUBT",
    "OPEN_STATES",
    "POLL",
    "QUEUED",
    "SEND",
    "SENDING",
    "STATES",
    "UUID_NAMESPACE",
    "Answer",
    "Outcome",
    "RetryRefused",
    "SweepResult",
    "accept",
    "attempt",
    "backoff",
    "claim",
    "claim_batch",
    "claim_polls",
    "count_due",
    "counters",
    "create_transfers",
    "expire_leases",
    "fail",
    "hint_reread",
    "maventa_uuid",
    "oldest_due_age",
    "poll",
    "poll_claimed",
    "poll_due",
    "queue_name",
    "queue_names",
    "receive_notice",
    "retry",
    "send",
    "send_claimed",
    "send_due",
    "state_counts",
    "sweep",
    "transfer_blockers",
    "transition",
    "try_dispatch",
]
