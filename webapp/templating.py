"""Template filters and globals: Brussels times, money, labels of coded values."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_babel import gettext as _

from webapp import models
from webapp.timeutil import local_today, to_local


def local_datetime(value: dt.datetime | None, fmt: str = "EEE d MMM HH:mm") -> str:
    """A stored UTC time shown in Brussels, e.g. 'do 26 nov. 14:30'."""
    return format_datetime(value, fmt) if value else ""


def local_time(value: dt.datetime | None) -> str:
    return format_time(value, "HH:mm") if value else ""


def short_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    return format_date(value, "d MMM yyyy" if value.year != local_today().year else "d MMM")


def day_label(value: dt.date | dt.datetime | None) -> str:
    """'vandaag', 'morgen', 'gisteren' or the date."""
    if value is None:
        return ""
    day = to_local(value).date() if isinstance(value, dt.datetime) else value
    delta = (day - local_today()).days
    # Only the word needed is translated: a list calls this for every row.
    if delta == 0:
        return _("vandaag")
    if delta == 1:
        return _("morgen")
    if delta == -1:
        return _("gisteren")
    return short_date(day)


def ui_language() -> str:
    """The language the page is shown in, for <html lang>: 'nl', 'en', or a link page's own."""
    return str(get_locale() or "nl")


def money(cents: int | None) -> str:
    if cents is None:
        return ""
    if cents == 0:
        return _("gratis")
    euros, rest = divmod(cents, 100)
    return f"€ {euros},{rest:02d}" if rest else f"€ {euros}"


def init_app(app: Flask) -> None:
    app.add_template_filter(local_datetime)
    app.add_template_filter(local_time)
    app.add_template_filter(short_date)
    app.add_template_filter(day_label)
    app.add_template_filter(money)
    app.add_template_filter(models.international_phone)
    app.add_template_global(local_today)
    app.add_template_global(ui_language)
    app.jinja_env.globals.update(
        CONTACT_TYPES=models.CONTACT_TYPES,
        OUTCOMES=models.OUTCOMES,
        STOP_REASONS=models.STOP_REASONS,
        DOMAINS=models.DOMAINS,
        LANGUAGES=models.LANGUAGES,
        DISTRICTS=models.DISTRICTS,
        SERVICES=models.SERVICES,
        ROLES=models.ROLES,
        CARD_TYPES=models.CARD_TYPES,
        STEP_STATUSES=models.STEP_STATUSES,
        CASE_SOURCES=models.CASE_SOURCES,
        FIRST_CONTACT={**models.FIRST_CONTACT, **models.SELF_FIRST_CONTACT},
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
