"""The second factor (an authenticator app's codes and one-time recovery codes), the team's
security settings, and the security log a coordinator reads under Team → Beveiliging."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import time
from typing import Any

import pyotp
from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from peewee import (
    JOIN,
    CharField,
    DateTimeField,
    Field,
    ForeignKeyField,
    IntegerField,
    Select,
    fn,
)

from webapp.db import BaseModel, Prepared, database
from webapp.models.people import User
from webapp.timeutil import utcnow

security_log = logging.getLogger("vrijbaan.security")

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed
SECURITY_LOG_KEPT = dt.timedelta(days=365)
SECOND_FACTOR_FOR_ALL = "second_factor_for_all"

# What each kind of event means, for the Beveiliging page (and its filter).
SECURITY_EVENTS = {
    "login-failed": _l("Aanmelden mislukt"),
    "login-throttled": _l("Aanmelden geweigerd: te veel pogingen"),
    "account-locked": _l("Account op slot na te veel pogingen"),
    "second-factor-failed": _l("Verkeerde code bij de tweede stap"),
    "second-factor-throttled": _l("Tweede stap geweigerd: te veel pogingen"),
    "recovery-code-used": _l("Aangemeld met een herstelcode"),
    "second-factor-enabled": _l("Tweede stap ingesteld"),
    "second-factor-reset": _l("Tweede stap gewist door een coördinator"),
    "team-second-factor": _l("Tweede stap voor iedereen aan- of uitgezet"),
    "reauth-failed": _l("Bevestigen dat jij het bent mislukt"),
    "password-check-failed": _l("Verkeerd huidig wachtwoord bij wijzigen"),
    "csrf": _l("Formulier geweigerd: ongeldig of verlopen"),
    "case-denied": _l("Dossier van iemand anders gevraagd"),
    "link-unknown": _l("Onbekende link geprobeerd"),
    "link-throttled": _l("Links geweigerd: te veel pogingen"),
    "vraag-throttled": _l("Vraag via /vraag geweigerd: te veel na elkaar"),
}


class SecondFactor(BaseModel):
    """A team member's authenticator app: the shared TOTP secret, and the last time step whose
    code was accepted (a code is good once: one seen over someone's shoulder is spent)."""

    user = ForeignKeyField(User, unique=True, on_delete="CASCADE")
    user_id: Field[int]
    secret = CharField(max_length=64)
    confirmed_at = DateTimeField(default=utcnow)
    last_step = IntegerField(null=True)

    @staticmethod
    def new_secret() -> str:
        return pyotp.random_base32()

    @staticmethod
    def uri(secret: str, email: str) -> str:
        """What the QR code holds: the otpauth:// address authenticator apps read."""
        return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Vrijbaan")

    @staticmethod
    def code_fits(secret: str, code: str) -> int | None:
        """The time step (now, or one before or after, for a phone clock that is a little off)
        whose code this is; None when it is none of them."""
        digits = re.sub(r"\s", "", code or "")
        if not re.fullmatch(r"[0-9]{6}", digits):
            return None
        totp = pyotp.TOTP(secret)
        now = int(time.time()) // totp.interval
        for step in (now - 1, now, now + 1):
            if hmac.compare_digest(totp.generate_otp(step), digits):
                return step
        return None

    @classmethod
    def of(cls, user: User) -> SecondFactor | None:
        return cls.get_or_none(cls.user == user.id)

    def accept(self, code: str) -> bool:
        """True when the code fits and its time step was not used before: the step is claimed
        in one UPDATE, so two requests racing with the same code cannot both pass."""
        step = self.code_fits(self.secret, code)
        if step is None:
            return False
        claimed = (
            SecondFactor.update(last_step=step)
            .where(
                SecondFactor.id == self.id,
                SecondFactor.last_step.is_null() | (SecondFactor.last_step < step),
            )
            .execute()
        )
        return claimed == 1

    @classmethod
    def switch_on(cls, user: User, secret: str, step: int) -> list[str]:
        """Store the confirmed secret (the step of the confirming code is spent) and make new
        recovery codes; returns the codes, which are never stored in clear."""
        with database.atomic():
            cls.delete().where(cls.user == user.id).execute()
            cls.create(user=user, secret=secret, last_step=step)
            return RecoveryCode.replace_for(user)

    @classmethod
    def remove_for(cls, user: User) -> None:
        """Forget the app and the recovery codes (a lost phone; a coordinator's reset)."""
        with database.atomic():
            cls.delete().where(cls.user == user.id).execute()
            RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()


class RecoveryCode(BaseModel):
    """A one-time code for a lost phone; only its SHA-256 is kept (the codes are random, like a
    link's token, so a slow hash adds nothing)."""

    user = ForeignKeyField(User, on_delete="CASCADE", index=True)
    user_id: Field[int]
    code_hash = CharField(max_length=64, unique=True)
    used_at = DateTimeField(null=True)

    @staticmethod
    def normalise(code: str) -> str:
        return re.sub(r"[\s-]", "", (code or "").lower())

    @staticmethod
    def hash(code: str) -> str:
        return hashlib.sha256(RecoveryCode.normalise(code).encode()).hexdigest()

    @classmethod
    def replace_for(cls, user: User) -> list[str]:
        """Ten new codes ("abcde-fghjk"); the old ones stop working."""
        codes = [
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
            for _ in range(RECOVERY_CODES)
        ]
        with database.atomic():
            cls.delete().where(cls.user == user.id).execute()
            for code in codes:
                cls.create(user=user, code_hash=cls.hash(code))
        return [f"{code[:5]}-{code[5:]}" for code in codes]

    @classmethod
    def use(cls, user: User, code: str) -> bool:
        """Spend one code; True only the first time (one UPDATE: no double use in a race)."""
        if len(cls.normalise(code)) != 10:
            return False
        spent = (
            cls.update(used_at=utcnow())
            .where(cls.user == user.id, cls.code_hash == cls.hash(code), cls.used_at.is_null())
            .execute()
        )
        return spent == 1

    @classmethod
    def left_for(cls, user: User) -> int:
        return cls.select().where(cls.user == user.id, cls.used_at.is_null()).count()


class TeamSetting(BaseModel):
    """A switch a coordinator sets for the whole team, e.g. the second factor for everyone."""

    key = CharField(max_length=40, unique=True)
    value = CharField(max_length=200, default="")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, index=True, on_delete="SET NULL")
    updated_by_id: Field[int | None]

    @classmethod
    def is_on(cls, key: str) -> bool:
        """On every request (the second factor for all): prepared, see db.Prepared."""
        return _setting_on.first(key) is not None

    @classmethod
    def switch(cls, key: str, on: bool, by: User | None) -> None:
        (
            cls.insert(key=key, value="1" if on else "0", updated_at=utcnow(), updated_by=by)
            .on_conflict(
                conflict_target=[cls.key],
                update={
                    cls.value: "1" if on else "0",
                    cls.updated_at: utcnow(),
                    cls.updated_by: by,
                },
            )
            .execute()
        )


