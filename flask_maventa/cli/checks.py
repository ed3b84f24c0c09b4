"""``flask maventa doctor | config``: is the integration set up right, and with what."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..runtime import doctor


@click.command("doctor")
@with_appcontext
@click.option("--live", is_flag=True, help="Also check, read-only, what we assume of Maventa beyond its swagger.")
def doctor_command(live: bool) -> None:
    """Check the configuration, database, Redis, workers, scheduler and each company; print fixes."""
    if doctor.run(live=live):
        raise SystemExit(1)


@click.command("config")
@with_appcontext
def show_config() -> None:
    """Print the effective MAVENTA_* configuration (secrets masked)."""
    from ..infra.config import DEFAULTS

    for key in DEFAULTS:
        value = current_app.config.get(key)
        if value and any(word in key for word in ("KEY", "PASSWORD", "SECRET")):
            value = "********"
        click.echo(f"{key} = {value!r}")
