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
    from .extension import current_maventa
    from .models import metadata

    metadata.create_all(current_maventa().db.engine)
    click.echo("Created the maventa_* tables.")


@maventa_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Run the extension's Alembic migrations (its own version table: maventa_alembic_version)."""
    from .migrations import upgrade as run_upgrade

    run_upgrade(revision)
    click.echo(f"maventa_* tables are at {revision}.")


@maventa_cli.command("generate-key")
def generate_key() -> None:
    """Print a new MAVENTA_SECRET_KEY (Fernet key) for encrypting API keys at rest."""
    from .crypto import generate_key as new_key

    click.echo(new_key())


@maventa_cli.command("config")
def show_config() -> None:
    """Print the effective MAVENTA_* configuration (secrets masked)."""
    from .config import DEFAULTS

    for key in DEFAULTS:
        value = current_app.config.get(key)
        if value and any(word in key for word in ("KEY", "PASSWORD", "SECRET")):
            value = "********"
        click.echo(f"{key} = {value!r}")


# Commands that live beside the code they run ("module:attribute"); each area adds its line.
COMMANDS = [
    "flask_maventa.ubl:render_ubl_command",
    "flask_maventa.ubl:check_command",
    "flask_maventa.worker:worker_command", "flask_maventa.worker:scheduler_command",
    "flask_maventa.worker:sweep_command", "flask_maventa.worker:doctor_command",
]


def _add_area_commands() -> None:
    for spec in COMMANDS:
        module, _, attr = spec.partition(":")
        maventa_cli.add_command(getattr(import_module(module), attr))


_add_area_commands()
