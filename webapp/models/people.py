"""The people in the database: team members (users) and the clients they guide."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKeyField,
    IntegerField,
    TextField,
    Value,
    fn,
)
from peewee import Case as SqlCase
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.db import BaseModel, Prepared
from webapp.models.search import (
    Searchable,
    fold,
    like,
    name_parts,
    phone_forms,
    whole_part,
)
from webapp.timeutil import local_today, utcnow

PASSWORD_METHOD = "pbkdf2:sha256:600000"  # noqa: S105 (a method name, not a password)
# The hash of a random password nobody knows, at the cost of a real one: checked instead when the
# e-mail address is unknown or the account closed, so that every failed login costs the same
# time (no guessing which addresses have an account from how long the answer takes).
UNKNOWN_ACCOUNT_HASH = (
    "pbkdf2:sha256:600000$IpL0Ip9nEoHqXvZA$"
    "105728df46024ce9ba789be22b3b232adb295ce66574861688dbf23eb232ce6e"
)

ROLES = {"mediator": _l("bemiddelaar"), "coordinator": _l("coördinator")}
SERVICES = {"ocmw": "OCMW", "jeugd": "Jeugddienst", "cultuur": "Cultuur", "sport": "Sporting A"}
LANGUAGES = {
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "ro": "Română",
    "bg": "Български",
    "uk": "Українська",
    "es": "Español",
    "prs": "دری",
    "ps": "پښتو",
    "so": "Soomaali",
    "ti": "ትግርኛ",
    "zgh": "Tamaziɣt",
}
DISTRICTS = [
    "Antwerpen",
    "Berchem",
    "Berendrecht-Zandvliet-Lillo",
    "Borgerhout",
    "Deurne",
    "Ekeren",
    "Hoboken",
    "Merksem",
    "Wilrijk",
]
ANONYMOUS_FIRST_NAME = "Anoniem"  # an erased client: "Anoniem <id>" (models/privacy.py)
CARD_TYPES = {"": _l("geen"), "uitpas": _l("UiTPAS met kansentarief"), "a-kaart": _l("A-kaart")}
CITY = "Antwerpen"  # every postcode of the team's area belongs to the city of Antwerp


def international_phone(typed: str | None) -> str:
    """A phone number as tel:, sms: and WhatsApp need it: a Belgian number in international form
    (0470 12 34 56 → +32470123456, 03 … → +323…, 0032 … → +32…); a number already given with +
    keeps its digits; any other way of writing it stays as its digits, as typed."""
    text = (typed or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0") and len(digits) in (9, 10):  # 0X XXX XX XX, 04XX XX XX XX
        return "+32" + digits[1:]
    return digits


def postal_address(street: str, postcode: str, district: str = "") -> str:
    """'Turnhoutsebaan 12, 2140 Antwerpen': what a map search finds ('' without a street)."""
    if not street:
        return ""
    town = f"{postcode} {CITY}" if postcode else (district or CITY)
    return f"{street}, {town}"


class User(UserMixin, BaseModel):
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=100)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=20, default="mediator", index=True)
    service = CharField(max_length=20, default="ocmw")
    phone = CharField(max_length=30, default="")
    ui_language = CharField(max_length=5, null=True)  # None: the browser's language
    daily_summary = BooleanField(null=True, default=False)  # an e-mail at 7:00 (messages)
    # The languages this person speaks with clients: comma-separated LANGUAGES keys (nullable:
    # init-db adds it to older databases). Shown when a coordinator chooses who takes a case.
    languages = CharField(max_length=100, null=True)
    # When a coordinator last set this password (they know it): until the person chooses their
    # own, every page asks them to. None: a password of their own.
    password_given_at = DateTimeField(null=True)
    active = BooleanField(default=True, index=True)
    # No longer written: failed logins are counted per e-mail address in Throttle (atomic, and
    # the same for an address without an account). Kept: existing databases have them NOT NULL.
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    version = IntegerField(default=1)  # optimistic locking of the coordinator's edit form
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "users"

    login_key: str = ""  # this request's login session (LoginSession), set at login and load

    # The same person whatever the session: UserMixin would compare get_id(), which holds the key.
    __eq__ = BaseModel.__eq__  # type: ignore[assignment]  # peewee's may build an Expression
    __hash__ = BaseModel.__hash__

    def get_id(self) -> str:
        # What flask-login keeps in the signed cookie: the user and this login's own key.
        return f"{self.id}:{self.login_key}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def replace_password(self, password: str, given: bool = False) -> None:
        """Store a new password for an existing user and lift any lock-out. `given`: a
        coordinator made it (they know it), so the person is asked to choose their own.
        Which sessions end is the caller's choice."""
        self.set_password(password)
        self.password_given_at = utcnow() if given else None
        User.update(
            password_hash=self.password_hash,
            password_given_at=self.password_given_at,
            failed_logins=0,
            locked_until=None,
        ).where(User.id == self.id).execute()
        Throttle.clear(self.login_throttle_key(self.email))

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def password_opens(user: User | None, password: str) -> bool:
        """Whether password logs user in: an active account and its password. Costs one
        password hash whether the account exists, is closed or not (the same time for all)."""
        if user is None:
            check_password_hash(UNKNOWN_ACCOUNT_HASH, password)
            return False
        return user.check_password(password) and bool(user.active)

    @staticmethod
    def login_throttle_key(email: str) -> str:
        """The failed-login counter of an e-mail address, whether it has an account or not."""
        normalised = email.strip().lower().encode()
        return "login-account:" + hashlib.sha256(normalised).hexdigest()[:40]

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return cls.get_or_none(cls.email == email.strip().lower())

    @classmethod
    def from_session_id(cls, user_id: str) -> User | None:
        """The active user of a login session that has not ended or gone idle (one query)."""
        pk, _, key = user_id.partition(":")
        if not (pk.isascii() and pk.isdigit()) or not key:
            return None
        now = utcnow()
        user = _user_of_session.first(
            int(pk), LoginSession.hash(key), *LoginSession.alive_cutoffs(now)
        )
        if user is None:
            return None
        user.login_key = key
        user.login_session.seen(now)
        return user

    def start_session(self, second_factor: bool = False, own_device: bool = False) -> None:
        """A new login session: its key goes into the cookie, only its hash into the database."""
        self.login_key = LoginSession.start(self, second_factor, own_device)

    def end_session(self) -> None:
        """End this login session only (logging out on one phone leaves the others)."""
        key_hash = LoginSession.hash(self.login_key)
        LoginSession.delete().where(LoginSession.key_hash == key_hash).execute()

    @classmethod
    def mediators(cls):  # type: ignore[no-untyped-def]
        """Active team members who can own cases, by name."""
        return cls.select().where(cls.active == True).order_by(cls.name)  # noqa: E712

    @classmethod
    def named(cls, typed: str) -> Any:
        """The condition for the people whose name or e-mail address holds every typed word,
        case and accents folded as in every search ("celik" finds Çelik). A team is a few
        hundred people at most: their names are folded here, not kept folded in the table."""
        words = fold(typed).split()
        if not words:
            return cls.id.is_null(False)
        people = cls.select(cls.id, cls.name, cls.email).tuples()
        return cls.id.in_(
            [i for i, name, email in people if all(w in fold(f"{name} {email}") for w in words)]
        )

    @property
    def language_list(self) -> list[str]:
        return [k for k in (self.languages or "").split(",") if k]

    @property
    def language_names(self) -> list[str]:
        return [LANGUAGES.get(k, k) for k in self.language_list]

    def end_sessions(self) -> None:
        """Log this user out everywhere."""
        LoginSession.delete().where(LoginSession.user == self.id).execute()

    def end_other_sessions(self) -> int:
        """Log this user out on every other device; this login stays. Returns how many ended."""
        return (
            LoginSession.delete()
            .where(
                LoginSession.user == self.id,
                LoginSession.key_hash != LoginSession.hash(self.login_key),
            )
            .execute()
        )

    def open_sessions(self) -> int:
        """How many devices this user is logged in on now."""
        return (
            LoginSession.select()
            .where(LoginSession.user == self.id, LoginSession.alive(utcnow()))
            .count()
        )


