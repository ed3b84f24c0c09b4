"""A save while the database refuses writes for now (SQLite's "database is locked": another process holds the
file's write lock) gets a clear message, changes nothing, and goes through once the database is free."""

from __future__ import annotations

import sqlite3

import pytest

from flask_maventa.extension import current_maventa

from .conftest import HTMX, PREFIX, offline_connection
from .test_settings_form import URL, form, snapshot, stored

# A short wait for SQLite's lock, so the test does not sit out the default 5 s.
pytestmark = pytest.mark.settings(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})


@pytest.mark.parametrize("htmx", [True, False])
def test_a_save_while_the_database_is_locked_says_so_and_changes_nothing(client, db, htmx):
    before = snapshot(offline_connection(saved=False))
    data = form(client, error_emails="new@fjord.example")
    # Another connection takes the database file's write lock, as a busy worker's transaction does.
    write_lock = sqlite3.connect(current_maventa().db.engine.url.database, isolation_level=None)
    write_lock.execute("BEGIN IMMEDIATE")

    response = client.post(URL, data=data, headers=HTMX if htmx else {})
    html = response.get_data(as_text=True)
    assert "The database is busy or cannot be reached right now, so this was not saved" in html
    if htmx:  # htmx swaps no error status: a 200 whose message goes to the top of the page
        assert response.status_code == 200
        assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == (".maventa", "afterbegin")
        assert 'role="alert"' in html and "<html" not in html
    else:
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert snapshot(stored(db)) == before

    # Reading still works while another connection holds the write lock; a page that cannot be read says so.
    assert client.get(f"{PREFIX}/companies/c1").status_code == 200
    write_lock.execute("ROLLBACK")  # the other transaction ends: the same save now goes through
    write_lock.close()
    assert client.post(URL, data=data, headers=HTMX).status_code == 200
    assert stored(db).error_emails == "new@fjord.example"


def test_a_page_the_database_cannot_serve_says_so_without_talk_of_saving(client, db):
    offline_connection()
    lock = sqlite3.connect(current_maventa().db.engine.url.database, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # no reader either (the test database keeps SQLite's rollback journal)
    try:
        response = client.get(f"{PREFIX}/companies/c1")
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "The database is busy or cannot be reached right now. Try again in a moment." in html
    assert "not saved" not in html
    assert client.get(f"{PREFIX}/companies/c1").status_code == 200  # and the next look works
