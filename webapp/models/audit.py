"""The audit trail: who viewed or changed which record, never the token and never free text."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from webapp.db import BaseModel
from webapp.models.people import User
from webapp.timeutil import utcnow


class AuditEvent(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, index=True)
    link = IntegerField(null=True, index=True)  # AccessLink id, when a link was used
    action = CharField(max_length=30)  # view | create | update | delete | login | …
    object_type = CharField(max_length=30)
    object_id = IntegerField(null=True)

    class Meta:
        indexes = ((("object_type", "object_id"), False),)

    @classmethod
    def record(
        cls,
        action: str,
        obj: object | None = None,
        user: User | None = None,
        link: int | None = None,
        object_type: str | None = None,
    ) -> None:
        """Write one event; the acting user defaults to whoever is logged in."""
        if user is None and link is None:
            from flask_login import current_user

            if current_user and current_user.is_authenticated:
                user = current_user._get_current_object()
        cls.create(
            user=user,
            link=link,
            action=action,
            object_type=object_type or type(obj).__name__.lower(),
            object_id=getattr(obj, "id", None),
        )
