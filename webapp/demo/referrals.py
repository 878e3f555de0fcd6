"""Demo referring organisations with their form links, referrals waiting for intake, the
referrals behind the demo cases, and thresholds on many cases."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from flask_babel import force_locale

from webapp.demo import base_url
from webapp.demo.cases import STREETS
from webapp.models import (
    DEFAULT_THRESHOLD_CATEGORIES,
    AccessLink,
    Case,
    CaseThreshold,
    Client,
    Referral,
    ReferringOrganisation,
    ThresholdCategory,
    User,
)
from webapp.referrals.forms import CONSENT_TEXT
from webapp.timeutil import local_today, utcnow

ORGANISATIONS = [
    ("OCMW sociaal centrum Deurne", "ocmw", "Deurne", "sc.deurne@ocmw.example", "03 338 20 00"),
    ("OCMW sociaal centrum Kiel", "ocmw", "Antwerpen", "sc.kiel@ocmw.example", "03 338 21 00"),
    ("CAW Antwerpen", "caw", "Antwerpen", "onthaal@caw.example", "078 15 03 00"),
    (
        "Huis van het Kind Borgerhout",
        "huis_van_het_kind",
        "Borgerhout",
        "hvhk@borgerhout.example",
        "",
    ),
    ("OKAN-klas Atheneum", "school", "Antwerpen", "okan@atheneum.example", "03 232 10 10"),
    ("Atlas integratie & inburgering", "atlas", "Antwerpen", "participatie@atlas.example", ""),
    ("Samenlevingsopbouw Kiel", "buurtwerk", "Antwerpen", "kiel@samenlevingsopbouw.example", ""),
]
REFERRERS = {
    "ocmw": [
        ("Katrien Wouters", "maatschappelijk werker"),
        ("Mohamed Ait Lahcen", "maatschappelijk werker"),
    ],
    "caw": [("Lies Verbruggen", "begeleider onthaal")],
    "huis_van_het_kind": [("Hanne Claes", "gezinsondersteuner")],
    "school": [("Joris Van Damme", "leerkracht OKAN")],
    "atlas": [("Nadia Benali", "participatiecoach")],
    "buurtwerk": [("Stijn De Smet", "opbouwwerker")],
}
WAITING = [
    # first, last, age, language, district, household, domains, interests, question, thresholds
    (
        "Rahel",
        "Tesfay",
        14,
        "ti",
        "Antwerpen",
        "met mama en twee broers (9 en 16)",
        "sport,jeugd",
        "voetbal, dansen",
        "Rahel zit sinds september in de OKAN-klas en wil na school iets doen met andere jongeren.",
        "taal,sociaal,informatie",
        "doorverwijzer",
    ),
    (
        "Oleksandr",
        "Kovalenko",
        9,
        "en",
        "Deurne",
        "papa, mama en zus van 5",
        "sport",
        "zwemmen",
        "Het gezin wil dat de kinderen leren zwemmen; ze weten niet waar dat kan.",
        "informatie,financieel",
        "huisbezoek",
    ),
    (
        "Fatima",
        "El Idrissi",
        38,
        "ar",
        "Borgerhout",
        "alleenstaande mama, kinderen van 4 en 7",
        "cultuur",
        "naaien, koken",
        (
            "Mama zoekt iets voor zichzelf overdag, terwijl de kinderen op "
            "school zijn. Ze voelt zich eenzaam."
        ),
        "psychologisch,tijd",
        "permanentie",
    ),
    (
        "Dorota",
        "Wiśniewska",
        11,
        "pl",
        "Hoboken",
        "mama en oma",
        "cultuur,jeugd",
        "tekenen, muziek",
        "Dorota tekent graag en wil naar de academie; inschrijven lukt niet online.",
        "administratief,financieel",
        "huisbezoek",
    ),
    (
        "Jean",
        "Mukendi",
        71,
        "fr",
        "Merksem",
        "woont alleen",
        "cultuur",
        "koor, wandelen",
        "Meneer wil na het overlijden van zijn vrouw terug onder de mensen komen.",
        "mobiliteit,sociaal",
        "huisbezoek",
    ),
]
NOTES = {
    "financieel": ["Clubgeld €240 per jaar is te veel", "Kamp en outfit niet betaalbaar"],
    "informatie": ["Kende het aanbod in de buurt niet", "Wist niet van het kansentarief"],
    "administratief": ["Inschrijven kan alleen online", "Attest van het OCMW ontbreekt"],
    "mobiliteit": ["Geen zwembad in het district", "Bus 's avonds te laat"],
    "taal": [
        "Mama spreekt geen Nederlands; inschrijving in het Nederlands",
        "Trainer spreekt alleen Nederlands",
    ],
    "sociaal": ["Kent niemand in de club", "Voelt zich niet welkom in de groep"],
    "psychologisch": ["Schaamte om te vragen", "Stress voor de eerste keer"],
    "cultureel": ["Gemengd zwemmen ligt moeilijk", "Onbekend met jeugdbeweging"],
    "materieel": ["Geen voetbalschoenen", "Geen fiets"],
    "tijd": ["Geen opvang voor de jongste", "Werkt in ploegen"],
    "aanbod": ["Wachtlijst bij de club", "Academie vol tot volgend jaar"],
    "gezondheid": ["Astma: trainer moet het weten", "Rolstoel: toegankelijkheid nagaan"],
}


def _consent_text() -> str:
    """The consent statement in Dutch, as the form shows it (no request here to pick a language)."""
    with force_locale("nl"):
        return str(CONSENT_TEXT)


def _mobile(rng: random.Random) -> str:
    return f"04{rng.randint(70, 99)} " + " ".join(str(rng.randint(10, 99)) for _ in range(3))


def _referral_fields(rng: random.Random, kind: str) -> dict[str, object]:
    name, role = rng.choice(REFERRERS.get(kind, REFERRERS["caw"]))
    email = name.lower().replace(" ", ".") + "@" + kind + ".example"
    return {
        "idempotency_key": str(uuid.uuid4()),
        "referrer_name": name,
        "referrer_role": role,
        "referrer_email": email,
        "referrer_phone": f"03 {rng.randint(200, 899)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        "consent_text": _consent_text(),
    }


def seed(rng: random.Random, users: list[User], cases: list[Case]) -> list[str]:
    """Create the referral side; returns lines to print (the demo referral-form link)."""
    coordinator = next((u for u in users if u.is_coordinator), users[0])
    organisations = [
        ReferringOrganisation.create(name=n, kind=k, district=d, email=e, phone=p)
        for n, k, d, e, p in ORGANISATIONS
    ]
    tokens = {}
    for org in organisations:
        _link, tokens[org.name] = AccessLink.issue(
            "referral", valid_for=dt.timedelta(days=365), created_by=coordinator, organisation=org
        )
    today = local_today()

    # Referrals waiting for intake; the last one matches an existing client by name and birth date.
    for days_ago, person in enumerate(WAITING):
        (
            first,
            last,
            age,
            language,
            district,
            household,
            domains,
            interests,
            question,
            known,
            how,
        ) = person
        org = organisations[(days_ago * 2) % len(organisations)]
        # A home visit needs the address (no draw from rng: the rest of the demo stays the same).
        streets = STREETS.get(district) or STREETS["Antwerpen"]
        street, postcode = streets[len(first) % len(streets)]
        Referral.submit(
            org,
            first_name=first,
            last_name=last,
            birth_date=today - dt.timedelta(days=age * 365 + rng.randint(20, 300)),
            phone=_mobile(rng),
            language=language,
            district=district,
            household=household,
            domains=domains,
            interests=interests,
            question=question,
            known_thresholds=known,
            first_contact=how,
            street=f"{street} {3 + 7 * len(last)}" if how == "huisbezoek" else "",
            postcode=postcode if how == "huisbezoek" else "",
            submitted_at=utcnow() - dt.timedelta(days=days_ago, hours=rng.randint(1, 8)),
            **_referral_fields(rng, org.kind),
        )
    if cases:
        again = Client.get_by_id(cases[-1].client_id)
        org = organisations[2]
        Referral.submit(
            org,
            first_name=again.first_name,
            last_name=again.last_name,
            birth_date=again.birth_date,
            language=again.language,
            district=again.district,
            domains="cultuur",
            question="Opnieuw aangemeld: zoekt nu iets in cultuur.",
            first_contact="permanentie",
            submitted_at=utcnow() - dt.timedelta(hours=3),
            **_referral_fields(rng, org.kind),
        )

    # Accepted this morning: a new case whose first to-do is the home visit the referrer asked
    # for, "nieuw" on its mediator's Vandaag.
    mediator = next((u for u in users if u.role == "mediator"), coordinator)
    org = next((o for o in organisations if o.kind == "huis_van_het_kind"), organisations[0])
    fresh = Referral.submit(
        org,
        first_name="Oksana",
        last_name="Melnyk",
        birth_date=today - dt.timedelta(days=8 * 365 + 140),
        phone=_mobile(rng),
        language="en",
        district="Hoboken",
        household="mama en twee kinderen, sinds 2022 in Antwerpen",
        domains="sport",
        interests="turnen",
        question="Oksana turnde in Charkiv en mist het. Mama weet niet hoe inschrijven werkt.",
        known_thresholds="taal,informatie",
        first_contact="huisbezoek",
        submitted_at=utcnow() - dt.timedelta(days=2, hours=3),
        **_referral_fields(rng, org.kind),
    )
    fresh.accept(coordinator, mediator, None)

    # The referrals behind the demo cases that came in through the front door.
    for case in cases:
        if case.source != "doorverwijzing" or rng.random() < 0.25:
            continue
        org = rng.choice(organisations)
        client = Client.get_by_id(case.client_id)
        Referral.submit(
            org,
            first_name=client.first_name,
            last_name=client.last_name,
            birth_date=client.birth_date,
            district=client.district,
            language=client.language,
            domains=case.interests,
            question=case.question,
            first_contact=rng.choice(["huisbezoek", "permanentie", "doorverwijzer"]),
            status="accepted",
            client=client.id,
            case=case.id,
            submitted_at=case.opened_at - dt.timedelta(days=rng.randint(1, 6)),
            handled_at=case.opened_at,
            handled_by=coordinator,
            **_referral_fields(rng, org.kind),
        )
    declined_org = organisations[5]
    Referral.submit(
        declined_org,
        first_name="Ahmad",
        last_name="Rahimi",
        birth_date=today - dt.timedelta(days=30 * 365),
        language="prs",
        district="Wilrijk",
        question="Zoekt werk als vrijwilliger.",
        first_contact="doorverwijzer",
        status="declined",
        decline_reason="Een vraag naar vrijwilligerswerk; we verwezen door naar Vrijwilligerspunt.",
        submitted_at=utcnow() - dt.timedelta(days=12),
        handled_at=utcnow() - dt.timedelta(days=10),
        handled_by=coordinator,
        **_referral_fields(rng, declined_org.kind),
    )

    # Thresholds on most cases: every category, some resolved, some signalled to the network.
    categories = {c.key: c.id for c in ThresholdCategory.select()}
    keys = [key for _position, key, _label in DEFAULT_THRESHOLD_CATEGORIES]
    rows = []
    for index, case in enumerate(cases):
        if index % 5 == 4:
            continue
        for key in rng.sample(keys, rng.randint(1, 3)) if index >= len(keys) else [keys[index]]:
            status = rng.choice(["open", "open", "resolved", "resolved", "unsolvable"])
            if case.status == "closed" and status == "open":
                status = "resolved"
            created = case.opened_at + dt.timedelta(days=rng.randint(0, 10))
            signal = key in ("financieel", "mobiliteit", "aanbod", "administratief", "taal") and (
                rng.random() < 0.6
            )
            rows.append(
                {
                    "case": case.id,
                    "category": categories[key],
                    "note": rng.choice(NOTES[key]),
                    "status": status,
                    "resolution": {
                        "resolved": rng.choice(
                            [
                                "Vrijetijdstoelage aangevraagd",
                                "UiTPAS met kansentarief geregeld",
                                "Samen ingeschreven bij de club",
                                "Eerste keer samen gegaan",
                                "Tweedehands materiaal gevonden",
                            ]
                        ),
                        "unsolvable": "Niet op te lossen binnen het dossier",
                    }.get(status, ""),
                    "signal": signal,
                    "note_shareable": signal and rng.random() < 0.7,
                    "created_by": case.mediator_id,
                    "created_at": created,
                    "updated_at": created,
                    "resolved_at": created + dt.timedelta(days=14)
                    if status == "resolved"
                    else None,
                }
            )
    for start in range(0, len(rows), 100):
        CaseThreshold.insert_many(rows[start : start + 100]).execute()

    shown = organisations[2]
    return [
        f"Doorverwijsformulier ({shown.name}): {base_url()}/r/{tokens[shown.name]}",
    ]