def second_factor_required(user: User) -> bool:
    """Coordinators always; everyone once a coordinator switched it on for the team."""
    return bool(user.is_coordinator) or TeamSetting.is_on(SECOND_FACTOR_FOR_ALL)


def without_second_factor() -> Any:
    """The condition for the active team members who have not set up an app yet."""
    has_app = SecondFactor.select(SecondFactor.id).where(SecondFactor.user == User.id)
    return (User.active == True) & ~fn.EXISTS(has_app)  # noqa: E712


def users_without_second_factor() -> Select:
    """Active team members who have not set up an app yet, by name (one query)."""
    return User.select().where(without_second_factor()).order_by(User.name, User.id)


class SecurityEvent(BaseModel):
    """Something a security officer wants to see: a failed login, a refused form, a try at
    someone else's case or at an unknown link. `user` is the account it concerns, when known.
    Never a token, password, code or free text: the route is the endpoint's name, not its path."""

    at = DateTimeField(default=utcnow, index=True)
    kind = CharField(max_length=30, index=True)
    user = ForeignKeyField(User, null=True, index=True, on_delete="SET NULL")
    user_id: Field[int | None]
    address = CharField(max_length=45, default="")
    route = CharField(max_length=80, default="")

    @classmethod
    def record(cls, kind: str, user: User | int | None = None) -> None:
        """Write one event as a row and as a log line (key=value) on `vrijbaan.security`."""
        address = route = ""
        if has_request_context():
            address = (request.remote_addr or "")[:45]
            route = (request.endpoint or "")[:80]
        user_id = user.id if isinstance(user, User) else user
        security_log.warning(
            "security-event kind=%s user=%s address=%s route=%s",
            kind,
            user_id if user_id is not None else "-",
            address or "-",
            route or "-",
        )
        cls.create(kind=kind, user=user_id, address=address, route=route)

    @property
    def label(self) -> str:
        return str(SECURITY_EVENTS.get(self.kind, self.kind))

    @classmethod
    def newest(cls, kind: str | None = None, before: int | None = None) -> Select:
        """Newest first with the person concerned; with `before`, only what came before that
        event (pages hold while new events arrive). One query."""
        query = cls.select(cls, User).join(User, JOIN.LEFT_OUTER)
        if kind:
            query = query.where(cls.kind == kind)
        if before is not None:
            mark = cls.alias("mark")
            at = mark.select(mark.at).where(mark.id == before)
            query = query.where((cls.at < at) | ((cls.at == at) & (cls.id < before)))
        return query.order_by(cls.at.desc(), cls.id.desc())

    @classmethod
    def prune(cls, now: dt.datetime | None = None) -> int:
        """Delete what is older than the 12 months the log is kept; returns how many."""
        cutoff = (now or utcnow()) - SECURITY_LOG_KEPT
        return cls.delete().where(cls.at < cutoff).execute()


_setting_on = Prepared(
    lambda key: (
        TeamSetting.select(TeamSetting.id)
        .where(TeamSetting.key == key, TeamSetting.value == "1")
        .limit(1)
    )
)
