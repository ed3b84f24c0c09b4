"""What the long-running processes ask of the host's database before they start."""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger("flask_maventa.runtime")


def use_wal(app: Flask) -> str | None:
    """On SQLite, switch the database file to write-ahead logging (MAVENTA_SQLITE_WAL); returns the mode.

    The web process, the workers and the scheduler all write to the one file. In SQLite's default
    rollback-journal mode a reader blocks every writer and each commit syncs three times (~16 ms on a
    disk): transfers then queue behind each other and ``database is locked`` follows. In WAL mode readers
    and the writer no longer block each other and a commit costs a fraction. The mode is stored in the
    file, so one switch serves every process; durability is unchanged (``synchronous`` is left alone).
    Not for a database on a network filesystem: set MAVENTA_SQLITE_WAL = False there.
    """
    import sqlalchemy as sa

    with app.app_context():
        engine = app.extensions["maventa"].db.engine
        if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return None
        try:
            with engine.connect() as connection:
                if not app.config["MAVENTA_SQLITE_WAL"]:
                    return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar())
                mode = str(connection.exec_driver_sql("PRAGMA journal_mode=WAL").scalar())
        except sa.exc.SQLAlchemyError as exc:  # the database is away: the process waits for it elsewhere
            log.warning("could not set SQLite's journal mode (%s); tried again at the next start", type(exc).__name__)
            return None
        if mode.lower() != "wal":
            log.warning("SQLite stayed in %s mode (another connection busy?); it is tried again at the next start",
                        mode)
        return mode
