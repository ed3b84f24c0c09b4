"""Two admins at once (services/versions.py): a save made from an older version of the connection is
refused, changes nothing and can say who changed what since -- and the check is the UPDATE's WHERE, so two
saves that both passed every earlier check still cannot both win (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from flask_maventa.extension import current_maventa
from flask_maventa.infra.models import Connection, Event
from flask_maventa.services import versions
from flask_maventa.services.settings import activate, deactivate, save_settings
from tests.fixtures.apps import make_app

from .conftest import STATUS_MAPPING, offline_connection

VALUES = dict(send_pdf=True, send_customer_email=True, **STATUS_MAPPING)


def saved(connection: Connection, email: str, version: int | None) -> None:
    save_settings(connection, error_emails=email, version=version, **VALUES)
    current_maventa().session.commit()


def settings_events(connection_id: int) -> list[Event]:
    return list(current_maventa().session.scalars(
        sa.select(Event).where(Event.connection_id == connection_id, Event.kind == "settings.saved")))


def test_the_second_save_of_a_stale_form_is_refused_and_changes_nothing(connection, adapter):
    assert connection.version == 0
    adapter.actor = "anna@fjord.example"
    saved(connection, "anna@fjord.example", version=0)
    assert connection.version == 1

    adapter.actor = "bjorn@fjord.example"
    with pytest.raises(versions.StaleForm) as stale:
        saved(connection, "bjorn@fjord.example", version=0)  # made from the version before Anna's save
    current_maventa().session.rollback()
    current_maventa().session.refresh(connection)
    assert connection.error_emails == "anna@fjord.example" and connection.version == 1
    assert [e.actor for e in settings_events(connection.id)] == ["anna@fjord.example"]

    [change] = versions.changes_since(connection, stale.value.seen)
    assert (change.actor, change.kind, change.what) == ("anna@fjord.example", "settings.saved", "saved the settings")

    saved(connection, "bjorn@fjord.example", version=1)  # made again from the current version: saved
    assert connection.error_emails == "bjorn@fjord.example" and connection.version == 2


def test_every_change_of_the_connection_moves_the_version_and_a_stale_one_is_refused(connection):
    saved(connection, "", version=0)
    activate(connection, live=False, version=1)
    current_maventa().session.commit()
    assert connection.version == 2 and connection.active
    with pytest.raises(versions.StaleForm):
        deactivate(connection, version=1)  # a switch rendered before the activation
    current_maventa().session.rollback()
    assert connection.active
    deactivate(connection, version=2)
    current_maventa().session.commit()
    assert connection.version == 3 and not connection.active
    kinds = [c.kind for c in versions.changes_since(connection, 0)]
    assert kinds == ["settings.saved", "activation.on", "activation.off"]


def test_a_version_that_is_no_number_is_stale_and_none_means_no_form(connection):
    assert versions.parse_version("abc") == versions.UNKNOWN
    assert versions.parse_version("-3") == versions.UNKNOWN
    assert versions.parse_version("") is None and versions.parse_version(None) is None
    with pytest.raises(versions.StaleForm):
        saved(connection, "x@fjord.example", version=versions.UNKNOWN)
    current_maventa().session.rollback()
    saved(connection, "x@fjord.example", version=None)  # a script, not a form: not checked
    assert connection.version == 1


def test_reapply_keeps_only_the_fields_the_user_changed():
    base = {"send_pdf": True, "error_emails": "a@x.example", "transfer_status_id": "ready"}
    yours = {"send_pdf": False, "error_emails": "a@x.example", "transfer_status_id": "ready"}
    current = {"send_pdf": True, "error_emails": "b@x.example", "transfer_status_id": "ready"}
    assert versions.reapply(base, yours, current) == {"send_pdf": False, "error_emails": "b@x.example",
                                                      "transfer_status_id": "ready"}
    assert versions.reapply({}, yours, current) == yours  # without a base every field counts as yours


def _interleaved(app, company_id: str) -> dict[str, str]:
    """Both saves load the connection at version 0 and pass every check (a barrier holds each one inside
    the rules, after its early version check) before either claims: only the UPDATE's WHERE can decide."""
    with app.app_context():
        connection_id = offline_connection(company_id).id
    adapter = app.extensions["maventa"].adapter
    barrier = threading.Barrier(2, timeout=20)
    statuses = adapter.list_invoice_statuses

    def held(company: str):
        barrier.wait()
        return statuses(company)

    adapter.list_invoice_statuses = held
    outcomes: dict[str, str] = {}

    def admin(email: str) -> None:
        with app.app_context():
            session = current_maventa().session
            connection = session.get(Connection, connection_id)
            try:
                save_settings(connection, error_emails=email, version=0, **VALUES)
                session.commit()
                outcomes[email] = "saved"
            except versions.StaleForm:
                session.rollback()
                outcomes[email] = "stale"
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                session.rollback()
                outcomes[email] = f"error {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=admin, args=(e,)) for e in ("anna@fjord.example", "bjorn@fjord.example")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    adapter.list_invoice_statuses = statuses

    winners = [email for email, outcome in outcomes.items() if outcome == "saved"]
    assert len(winners) == 1, outcomes
    with app.app_context():
        connection = current_maventa().session.get(Connection, connection_id)
        assert (connection.version, connection.error_emails) == (1, winners[0])
        assert len(settings_events(connection_id)) == 1
    return outcomes


def test_two_saves_interleaved_on_postgresql_only_one_wins(tmp_path, postgres_url):
    app = make_app(tmp_path, database_url=postgres_url)
    try:
        outcomes = _interleaved(app, "c1")
    finally:
        with app.app_context():
            app.extensions["test.db"].engine.dispose()
    assert sorted(outcomes.values()) == ["saved", "stale"]  # the loser waited for the row, then found version 1


def test_two_saves_interleaved_on_sqlite_only_one_wins(tmp_path):
    """SQLite has one writer at a time: the loser's UPDATE finds version 1 once the winner committed, or
    finds the database locked (then it changed nothing either): never two winners."""
    outcomes = _interleaved(make_app(tmp_path), "c1")
    loser = next(outcome for outcome in outcomes.values() if outcome != "saved")
    assert loser == "stale" or "database is locked" in loser


def test_a_claim_made_from_a_version_read_before_another_commit_is_refused(connection):
    """The early check passes on what this transaction read; the claim still refuses, because another
    transaction moved the version on meanwhile (read-then-write would have saved both)."""
    versions.check(connection, 0)  # this admin's read: version 0
    other = current_maventa().db.engine.connect()
    with other.begin():
        other.execute(sa.update(Connection).where(Connection.id == connection.id).values(version=Connection.version + 1))
    other.close()
    with pytest.raises(versions.StaleForm):
        versions.claim(connection, 0)