class LoginSession(BaseModel):
    """One login on one device. The cookie holds a random key; logging out deletes the row, so a
    copy of the cookie is worthless afterwards. A login ends after 2 hours unused and 12 hours in
    any case; on the person's own device that passed the second factor, after 8 hours unused
    and 7 days in any case (README, "Sessions")."""

    IDLE = dt.timedelta(hours=2)
    LIFETIME = dt.timedelta(hours=12)
    OWN_DEVICE_IDLE = dt.timedelta(hours=8)
    OWN_DEVICE_LIFETIME = dt.timedelta(days=7)
    TOUCH_EVERY = dt.timedelta(minutes=5)

    user = ForeignKeyField(User, backref="login_sessions", on_delete="CASCADE", index=True)
    user_id: Field[int]
    key_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow, index=True)
    # When the person last proved it is them (password, code): erasing and other grave actions
    # ask again after 10 minutes.
    verified_at = DateTimeField(null=True)
    second_factor = BooleanField(null=True, default=False)  # this login passed the second factor
    own_device = BooleanField(null=True, default=False)  # ... on a device marked as their own

    class Meta:
        table_name = "login_sessions"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def alive(cls, now: dt.datetime):  # type: ignore[no-untyped-def]
        """The condition for a session that has neither gone idle nor outlived its lifetime."""
        return cls.alive_since(*cls.alive_cutoffs(now))

    @classmethod
    def alive_cutoffs(cls, now: dt.datetime) -> tuple[dt.datetime, ...]:
        """Seen since, started since; and the same on an own device."""
        return (
            now - cls.IDLE,
            now - cls.LIFETIME,
            now - cls.OWN_DEVICE_IDLE,
            now - cls.OWN_DEVICE_LIFETIME,
        )

    @classmethod
    def alive_since(  # type: ignore[no-untyped-def]
        cls,
        seen: dt.datetime,
        started: dt.datetime,
        own_seen: dt.datetime,
        own_started: dt.datetime,
    ):
        own_device = fn.COALESCE(cls.own_device, False) == True  # noqa: E712
        return ((cls.last_seen_at > seen) & (cls.created_at > started)) | (
            own_device & (cls.last_seen_at > own_seen) & (cls.created_at > own_started)
        )

    @classmethod
    def start(cls, user: User, second_factor: bool = False, own_device: bool = False) -> str:
        """Open a session for user and return its key; sessions long gone are cleared away.
        Only while the account is still active with the password hash that was checked: a
        deactivation or password reset made while the login ran wins ("" then)."""
        now = utcnow()
        cls.delete().where(~cls.alive(now)).execute()
        key = secrets.token_urlsafe(32)
        unchanged = User.select(
            User.id,
            Value(cls.hash(key)),
            Value(now),
            Value(now),
            Value(now),
            Value(second_factor),
            Value(own_device and second_factor),
        ).where(
            User.id == user.id,
            User.active == True,  # noqa: E712
            User.password_hash == user.password_hash,
        )
        columns = [
            cls.user,
            cls.key_hash,
            cls.created_at,
            cls.last_seen_at,
            cls.verified_at,
            cls.second_factor,
            cls.own_device,
        ]
        cls.insert_from(unchanged, columns).execute()
        return key if cls.select().where(cls.key_hash == cls.hash(key)).exists() else ""

    def seen(self, now: dt.datetime) -> None:
        """Keep the session alive; written at most every few minutes, not on every request."""
        if self.last_seen_at < now - self.TOUCH_EVERY:
            LoginSession.update(last_seen_at=now).where(LoginSession.id == self.id).execute()


