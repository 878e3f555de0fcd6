"""Demo providers and activities in Antwerp, enrolments with their sessions on the cases that are
past 'Inschrijving', and one client link and one provider attendance link to try."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from flask import current_app, url_for

from webapp.demo import base_url as demo_base_url
from webapp.models import (
    AccessLink,
    Activity,
    Case,
    CaseEvent,
    Client,
    Enrolment,
    Provider,
    Session,
    User,
)
from webapp.timeutil import local_today, to_utc, utcnow

# Each provider: name, kind, contact, e-mail, street, postcode, district and its activities;
# each activity: title, domain, ages, schedule, full €, reduced € or None, bring,
# accessibility, about.
PROVIDERS: list[tuple[Any, ...]] = [
    (
        "KFC Luchtbal",
        "voetbalclub",
        "Dirk Van Gorp",
        "jeugd@kfcluchtbal.example",
        "Columbiastraat 110",
        "2030",
        "Antwerpen",
        [
            (
                "Voetbal U10–U13",
                "sport",
                (9, 13),
                "woensdag 14–15.30 uur, zaterdag wedstrijd",
                185,
                37,
                "sportschoenen of voetbalschoenen, scheenbeschermers, drinkbus",
                "kleedkamers gelijkvloers",
                "Trainen in een ploeg met vaste trainers.",
            ),
            (
                "Meisjesvoetbal",
                "sport",
                (8, 15),
                "dinsdag 17.30–19 uur",
                150,
                30,
                "sportkledij, drinkbus",
                "",
                "Een ploeg alleen voor meisjes.",
            ),
        ],
    ),
    (
        "Stedelijk zwembad Wezenberg",
        "zwembad",
        "Onthaal zwembad",
        "wezenberg@zwembaden.example",
        "Desguinlei 17",
        "2018",
        "Antwerpen",
        [
            (
                "Zwemles voor kinderen (reeks van 10)",
                "sport",
                (6, 12),
                "zaterdag 10–11 uur",
                60,
                12,
                "zwemkledij, handdoek, 1 euro voor het kastje",
                "lift naar het zwembad, aangepaste kleedkamer",
                "Leren zwemmen in een kleine groep.",
            ),
            (
                "Vrij zwemmen",
                "sport",
                (None, None),
                "elke dag, zie uurrooster",
                4,
                2,
                "zwemkledij, handdoek",
                "lift naar het zwembad",
                "Zwemmen wanneer het past.",
            ),
        ],
    ),
    (
        "Speelpleinwerking Kiel",
        "speelpleinwerking",
        "Jana Claes",
        "speelplein.kiel@jeugddienst.example",
        "De Bosschaertstraat 4",
        "2020",
        "Antwerpen",
        [
            (
                "Speelplein (6–7 jaar)",
                "jeugd",
                (6, 7),
                "schoolvakanties, 9–17 uur",
                5,
                1,
                "lunchpakket, regenjas",
                "rolstoeltoegankelijk terrein",
                "Spelen met monitoren.",
            ),
            (
                "Speelplein (8–12 jaar)",
                "jeugd",
                (8, 12),
                "schoolvakanties, 9–17 uur",
                5,
                1,
                "lunchpakket, regenjas",
                "rolstoeltoegankelijk terrein",
                "Spelen met monitoren.",
            ),
            (
                "Tienerwerking (12–15 jaar)",
                "jeugd",
                (12, 15),
                "schoolvakanties, 13–17 uur",
                12,
                2.4,
                "lunchpakket",
                "",
                "Uitstappen en workshops met tieners.",
            ),
        ],
    ),
    (
        "Academie voor Muziek, Woord en Dans Deurne",
        "academie",
        "Secretariaat",
        "academie.deurne@onderwijs.example",
        "Frans Messingstraat 33",
        "2100",
        "Deurne",
        [
            (
                "Dansatelier",
                "cultuur",
                (8, 12),
                "woensdag 13.30–15 uur",
                96,
                19.2,
                "soepele kledij",
                "",
                "Bewegen op muziek, van hiphop tot hedendaagse dans.",
            ),
            (
                "Notenleer en piano",
                "cultuur",
                (8, 14),
                "maandag 16.30–18 uur",
                96,
                19.2,
                "",
                "",
                "Samen muziek leren lezen, daarna een instrument.",
            ),
            (
                "Muziek voor volwassenen",
                "cultuur",
                (18, None),
                "donderdag 19–21 uur",
                385,
                154,
                "",
                "lift",
                "Een instrument leren, ook als je nog nooit speelde.",
            ),
        ],
    ),
    (
        "Bibliotheek Permeke",
        "bibliotheek",
        "Balie Permeke",
        "permeke@bibliotheek.example",
        "De Coninckplein 25",
        "2060",
        "Antwerpen",
        [
            (
                "Huiswerkklas",
                "cultuur",
                (8, 14),
                "maandag en donderdag 16–18 uur",
                0,
                None,
                "schoolagenda en boeken",
                "lift, toegankelijk toilet",
                "Hulp bij huiswerk.",
            ),
            (
                "Voorleesuurtje",
                "cultuur",
                (4, 8),
                "woensdag 14–15 uur",
                0,
                None,
                "",
                "lift, toegankelijk toilet",
                "Verhalen voorlezen en samen een boek kiezen om mee naar huis te nemen.",
            ),
            (
                "Taalcafé Nederlands",
                "cultuur",
                (16, None),
                "dinsdag 14–16 uur",
                0,
                None,
                "",
                "lift",
                "Nederlands oefenen bij een koffie.",
            ),
        ],
    ),
    (
        "FOMU — Fotomuseum Antwerpen",
        "museum",
        "Educatie FOMU",
        "educatie@fomu.example",
        "Waalsekaai 47",
        "2000",
        "Antwerpen",
        [
            (
                "Fotoworkshop voor tieners",
                "cultuur",
                (12, 16),
                "zaterdag 14–16.30 uur",
                12,
                2.4,
                "een smartphone (er zijn er ook te leen)",
                "lift",
                "Zelf foto's maken en tonen.",
            ),
            (
                "Gezinszondag in het museum",
                "cultuur",
                (None, None),
                "eerste zondag van de maand, 10–17 uur",
                12,
                0,
                "",
                "lift, buggy's welkom",
                "Met het hele gezin de tentoonstelling ontdekken, met opdrachten voor kinderen.",
            ),
        ],
    ),
    (
        "Turnclub Hoboken",
        "turnclub",
        "Secretariaat",
        "info@turnclubhoboken.example",
        "Kapelstraat 120",
        "2660",
        "Hoboken",
        [
            (
                "Kinderturnen",
                "sport",
                (6, 12),
                "woensdag 14–15.30 uur",
                120,
                24,
                "sportkledij, turnpantoffels of blote voeten",
                "turnzaal gelijkvloers",
                "Gymnastiek op toestellen: rollen, springen en klimmen in een kleine groep.",
            ),
        ],
    ),
    (
        "Chiro Luchtbal",
        "jeugdbeweging",
        "Leiding Chiro Luchtbal",
        "chiroluchtbal@jeugdbeweging.example",
        "Santiagostraat 2",
        "2030",
        "Antwerpen",
        [
            (
                "Chirozondag",
                "jeugd",
                (6, 16),
                "zondag 14–17 uur",
                45,
                9,
                "kledij die vuil mag worden, uniform is niet verplicht",
                "",
                "Spelen in groep, elke zondag, en op kamp in de zomer.",
            ),
        ],
    ),
    (
        "Scouts en Gidsen Sint-Willibrordus",
        "jeugdbeweging",
        "Groepsleiding",
        "groepsleiding@scoutsberchem.example",
        "Driekoningenstraat 75",
        "2600",
        "Berchem",
        [
            (
                "Scouts (welpen en kabouters)",
                "jeugd",
                (8, 11),
                "zaterdag 14–17 uur",
                55,
                11,
                "stevige schoenen, regenjas",
                "",
                "Buiten spelen in groep.",
            ),
        ],
    ),
    (
        "JES Antwerpen",
        "jeugdwerk",
        "Yasmine Haddou",
        "antwerpen@jes.example",
        "Kronenburgstraat 34",
        "2000",
        "Antwerpen",
        [
            (
                "Urban dance & rap",
                "jeugd",
                (12, 18),
                "vrijdag 18–20 uur",
                0,
                None,
                "",
                "gelijkvloers",
                "Dansen, rappen en optreden met jongeren uit de buurt.",
            ),
            (
                "Filmklas",
                "cultuur",
                (14, 20),
                "woensdag 14–17 uur",
                20,
                4,
                "",
                "",
                "Een korte film maken van idee tot première.",
            ),
        ],
    ),
    (
        "KRAS Jeugdwerk — Jeugdhuis Kiel",
        "jeugdwerk",
        "Tom Verhulst",
        "kiel@krasjeugdwerk.example",
        "Sint-Bernardsesteenweg 110",
        "2020",
        "Antwerpen",
        [
            (
                "Zaalvoetbal in de buurt",
                "sport",
                (12, 18),
                "woensdag 19–21 uur",
                2,
                None,
                "sportschoenen met lichte zolen",
                "",
                "Sporten met jongeren uit Kiel.",
            ),
            (
                "Meidenwerking",
                "jeugd",
                (12, 18),
                "zaterdag 14–17 uur",
                0,
                None,
                "",
                "",
                "Samen koken, sporten en op uitstap, alleen voor meisjes.",
            ),
        ],
    ),
]


def cents(euros: float | None) -> int | None:
    return None if euros is None else round(euros * 100)


def seed(rng: random.Random, users: list[User], cases: list[Case]) -> list[str]:
    """Create the offer; returns the lines to print (the demo client and provider links)."""
    activities: list[Activity] = []
    for name, kind, contact, email, street, postcode, district, offers in PROVIDERS:
        provider = Provider.create(
            name=name,
            kind=kind,
            contact_name=contact,
            email=email,
            street=street,
            postcode=postcode,
            district=district,
            phone=f"03 {rng.randrange(200, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
        )
        for title, domain, ages, schedule, full, reduced, bring, access, about in offers:
            activities.append(
                Activity.create(
                    provider=provider,
                    title=title,
                    domain=domain,
                    description=about,
                    age_min=ages[0],
                    age_max=ages[1],
                    street=street,
                    postcode=postcode,
                    district=district,
                    schedule=schedule,
                    price_full_cents=cents(full),
                    price_reduced_cents=cents(reduced),
                    bring_keys=",".join(bring_phrases(bring)[0]) or None,
                    what_to_bring=bring_phrases(bring)[1],
                    accessibility=access,
                )
            )

    # Cases past 'Inschrijving' (current step 7 or later) have an enrolment with sessions.
    enrolled = [c for c in cases if c.status == "open" and c.current_position >= 7]
    clients = {
        c.id: c for c in Client.select().where(Client.id.in_([c.client_id for c in enrolled]))
    }
    today = local_today()
    to_confirm: Enrolment | None = None
    to_share: Case | None = None
    for index, case in enumerate(enrolled):
        client = clients[case.client_id]
        activity = pick_activity(rng, activities, client)
        mediator = User.get_by_id(case.mediator_id)
        if case.current_position == 7 and to_confirm is None:
            # The first time was yesterday; the provider has not said yet whether they came.
            first_day, weeks_done = today - dt.timedelta(days=1), 1
        elif case.current_position == 7:
            first_day, weeks_done = today + dt.timedelta(days=1 + index % 5), 0
        else:
            first_day = today - dt.timedelta(days=7 * rng.randrange(2, 6) - index % 7)
            weeks_done = (today - first_day).days // 7 + 1
        hour = rng.choice((10, 14, 16, 17))
        starts = [
            to_utc(dt.datetime.combine(first_day + dt.timedelta(weeks=w), dt.time(hour)))
            for w in range(weeks_done + 3)
        ]
        arrangement = "reduced" if activity.price_reduced_cents is not None else "free"
        enrolment = Enrolment.create(
            case=case,
            activity=activity,
            cost_arrangement=arrangement if activity.price_full_cents else "free",
            created_by=mediator,
            created_at=starts[0] - dt.timedelta(days=10),
        )
        now = utcnow()
        for number, start in enumerate(starts):
            past = start < now
            attendance = ""
            if past and case.current_position >= 8:
                attendance = "absent" if number and rng.random() < 0.15 else "present"
            Session.create(
                enrolment=enrolment,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=90),
                meeting_point_key="counter" if number else "entrance",
                meeting_point="" if number else "ik wacht op je",
                companion=mediator if number == 0 else None,
                attendance=attendance,
                confirmed_at=start + dt.timedelta(hours=3) if attendance else None,
                confirmed_via=(via := rng.choice(("provider", "mediator")) if attendance else ""),
            )
            if attendance:
                CaseEvent.create(
                    case=case,
                    at=start + dt.timedelta(hours=3),
                    actor=mediator if via == "mediator" else None,
                    outside_actor=activity.provider.name if via == "provider" else None,
                    kind=f"attendance_{attendance}",
                    detail=f"{activity.title}, {start:%d/%m}",
                )
        CaseEvent.create(
            case=case,
            at=enrolment.created_at,
            actor=mediator,
            kind="enrolled",
            detail=activity.title,
        )
        if case.current_position == 7 and weeks_done == 1:
            to_confirm = enrolment
        elif case.current_position == 7 and to_share is None:
            to_share = case
        if case.current_position == 8 and index % 3 == 0:
            upcoming = (
                Session.select()
                .where(Session.enrolment == enrolment, Session.starts_at > now)
                .order_by(Session.starts_at)
                .first()
            )
            upcoming.cant_come_at = now - dt.timedelta(hours=2)
            upcoming.cant_come_message = "Mijn zoon is ziek. Volgende week zijn we er weer."
            upcoming.save()
            CaseEvent.create(
                case=case,
                at=upcoming.cant_come_at,
                kind="cant_come",
                detail=f"{activity.title}: “{upcoming.cant_come_message}”",
            )

    if to_confirm is not None:
        # Two more participants, of other mediators where possible, went to the same session:
        # the provider confirms all three on one link.
        first = Session.select().where(Session.enrolment == to_confirm).order_by(Session.id).get()
        others = sorted(
            (c for c in enrolled if c.id != to_confirm.case_id and c.current_position >= 8),
            key=lambda c: c.mediator_id == to_confirm.case.mediator_id,
        )
        for case in others[:2]:
            extra = Enrolment.create(
                case=case,
                activity=to_confirm.activity,
                cost_arrangement=to_confirm.cost_arrangement,
                created_by=case.mediator_id,
                created_at=first.starts_at - dt.timedelta(days=7),
            )
            Session.create(
                enrolment=extra,
                starts_at=first.starts_at,
                ends_at=first.ends_at,
                meeting_point_key="entrance",
            )

    lines = [
        (
            f"Aanbod: {len(PROVIDERS)} aanbieders, {len(activities)} activiteiten, "
            f"{len(enrolled)} inschrijvingen."
        )
    ]
    to_share = to_share or (enrolled[0] if enrolled else None)
    with current_app.test_request_context():
        if to_share is not None:
            client = clients[to_share.client_id]
            _, token = AccessLink.issue(
                "client", dt.timedelta(days=90), None, client=to_share.client_id
            )
            lines.append(
                f"Link voor cliënt ({client.short_name}): "
                f"{base_url()}{url_for('portal.show', token=token)}"
            )
        if to_confirm is not None:
            client = clients[Case.get_by_id(to_confirm.case_id).client_id]
            _, token = AccessLink.issue(
                "provider", dt.timedelta(days=14), None, enrolment=to_confirm
            )
            lines.append(
                f"Aanwezigheidslink voor aanbieder ({to_confirm.activity.provider.name}, "
                f"{client.short_name}): {base_url()}{url_for('attendance.show', token=token)}"
            )
            # One link for all our participants at that provider, yesterday and this week.
            start = to_utc(dt.datetime.combine(today - dt.timedelta(days=1), dt.time()))
            link, token = AccessLink.issue(
                "provider",
                dt.timedelta(days=10),
                User.get_by_id(Case.get_by_id(to_confirm.case_id).mediator_id),
                provider=to_confirm.activity.provider_id,
                period_start=start,
            )
            AccessLink.update(period_end=start + dt.timedelta(days=8)).where(
                AccessLink.id == link.id
            ).execute()
            lines.append(
                f"Aanwezigheidslink voor alle deelnemers ({to_confirm.activity.provider.name}): "
                f"{base_url()}{url_for('attendance.show', token=token)}"
            )
    return lines


def pick_activity(rng: random.Random, activities: list[Activity], client: Client) -> Activity:
    """An activity that fits the client's age, else any."""
    age = client.age()
    fitting = [
        a
        for a in activities
        if age is None
        or ((a.age_min is None or a.age_min <= age) and (a.age_max is None or a.age_max >= age))
    ]
    return rng.choice(fitting or activities)


def base_url() -> str:
    return demo_base_url()


# The demo's Dutch "what to bring" texts, split into common phrases (shown in the client's
# language) and the rest (shown in Dutch), as a mediator would choose them in the form.
DEMO_PHRASES = {
    "zwemkledij": "swimwear",
    "handdoek": "towel",
    "sportkledij": "sportswear",
    "sportschoenen": "sports_shoes",
    "drinkbus": "water",
    "uitpas": "uitpas",
    "vieruurtje": "snack",
}


def bring_phrases(text: str) -> tuple[list[str], str]:
    keys: list[str] = []
    rest: list[str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key = DEMO_PHRASES.get(part.lower())
        (keys if key else rest).append(key or part)
    return keys, ", ".join(rest)
