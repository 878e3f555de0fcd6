"""Capability links: personal URLs for clients, providers and referrers, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from peewee import CharField, DateTimeField, Field, ForeignKeyField

from webapp.db import BaseModel, Prepared, Rows
from webapp.models.offer import Activity, Enrolment, Provider, Session
from webapp.models.people import Client, User
from webapp.models.referrals import ReferringOrganisation
from webapp.timeutil import utcnow

PURPOSES = ("client", "provider", "referral")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccessLink(BaseModel):
    purpose = CharField(max_length=10, index=True)
    token_hash = CharField(max_length=64, unique=True)
    client = ForeignKeyField(Client, null=True, index=True, on_delete="CASCADE")
    client_id: Field[int | None]
    enrolment = ForeignKeyField(Enrolment, null=True, index=True, on_delete="CASCADE")
    enrolment_id: Field[int | None]
    session = ForeignKeyField(Session, null=True, index=True, on_delete="CASCADE")
    session_id: Field[int | None]
    # A provider's link for all our participants' sessions in [period_start, period_end).
    provider = ForeignKeyField(Provider, null=True, index=True, on_delete="CASCADE")
    provider_id: Field[int | None]
    period_start = DateTimeField(null=True)
    period_end = DateTimeField(null=True)
    organisation = ForeignKeyField(
        ReferringOrganisation, null=True, index=True, on_delete="CASCADE"
    )
    organisation_id: Field[int | None]
    created_by = ForeignKeyField(User, null=True, index=True)
    created_by_id: Field[int | None]
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()

    @classmethod
    def issue(
        cls, purpose: str, valid_for: dt.timedelta, created_by: User | None, **target: object
    ) -> tuple[AccessLink, str]:
        """Revoke the previous link for the same target and purpose, make a new one.

        Returns the link and its token; the token is never stored, only its SHA-256.
        """
        assert purpose in PURPOSES
        now = utcnow()
        previous = cls.update(revoked_at=now).where(
            cls.purpose == purpose, cls.revoked_at.is_null()
        )
        for field, value in target.items():
            previous = previous.where(getattr(cls, field) == value)
        if "provider" in target:
            # Several mediators share a provider's week: each renews only their own link.
            previous = previous.where(cls.created_by == created_by)
        previous.execute()
        token = secrets.token_urlsafe(32)
        link = cls.create(
            purpose=purpose,
            token_hash=token_hash(token),
            created_by=created_by,
            expires_at=now + valid_for,
            **target,
        )
        return link, token

    @classmethod
    def find(cls, purpose: str, token: str) -> AccessLink | None:
        """The link for this token and purpose, usable or not; None when it never existed."""
        if not token or len(token) > 100:
            return None
        return cls.get_or_none(cls.purpose == purpose, cls.token_hash == token_hash(token))

    @classmethod
    def current(cls, purpose: str, now: dt.datetime | None = None):  # type: ignore[no-untyped-def]
        """Links for a purpose that are neither revoked nor expired (at `now`), newest first."""
        return (
            cls.select()
            .where(
                cls.purpose == purpose, cls.revoked_at.is_null(), cls.expires_at > (now or utcnow())
            )
            .order_by(cls.created_at.desc(), cls.id.desc())
        )

    @classmethod
    def revoke_for(cls, **target: object) -> None:
        """Revoke every link still open for a target (enrolment=…): each stops working now."""
        query = cls.update(revoked_at=utcnow()).where(cls.revoked_at.is_null())
        for field, value in target.items():
            query = query.where(getattr(cls, field) == value)
        query.execute()

    def revoke(self) -> None:
        self.revoked_at = utcnow()
        AccessLink.update(revoked_at=self.revoked_at).where(AccessLink.id == self.id).execute()

    def mark_used(self) -> None:
        """Stamp the last use; called only for actions (POST), never when a page is opened."""
        self.last_used_at = utcnow()
        AccessLink.update(last_used_at=self.last_used_at).where(AccessLink.id == self.id).execute()


# The client's current link, on the case page (see db.Prepared).
_client_link = Prepared(
    lambda client_id, now: (
        AccessLink.current("client", now).where(AccessLink.client == client_id).limit(1)
    )
)


def current_client_link(client_id: int) -> Rows[AccessLink]:
    """The client's link that is neither revoked nor expired, the newest: one row or none (one
    query, read when first used)."""
    return _client_link.rows(client_id, utcnow())


def _provider_links_of(case_id: int, user_id: int, now: dt.datetime):  # type: ignore[no-untyped-def]
    working = AccessLink.current("provider", now).order_by()
    of_enrolments = working.join(Enrolment, on=(AccessLink.enrolment == Enrolment.id)).where(
        Enrolment.case == case_id
    )
    providers = Activity.select(Activity.provider).join(Enrolment).where(Enrolment.case == case_id)
    week_links = working.where(AccessLink.created_by == user_id, AccessLink.provider.in_(providers))
    # Two queries in one, each along its own index (an OR of the two would read every link).
    return of_enrolments.union_all(week_links)


_provider_links_of_case = Prepared(_provider_links_of)


def current_provider_links_of_case(case_id: int, user_id: int) -> Rows[AccessLink]:
    """The attendance links that still work for the case's enrolments, and the week links
    `user_id` made for the providers of its activities (every participant's sessions there),
    newest first (one query, read when first used)."""

    def newest_first(links: list[AccessLink]) -> list[AccessLink]:
        return sorted(links, key=lambda link: (link.created_at, link.id), reverse=True)

    return _provider_links_of_case.rows(case_id, user_id, utcnow(), finish=newest_first)