# The user of a login session, on every request: prepared (see db.Prepared).
_user_of_session = Prepared(
    lambda user_id, key_hash, *cutoffs: (
        User.select(User, LoginSession)
        .join(LoginSession, attr="login_session")
        .where(
            User.id == user_id,
            User.active == True,  # noqa: E712
            LoginSession.key_hash == key_hash,
            LoginSession.alive_since(*cutoffs),
        )
        .limit(1)
    )
)


class Client(Searchable, BaseModel):
    first_name = CharField(max_length=80)
    last_name = CharField(max_length=80)
    birth_date = DateField(null=True)
    phone = CharField(max_length=30, default="")
    email = CharField(max_length=254, default="")
    street = CharField(max_length=120, default="")
    postcode = CharField(max_length=4, default="")
    district = CharField(max_length=40, default="", index=True)
    language = CharField(max_length=5, default="nl")
    # Nullable so that init-db adds it to an existing database: None there means "not asked
    # yet", shown and edited as no.
    needs_interpreter = BooleanField(null=True, default=False)
    household_note = TextField(default="")
    card_type = CharField(max_length=20, default="")
    card_valid_until = DateField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)
    # Consent to reminders by SMS: when, and the words agreed to; stopped by the client's link.
    messages_consent_at = DateTimeField(null=True)
    messages_consent_wording = CharField(max_length=300, null=True)
    messages_stopped_at = DateTimeField(null=True)
    # Folded name, district, e-mail and phone forms, kept by the model (models/search.py).
    search_text = TextField(null=True, default="")

    SEARCHED_FIELDS = ("first_name", "last_name", "district", "email", "phone")

    class Meta:
        indexes = ((("last_name", "first_name"), False), (("birth_date",), False))

    @classmethod
    def search_parts(cls, values: Mapping[str, Any]) -> list[str]:
        return [
            *name_parts(values.get("first_name"), values.get("last_name")),
            fold(values.get("district")),
            fold(values.get("email")),
            " ".join(phone_forms(values.get("phone"))),
        ]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def address(self) -> str:
        return postal_address(self.street, self.postcode, self.district)

    @property
    def is_anonymised(self) -> bool:
        """Erased on request (see models/privacy.py): "Anoniem <id>"."""
        return self.first_name == ANONYMOUS_FIRST_NAME and self.last_name == str(self.id)

    @property
    def short_name(self) -> str:
        """First name and initial: what a provider may see."""
        return f"{self.first_name} {self.last_name[:1]}."

    CARD_WARNING = dt.timedelta(days=30)

    @property
    def card_status(self) -> str:
        """'expired', 'expiring' (within a month: time to renew the attest) or ''."""
        if not self.card_type or self.card_valid_until is None:
            return ""
        today = local_today()
        if self.card_valid_until < today:
            return "expired"
        return "expiring" if self.card_valid_until < today + self.CARD_WARNING else ""

    @property
    def has_valid_card(self) -> bool:
        """A reduced-rate card that counts today (one without an end date counts)."""
        return bool(self.card_type) and self.card_status != "expired"

    def age(self, today: dt.date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        today = today or local_today()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @classmethod
    def probable_duplicates(cls, first_name: str, last_name: str, birth_date: dt.date | None):  # type: ignore[no-untyped-def]
        """Clients with the same birth date and the same name, ignoring case and accents and
        whichever name came first ("Celik Ayse" is Ayşe Çelik)."""
        name = f"{fold(first_name)} {fold(last_name)}".strip()
        return cls.select().where(
            cls.birth_date == birth_date, like(cls.search_text, whole_part(name))
        )


class Throttle(BaseModel):
    """A counter per key (an account, an address, a link look-up) in a time window. Counted
    with one atomic statement, never read-then-save: parallel requests each get their own
    number, so no more attempts pass than the limit."""

    key = CharField(max_length=64, unique=True)
    count = IntegerField(default=0)
    window_start = DateTimeField(default=utcnow)

    @classmethod
    def hit(cls, key: str, window: dt.timedelta) -> int:
        """Count one more attempt for key and return its number in the window (one statement:
        parallel attempts each get their own number)."""
        now = utcnow()
        expired = cls.window_start < now - window
        counted = (
            cls.insert(key=key, count=1, window_start=now)
            .on_conflict(
                conflict_target=[cls.key],
                update={
                    cls.count: SqlCase(None, [(expired, 1)], cls.count + 1),
                    cls.window_start: SqlCase(None, [(expired, now)], cls.window_start),
                },
            )
            .returning(cls.count)
            .tuples()
        )
        return next(iter(counted.execute()))[0]

    @classmethod
    def give_back(cls, key: str) -> None:
        """Uncount one attempt that turned out right (a successful login, a found link)."""
        cls.update(count=SqlCase(None, [(cls.count > 0, cls.count - 1)], 0)).where(
            cls.key == key
        ).execute()

    @classmethod
    def count_for(cls, key: str, window: dt.timedelta) -> int:
        row = cls.get_or_none(cls.key == key)
        if row is None or row.window_start < utcnow() - window:
            return 0
        return row.count

    @classmethod
    def clear(cls, key: str) -> None:
        cls.delete().where(cls.key == key).execute()
