"""Walk-in hours (permanenties): where and when people can come by without an appointment,
kept by coordinators and shown on the public /vraag page and its poster."""

from __future__ import annotations

import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, IntegerField, TimeField

from webapp.db import BaseModel
from webapp.timeutil import utcnow

WEEKDAYS = range(1, 8)  # ISO: 1 is Monday; names come from babel in the page's language


class WalkInHours(BaseModel):
    place = CharField(max_length=100)
    address = CharField(max_length=160)
    weekday = IntegerField()
    starts = TimeField()
    ends = TimeField()
    note = CharField(max_length=200, default="")
    active = BooleanField(default=True, index=True)
    created_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)  # an edit made on an older version is refused (409)

    @classmethod
    def shown(cls):  # type: ignore[no-untyped-def]
        """The hours people can come by, in the order of the week (one query)."""
        return (
            cls.select()
            .where(cls.active == True)  # noqa: E712
            .order_by(cls.weekday, cls.starts, cls.place, cls.id)
        )

    @classmethod
    def listed(cls):  # type: ignore[no-untyped-def]
        """Every row for the coordinator's page: the active ones first."""
        return cls.select().order_by(cls.active.desc(), cls.weekday, cls.starts, cls.id)

    @property
    def hours(self) -> str:
        return f"{_hhmm(self.starts)}–{_hhmm(self.ends)}"


def _hhmm(value: dt.time | str) -> str:
    if isinstance(value, str):  # SQLite hands back text for a time column read raw
        return value[:5]
    return value.strftime("%H:%M")
