"""Time: stored in UTC (naive), shown in Europe/Brussels."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Brussels")


def utcnow() -> dt.datetime:
    """The current time in UTC, without tzinfo, as the database stores it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def to_local(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC).astimezone(LOCAL)


def to_utc(local: dt.datetime) -> dt.datetime:
    """A naive Brussels wall-clock time as naive UTC."""
    return local.replace(tzinfo=LOCAL).astimezone(dt.UTC).replace(tzinfo=None)


def local_today() -> dt.date:
    return dt.datetime.now(LOCAL).date()


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC start and end of a Brussels calendar day."""
    start = to_utc(dt.datetime.combine(day, dt.time()))
    end = to_utc(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    return start, end
