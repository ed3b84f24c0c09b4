"""``flask maventa …``: the commands a host's developers and operators run."""

from __future__ import annotations

from importlib import import_module

import click
from flask import current_app
from flask.cli import AppGroup

maventa_cli = AppGroup("maventa", help="Maventa e-invoicing: tables, keys, jobs and documents.")


@maventa_cli.command("create-tables")
def create_tables() -> None:
    """Create the maventa_* tables directly (development; use `upgrade` in production)."""
    from ..extension import current_maventa
    from ..infra.models import metadata

    metadata.create_all(current_maventa().db.engine)
    click.echo("Created the maventa_* tables.")


@maventa_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Run the extension's Alembic migrations (its own version table: maventa_alembic_version)."""
    from ..infra.migrations import upgrade as run_upgrade

    run_upgrade(revision)
    click.echo(f"maventa_* tables are at {revision}.")


@maventa_cli.command("generate-key")
def generate_key() -> None:
    """Print a new MAVENTA_SECRET_KEY (Fernet key) for encrypting API keys at rest."""
    from ..infra.crypto import generate_key as new_key

    click.echo(new_key())


@maventa_cli.command("rotate-secrets")
@click.option("--batch-size", default=500, show_default=True, help="Rows read and committed at a time.")
def rotate_secrets(batch_size: int) -> None:
    """Re-encrypt every stored User API key with the first key of MAVENTA_SECRET_KEY.

    Put the new key first (comma-separated, the old one after it), restart, run this, then remove the
    old key. Safe to run again: keys already under the new key are left alone.
    """
    import sqlalchemy as sa

    from ..extension import current_maventa
    from ..infra.crypto import SecretUnreadable
    from ..infra.models import Connection

    ext = current_maventa()
    box, session = ext.secrets(), ext.session
    counts = {"rotated": 0, "current": 0, "changed meanwhile": 0}
    unreadable: list[str] = []
    last_id = 0
    while True:
        rows = session.execute(
            sa.select(Connection.id, Connection.company_id, Connection.api_key_encrypted)
            .where(Connection.id > last_id, Connection.api_key_encrypted.is_not(None))
            .order_by(Connection.id).limit(max(1, batch_size))).all()
        if not rows:
            break
        for row_id, company_id, stored in rows:
            try:
                rotated = box.rotate(stored)
            except SecretUnreadable:
                unreadable.append(company_id)
                continue
            if rotated is None:
                counts["current"] += 1
                continue
            # Only if nobody saved a new key meanwhile (that one is under the new key already).
            written = session.execute(
                sa.update(Connection).where(Connection.id == row_id, Connection.api_key_encrypted == stored)
                .values(api_key_encrypted=rotated)).rowcount
            counts["rotated" if written else "changed meanwhile"] += 1
        session.commit()
        last_id = rows[-1][0]
    click.echo(f"User API keys: {counts['rotated']} re-encrypted, {counts['current']} already under the newest "
               f"key, {counts['changed meanwhile']} changed meanwhile, {len(unreadable)} unreadable.")
    if unreadable:
        click.echo("No key of MAVENTA_SECRET_KEY can read the keys of companies " + ", ".join(unreadable)
                   + ": put back the key they were stored with, or enter their User API keys again.", err=True)
        raise SystemExit(1)


@maventa_cli.command("config")
def show_config() -> None:
    """Print the effective MAVENTA_* configuration (secrets masked)."""
    from ..infra.config import DEFAULTS

    for key in DEFAULTS:
        value = current_app.config.get(key)
        if value and any(word in key for word in ("KEY", "PASSWORD", "SECRET")):
            value = "********"
        click.echo(f"{key} = {value!r}")


# Commands that live beside the code they run ("module:attribute"); each area adds its line.
COMMANDS = [
    "flask_maventa.document.ubl:render_ubl_command",
    "flask_maventa.document.ubl:check_command",
    "flask_maventa.cli.processes:worker_command", "flask_maventa.cli.processes:scheduler_command",
    "flask_maventa.cli.processes:sweep_command", "flask_maventa.runtime.doctor:doctor_command",
]


def _add_area_commands() -> None:
    for spec in COMMANDS:
        module, _, attr = spec.partition(":")
        maventa_cli.add_command(getattr(import_module(module), attr))


_add_area_commands()
