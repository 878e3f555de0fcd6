"""Demo walk-in hours (permanenties) in Antwerp, and one request a person sent via /vraag."""

from __future__ import annotations

import datetime as dt
import uuid

from flask_babel import force_locale

from webapp.demo import base_url
from webapp.models import Referral, WalkInHours
from webapp.vraag.forms import CONSENT

HOURS = [
    # place, address, weekday (1 = Monday), from, to, note
    ("OCMW sociaal centrum Kiel", "Abdijstraat 154, 2020 Antwerpen", 2, 13, 16, ""),
    ("Sociaal Huis Borgerhout", "Turnhoutsebaan 110, 2140 Antwerpen", 3, 9, 12, ""),
    (
        "Bibliotheek Permeke",
        "De Coninckplein 25, 2060 Antwerpen",
        3,
        14,
        17,
        "aan de infobalie op het gelijkvloers",
    ),
    ("Huis van het Kind Deurne", "Frans Messingsstraat 42, 2100 Antwerpen", 4, 9, 12, ""),
    (
        "Buurthuis Luchtbal",
        "Columbiastraat 110, 2030 Antwerpen",
        5,
        13,
        16,
        "niet in de schoolvakanties",
    ),
]


def seed() -> list[str]:
    """The walk-in hours, one request from /vraag waiting in intake; returns lines to print."""
    for place, address, weekday, start, end, note in HOURS:
        WalkInHours.create(
            place=place,
            address=address,
            weekday=weekday,
            starts=dt.time(start),
            ends=dt.time(end),
            note=note,
        )

    with force_locale("ar"):
        consent = str(CONSENT)
    Referral.submit(
        None,
        source="zelf",
        idempotency_key=str(uuid.uuid4()),
        referrer_name="",
        first_name="Mariam Haddad",
        last_name="",
        phone="0489 55 21 07",
        language="ar",
        for_whom="kind",
        age=10,
        whatsapp=True,
        call_moment="namiddag",
        domains="sport,cultuur",
        interests="zwemmen, tekenen",
        question="Zelf gevraagd via /vraag: voor mijn kind, 10 jaar. "
        "Best bellen: 's namiddags (14–17 uur).",
        first_contact="bellen",
        consent_text=consent,
    )
    return [
        f"Voor burgers: {base_url()}/vraag  (affiche: {base_url()}/vraag/affiche)",
    ]
