"""The demo team: mediators of the four services and a coordinator."""

from __future__ import annotations

import random

from werkzeug.security import generate_password_hash

from webapp.models import User
from webapp.models.people import PASSWORD_METHOD

TEAM = [
    ("els.janssens@vrijbaan.demo", "Els Janssens", "coordinator", "ocmw", "03 338 11 00"),
    ("sara.elamrani@vrijbaan.demo", "Sara El Amrani", "mediator", "ocmw", "0470 12 34 56"),
    ("tom.peeters@vrijbaan.demo", "Tom Peeters", "mediator", "sport", "0471 23 45 67"),
    ("lotte.devos@vrijbaan.demo", "Lotte De Vos", "mediator", "cultuur", "0472 34 56 78"),
    ("yusuf.demir@vrijbaan.demo", "Yusuf Demir", "mediator", "jeugd", "0473 45 67 89"),
]


def seed(rng: random.Random) -> list[User]:
    from webapp.demo import DEMO_PASSWORD

    password_hash = generate_password_hash(DEMO_PASSWORD, method=PASSWORD_METHOD)
    return [
        User.create(
            email=email,
            name=name,
            role=role,
            service=service,
            phone=phone,
            password_hash=password_hash,
        )
        for email, name, role, service, phone in TEAM
    ]
