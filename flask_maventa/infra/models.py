"""The extension's own tables, on their own metadata, used through the host's ``db.session``.

No foreign keys into host tables: host ids are stored as strings and resolved through
the adapter. Changes to these tables come with an Alembic revision in ``migrations/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, scoped_session

from .redaction import ScrubbedJSON, ScrubbedText

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


MAX_ID = 2**31 - 1  # our integer keys are INTEGER columns: a larger number is no row, not an error

# The host's Flask-SQLAlchemy session (scoped) or a plain one: what our functions write through.
DbSession: TypeAlias = Session | scoped_session[Any]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Clipped(sa.types.TypeDecorator[str]):
    """A display copy of a host text (an invoice number): cut to the column's length, with an ellipsis,
    rather than refused by PostgreSQL after Maventa has already taken the invoice."""

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        text = str(value).replace("\x00", "")
        return text if len(text) <= self.length else text[: self.length - 1] + "\u2026"


class Base(DeclarativeBase):
    metadata = metadata


class Connection(Base):
    """One host company or department linked to one Maventa company account."""

    __tablename__ = "maventa_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    environment: Mapped[str] = mapped_column(sa.String(16))
    company_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    api_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)  # Fernet; never plaintext
    registered_via: Mapped[str | None] = mapped_column(sa.String(16))  # "register" | "existing"
    registrant_email: Mapped[str | None] = mapped_column(sa.String(255))
    needs_manual_credentials: Mapped[bool] = mapped_column(default=False)

    # Signing request (Visma Sign through Maventa)
    approver_person_id: Mapped[str | None] = mapped_column(sa.String(64))
    auth_email: Mapped[str | None] = mapped_column(sa.String(255))
    auth_locale: Mapped[str | None] = mapped_column(sa.String(2))
    auth_state: Mapped[str] = mapped_column(sa.String(16), default="NONE")
    company_state: Mapped[str] = mapped_column(sa.String(16), default="UNKNOWN")
    auth_sent_at: Mapped[datetime | None]
    auth_checked_at: Mapped[datetime | None]
    auth_next_check_at: Mapped[datetime | None]
    auth_check_count: Mapped[int] = mapped_column(default=0)

    # Settings
    send_pdf: Mapped[bool] = mapped_column(default=True)
    send_customer_email: Mapped[bool] = mapped_column(default=True)
    error_emails: Mapped[str | None] = mapped_column(sa.Text)  # comma-separated
    transfer_status_id: Mapped[str | None] = mapped_column(sa.String(64))
    success_status_id: Mapped[str | None] = mapped_column(sa.String(64))
    failure_status_id: Mapped[str | None] = mapped_column(sa.String(64))
    settings_saved_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None]
    blocked_reason: Mapped[str | None] = mapped_column(ScrubbedText)  # why the sweep skipped it last time
    blocked: Mapped[Any] = mapped_column(ScrubbedJSON, nullable=True)  # the same, untranslated; None: old row

    # Delivery-status webhook: the secret in its URL is the authentication; only its SHA-256 is stored
    webhook_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    webhook_id: Mapped[str | None] = mapped_column(sa.String(64))

    # What the pages' forms were made from: every change a user makes bumps it with a conditional UPDATE
    # (services/versions.py), so a form made from an older version is refused instead of undoing it.
    # Workers never bump it: the signing poll or the sweep changing their own columns is no conflict.
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    transfers: Mapped[list[Transfer]] = relationship(back_populates="connection")

    @property
    def has_credentials(self) -> bool:
        return bool(self.company_uuid and self.api_key_encrypted)

    @property
    def verified(self) -> bool:
        return self.company_state == "VERIFIED"

    @property
    def error_email_list(self) -> list[str]:
        return [e.strip() for e in (self.error_emails or "").split(",") if e.strip()]

    def __repr__(self) -> str:  # no secrets
        return f"<Connection {self.id} company={self.company_id} uuid={self.company_uuid}>"


class Transfer(Base):
    """One attempt to deliver one revision of one host invoice. See DESIGN: the state machine."""

    __allow_unmapped__ = True  # for pending_request, which is no column
    # The request event of the attempt in progress, written in the same statement as its answer's
    # (services/transfer/sending.py); None between attempts.
    pending_request: Any = None
    __tablename__ = "maventa_transfer"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "invoice_id", "revision", name="uq_maventa_transfer_revision"),
        sa.Index("ix_maventa_transfer_state_next", "state", "next_attempt_at"),
        sa.Index("ix_maventa_transfer_state_poll", "state", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(sa.ForeignKey("maventa_connection.id"))
    invoice_id: Mapped[str] = mapped_column(sa.String(64))
    revision: Mapped[int] = mapped_column(default=1)
    invoice_number: Mapped[str | None] = mapped_column(Clipped(64))
    state: Mapped[str] = mapped_column(sa.String(16), default="queued")
    maventa_uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    maventa_invoice_id: Mapped[str | None] = mapped_column(sa.String(64))
    maventa_status: Mapped[str | None] = mapped_column(sa.String(16))
    route: Mapped[str | None] = mapped_column(sa.String(16))  # einvoice | email | print
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))  # the Process sending or polling it now
    poll_count: Mapped[int] = mapped_column(default=0)
    next_poll_at: Mapped[datetime | None]
    last_error_code: Mapped[str | None] = mapped_column(sa.String(64))
    last_error_message: Mapped[str | None] = mapped_column(ScrubbedText)
    last_error_hint: Mapped[str | None] = mapped_column(ScrubbedText)
    # {"message": text, "hint": text}, untranslated (infra/texts.py); the two columns above keep the English
    last_error: Mapped[dict[str, Any] | None] = mapped_column(ScrubbedJSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    accepted_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    connection: Mapped[Connection] = relationship(back_populates="transfers")

    def __repr__(self) -> str:
        return f"<Transfer {self.id} invoice={self.invoice_id} r{self.revision} {self.state}>"


class Event(Base):
    """Append-only audit trail and per-transfer timeline. Never holds a secret (its text is scrubbed)."""

    __tablename__ = "maventa_event"
    __table_args__ = (
        sa.Index("ix_maventa_event_connection", "connection_id", "created_at"),
        sa.Index("ix_maventa_event_transfer", "transfer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("maventa_connection.id"))
    transfer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("maventa_transfer.id"))
    kind: Mapped[str] = mapped_column(sa.String(48))
    actor: Mapped[str | None] = mapped_column(sa.String(255))
    message: Mapped[str] = mapped_column(ScrubbedText, default="")  # English (or as written, in old rows)
    text: Mapped[Any] = mapped_column(ScrubbedJSON, nullable=True)  # untranslated (infra/texts.py); None: old row
    http_status: Mapped[int | None]
    data: Mapped[dict[str, Any] | None] = mapped_column(ScrubbedJSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    connection: Mapped[Connection | None] = relationship()
    transfer: Mapped[Transfer | None] = relationship()


class Process(Base):
    """A running worker or scheduler, by its heartbeat: the database knows who is alive, not only Redis.

    A worker's claims carry its id (``Transfer.claimed_by``), so the scheduler can hand back the work
    of a process that stopped beating long before its lease would expire.
    """

    __tablename__ = "maventa_process"
    __table_args__ = (sa.Index("ix_maventa_process_kind_seen", "kind", "seen_at"),)

    id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)  # hostname:pid:random
    kind: Mapped[str] = mapped_column(sa.String(16))  # worker | scheduler
    hostname: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int]
    queues: Mapped[str | None] = mapped_column(sa.String(255))
    concurrency: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]  # a clean exit; a killed process just stops beating

    def __repr__(self) -> str:
        return f"<Process {self.id} {self.kind}>"


class Slot(Base):
    """One periodic task's turn (the sweep, ...), shared by every scheduler on every host.

    A scheduler runs the task only after moving ``next_run_at`` forward with a conditional UPDATE,
    so each interval's run happens once however many schedulers there are; ``running_until`` keeps a
    slow run from overlapping the next one (and expires if its scheduler dies mid-run).
    """

    __tablename__ = "maventa_slot"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(default=utcnow)
    running_until: Mapped[datetime | None]
    holder: Mapped[str | None] = mapped_column(sa.String(128))
    runs: Mapped[int] = mapped_column(default=0)
