"""The demo team: mediators of the four services and a coordinator (who, as every coordinator,
has an authenticator app), and a few days of the security log."""

from __future__ import annotations

import base64
import datetime as dt
import random

from werkzeug.security import generate_password_hash

from webapp.demo import DEMO_PASSWORD
from webapp.models import RecoveryCode, SecondFactor, SecurityEvent, User
from webapp.models.people import PASSWORD_METHOD
from webapp.timeutil import utcnow

TEAM = [
    ("els.janssens@vrijbaan.demo", "Els Janssens", "coordinator", "ocmw", "03 338 11 00"),
    ("sara.elamrani@vrijbaan.demo", "Sara El Amrani", "mediator", "ocmw", "0470 12 34 56"),
    ("tom.peeters@vrijbaan.demo", "Tom Peeters", "mediator", "sport", "0471 23 45 67"),
    ("lotte.devos@vrijbaan.demo", "Lotte De Vos", "mediator", "cultuur", "0472 34 56 78"),
    ("yusuf.demir@vrijbaan.demo", "Yusuf Demir", "mediator", "jeugd", "0473 45 67 89"),
]
# The languages each speaks with clients (besides Dutch): what a coordinator matches on.
LANGUAGES_SPOKEN = {
    "els.janssens@vrijbaan.demo": "en,fr",
    "sara.elamrani@vrijbaan.demo": "ar,fr,zgh",
    "tom.peeters@vrijbaan.demo": "en",
    "lotte.devos@vrijbaan.demo": "en,pl",
    "yusuf.demir@vrijbaan.demo": "tr,en",
}


def seed(rng: random.Random) -> list[User]:
    password_hash = generate_password_hash(DEMO_PASSWORD, method=PASSWORD_METHOD)
    return [
        User.create(
            email=email,
            name=name,
            role=role,
            service=service,
            phone=phone,
            languages=LANGUAGES_SPOKEN.get(email),
            password_hash=password_hash,
        )
        for email, name, role, service, phone in TEAM
    ]


def demo_secret(rng: random.Random) -> str:
    """The demo coordinator's authenticator key: repeatable with the seed, printed by seed-demo."""
    return base64.b32encode(rng.randbytes(20)).decode()


def seed_second_factor(rng: random.Random, users: list[User]) -> str:
    """Give the coordinator an app (coordinators must have one); returns its key."""
    coordinator = next(u for u in users if u.role == "coordinator")
    secret = demo_secret(rng)
    SecondFactor.create(user=coordinator, secret=secret)
    RecoveryCode.replace_for(coordinator)  # not printed: the key is enough to try the demo
    return secret


def seed_security_log(rng: random.Random, users: list[User]) -> None:
    """What a week of the security log looks like: typos, an old bookmark, a tried link."""
    now = utcnow()
    sara, tom = users[1], users[2]
    for days, hours, kind, user, route in [
        (6, 3, "login-failed", sara, "auth.login_post"),
        (5, 7, "link-unknown", None, "portal.show"),
        (4, 2, "second-factor-failed", users[0], "twofactor.code_post"),
        (3, 5, "case-denied", tom, "cases.show"),
        (2, 1, "csrf", sara, "visits.create"),
        (1, 4, "login-failed", None, "auth.login_post"),
    ]:
        SecurityEvent.create(
            at=now - dt.timedelta(days=days, hours=hours, minutes=rng.randint(0, 59)),
            kind=kind,
            user=user,
            address=f"10.20.{rng.randint(1, 254)}.{rng.randint(1, 254)}",
            route=route,
        )
