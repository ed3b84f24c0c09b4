"""Times on our pages: stored in UTC (naive), shown in one configured zone, the zone always named.

The zone is MAVENTA_TIMEZONE, else the host's Flask-Babel BABEL_DEFAULT_TIMEZONE, else UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app


class ZoneUnknown(ValueError):
    """The configured time zone is not an IANA zone name."""


def zone_of(config: Mapping[str, object]) -> tzinfo:
    name = config.get("MAVENTA_TIMEZONE") or config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"
    if name == "UTC":  # no zone database needed
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        key = "MAVENTA_TIMEZONE" if config.get("MAVENTA_TIMEZONE") else "BABEL_DEFAULT_TIMEZONE"
        raise ZoneUnknown(f"{key} is {name!r}, which is no time zone; use an IANA name such as "
                          "'Europe/Helsinki' or 'UTC'.") from None


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """``moment`` (naive UTC, as stored) in the configured zone, with the zone's name: ``2026-11-30 14:05 EET``."""
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    local = aware.astimezone(zone_of(current_app.config))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def utc_day(day: date, *, end: bool = False) -> datetime:
    """The first (or, with ``end``, the last) moment of ``day`` in the configured zone, as stored: naive UTC.

    A day the user picks is a day where they are: in Oslo, "30 November" starts at 23:00 UTC the day before.
    """
    local = datetime.combine(day, time.max if end else time.min, tzinfo=zone_of(current_app.config))
    try:
        return local.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # the first or last day a datetime can hold, in a zone away from UTC
        return datetime.max if end else datetime.min  # noqa: DTZ901 - stored times are naive UTC
