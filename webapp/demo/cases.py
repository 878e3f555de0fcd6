"""Demo clients and their cases: Antwerp families, teenagers, adults and over-65s, their cases
spread over all nine steps, visits of every contact type over the last three months, to-dos
due today, overdue or coming, and planned contacts for today and tomorrow."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from webapp.models import (
    CONTACT_TYPES,
    AuditEvent,
    Case,
    CaseEvent,
    CaseStep,
    Client,
    StepDefinition,
    Task,
    User,
    Visit,
)
from webapp.timeutil import LOCAL, local_today, to_utc, utcnow

# first name, last name, language, district, age, household note
PEOPLE = [
    ("Amina", "Bouzid", "ar", "Borgerhout", 12, "Woont bij mama Fatima en twee broers."),
    ("Fatima", "Amrani", "zgh", "Borgerhout", 38, "Alleenstaande mama van drie kinderen."),
    ("Youssef", "El Idrissi", "ar", "Antwerpen", 15, "Woont met ouders in Antwerpen-Noord."),
    ("Ilyas", "Ait Benali", "ar", "Deurne", 9, "Jongste van vier."),
    ("Nadia", "El Ouardi", "nl", "Hoboken", 44, "Werkt deeltijds, twee tieners."),
    ("Samira", "Tahiri", "ar", "Merksem", 67, "Weduwe, woont alleen."),
    ("Bilal", "Ouali", "ar", "Borgerhout", 12, ""),
    ("Nour", "Haddad", "ar", "Deurne", 6, "Mama volgt inburgering bij Atlas."),
    ("Rayan", "Bakkali", "zgh", "Hoboken", 8, ""),
    ("Mehmet", "Yilmaz", "tr", "Berchem", 71, "Woont met zijn vrouw, kinderen wonen ver."),
    ("Elif", "Kaya", "tr", "Deurne", 14, ""),
    ("Emre", "Demirci", "tr", "Merksem", 11, "Broer van Elif? Nee, andere familie."),
    ("Ayşe", "Çelik", "tr", "Borgerhout", 35, "Mama van twee jonge kinderen."),
    ("Kasia", "Nowak", "pl", "Antwerpen", 29, "Werkt in ploegen."),
    ("Oskar", "Kowalski", "pl", "Hoboken", 13, "Zit in OKAN-klas."),
    ("Zofia", "Wiśniewska", "pl", "Berchem", 68, ""),
    ("Ana", "Popescu", "ro", "Antwerpen", 16, ""),
    ("Andrei", "Ionescu", "ro", "Merksem", 10, "Woont met oma."),
    ("Elena", "Dumitru", "ro", "Deurne", 41, "Drie kinderen, man werkt in de haven."),
    ("Ivan", "Petrov", "bg", "Antwerpen", 12, "Pas verhuisd naar Antwerpen-Noord."),
    ("Desislava", "Georgieva", "bg", "Hoboken", 33, ""),
    ("Lucía", "García", "es", "Berchem", 8, ""),
    ("Carlos", "Fernández", "es", "Wilrijk", 52, "Alleenstaand, pas werkloos."),
    ("Ahmad", "Rahimi", "prs", "Deurne", 17, "Niet-begeleide minderjarige, woont in een studio."),
    ("Zahra", "Hosseini", "prs", "Borgerhout", 36, "Mama van vier."),
    ("Gul", "Ahmadzai", "ps", "Merksem", 14, ""),
    ("Hodan", "Warsame", "so", "Antwerpen", 13, ""),
    ("Abdi", "Mohamed Farah", "so", "Hoboken", 45, "Vader van vijf kinderen."),
    ("Senait", "Tesfay", "ti", "Antwerpen", 19, "Volgt Nederlands bij het CVO."),
    ("Yonas", "Haile", "ti", "Borgerhout", 11, ""),
    ("Jens", "Peeters", "nl", "Ekeren", 15, "Woont bij pleeggezin."),
    ("Marleen", "Van den Broeck", "nl", "Wilrijk", 72, "Woont alleen sinds de dood van haar man."),
    ("Kevin", "De Smet", "nl", "Hoboken", 27, ""),
    ("Lotte", "Claes", "nl", "Merksem", 10, "Mama in budgetbeheer."),
    ("Jos", "Verstraeten", "nl", "Berendrecht-Zandvliet-Lillo", 78, "Slecht te been."),
    ("Sofie", "Wouters", "nl", "Deurne", 34, "Alleenstaande mama."),
    ("Ruben", "Jacobs", "nl", "Antwerpen", 13, "Woont op het Kiel."),
    ("Grace", "Mensah", "en", "Antwerpen", 40, "Twee kinderen, spreekt Engels thuis."),
    ("Chloé", "Dubois", "fr", "Berchem", 16, ""),
    ("Jean-Baptiste", "Mukendi", "fr", "Borgerhout", 9, ""),
]
STREETS = {
    "Antwerpen": [
        ("Dambruggestraat", "2060"),
        ("Sint-Bernardsesteenweg", "2020"),
        ("Luchtbal", "2030"),
    ],
    "Berchem": [("Statiestraat", "2600"), ("Driekoningenstraat", "2600")],
    "Berendrecht-Zandvliet-Lillo": [("Kapelsestraat", "2040")],
    "Borgerhout": [("Turnhoutsebaan", "2140"), ("Kroonstraat", "2140")],
    "Deurne": [("Herentalsebaan", "2100"), ("Bisschoppenhoflaan", "2100")],
    "Ekeren": [("Kapelsesteenweg", "2180")],
    "Hoboken": [("Kioskplaats", "2660"), ("Sint-Bernardsesteenweg", "2660")],
    "Merksem": [("Bredabaan", "2170"), ("Lambrechtshoekenlaan", "2170")],
    "Wilrijk": [("Boomsesteenweg", "2610")],
}
QUESTIONS = {
    "child": [
        ("Zoekt een voetbalclub in de buurt.", "sport"),
        ("Wil graag leren zwemmen.", "sport"),
        ("Zoekt een jeugdbeweging (Chiro of Scouts).", "jeugd"),
        ("Muziekacademie: wil piano leren.", "cultuur"),
        ("Speelpleinwerking in de zomervakantie.", "jeugd"),
        ("Wil turnen of dansen.", "sport"),
    ],
    "teen": [
        ("Zoekt een sportclub: basketbal of kickboksen.", "sport"),
        ("Wil graag in een jeugdhuis of bij JES meedoen.", "jeugd"),
        ("Wil tekenen of graffiti leren.", "cultuur"),
        ("Zoekt een vakantiekamp.", "jeugd"),
    ],
    "adult": [
        ("Zoekt een hobby om onder de mensen te komen.", "cultuur"),
        ("Wil sporten maar kan de prijs niet betalen.", "sport"),
        ("Wil met de kinderen naar de ZOO of een museum.", "cultuur"),
        ("Zoekt een daguitstap met het gezin (Iedereen Verdient Vakantie).", "cultuur"),
    ],
    "senior": [
        ("Wil niet meer alleen thuis zitten: zoekt een breiclub of taalcafé.", "cultuur"),
        ("Zoekt zachte beweging voor 65-plussers.", "sport"),
        ("Wil graag naar concerten in het cultuurcentrum.", "cultuur"),
    ],
}
PLACES = {
    "huisbezoek": ["Bij de cliënt thuis"],
    "permanentie": ["Permanentie Sociaal Huis", "Permanentie OCMW Kiel"],
    "doorverwijzer": ["CAW Antwerpen", "Huis van het Kind Borgerhout", "Atlas, Carnotstraat"],
    "aanbieder": ["Sporting A Deurne", "Chiro Sint-Jan", "Muziekacademie Merksem"],
    "telefonisch": [""],
    "bericht": [""],
    "begeleiding": ["Zwembad Wezenberg", "Voetbalclub FC Kiel", "Jeugdhuis Luchtbal"],
    "groepsactiviteit": ["OpStap-uitstap naar de ZOO", "OpStap: FoMu"],
    "loket": ["Vrijetijdsloket Borgerhout", "Infomarkt Vrije Tijd Deurne"],
    "casusoverleg": ["OCMW sociaal centrum", "CAW Antwerpen"],
    "administratie": [""],
}
MINUTES = {
    "huisbezoek": 60,
    "permanentie": 30,
    "doorverwijzer": 45,
    "aanbieder": 30,
    "telefonisch": 10,
    "bericht": 5,
    "begeleiding": 120,
    "groepsactiviteit": 180,
    "loket": 20,
    "casusoverleg": 45,
    "administratie": 20,
}
NOTES = {
    "huisbezoek": "Kennisgemaakt met het gezin. Interesse besproken, uurrooster school nagevraagd.",
    "permanentie": "Kwam langs op de permanentie met vragen over de UiTPAS.",
    "doorverwijzer": "Samen met de maatschappelijk werker de vraag overlopen.",
    "aanbieder": "Trainer uitgelegd wat de cliënt nodig heeft; kan vrijblijvend proberen.",
    "telefonisch": "Afspraak bevestigd.",
    "bericht": "Herinnering gestuurd via WhatsApp.",
    "begeleiding": "Samen naar de eerste les gegaan, vlot verlopen.",
    "groepsactiviteit": "Deelgenomen aan de uitstap, goed contact met de groep.",
    "loket": "Info gekregen over het aanbod in de buurt.",
    "casusoverleg": "Overleg over drempels: kostprijs en vervoer.",
    "administratie": "Attest voor de vrijetijdstoelage aangevraagd.",
}
NEXT_ACTIONS = [
    "Bellen naar de club over een proefles",
    "UiTPAS laten activeren aan de balie",
    "Attest vrijetijdstoelage binnenbrengen",
    "Mama terugbellen over het uurrooster",
    "Inschrijvingsformulier samen invullen",
    "Navragen of de eerste les goed ging",
    "Fiets of busabonnement regelen",
]
STEP_NOTES = {
    "vraagverheldering": "Interesses, vrije uren en gezin besproken.",
    "rechten": "Kansentarief nagekeken; vrijetijdstoelage aangevraagd.",
    "zoeken": "Samen drie activiteiten bekeken en gekozen.",
    "inschrijving": "Ingeschreven; trainer weet dat we komen.",
    "eerste_keer": "Mee geweest naar de eerste keer.",
    "opvolging": "Gaat nog graag, geen nieuwe drempels.",
}
# What the timeline says at closing (the labels of OUTCOMES need a request for their language).
OUTCOME_TEXT = {
    "independent": "neemt zelfstandig deel",
    "stopped": "gestopt",
    "referred": "doorverwezen",
    "unreachable": "onbereikbaar",
}
# (position of the current step or 'closed', outcome, stop reason) for the 40 cases
PLAN: list[tuple[Any, str, str]] = (
    [(1, "", "")]
    + [(p, "", "") for p in (2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5)]
    + [(p, "", "") for p in (6, 6, 6, 7, 7, 7, 8, 8, 8, 8, 9, 9)]
    + [
        ("closed", "independent", ""),
        ("closed", "independent", ""),
        ("closed", "stopped", "schedule"),
        ("closed", "stopped", "cost"),
        ("closed", "referred", ""),
        ("closed", "unreachable", ""),
        ("closed", "independent", ""),
        ("closed", "stopped", "moved"),
        ("closed", "stopped", "health"),
    ]
)


INTERPRETED = {"ar", "zgh", "prs", "ps", "so", "ti", "bg"}


def _phone(rng: random.Random) -> str:
    return (
        f"04{rng.randint(60, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    )


def _birth_date(rng: random.Random, age: int) -> dt.date:
    today = local_today()
    return today - dt.timedelta(days=age * 365 + rng.randint(15, 350))


def _group(age: int) -> str:
    return "child" if age < 12 else "teen" if age < 18 else "adult" if age < 65 else "senior"


def _at(day: dt.date, rng: random.Random, start: int = 9, end: int = 17) -> dt.datetime:
    """A working-hours Brussels time on that day, stored as UTC."""
    minutes = rng.randrange(start * 60, end * 60, 15)
    return to_utc(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))


def seed(rng: random.Random, users: list[User]) -> list[Case]:
    """Create the demo clients and cases; returns the cases (open ones first)."""
    mediators = [u for u in users if u.role == "mediator"] or users
    coordinator = next((u for u in users if u.is_coordinator), mediators[0])
    steps = list(StepDefinition.ordered())
    today = local_today()
    now = utcnow()
    contact_types = list(CONTACT_TYPES)
    type_cycle = 0

    case_steps: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    visit_events: list[tuple[str, dict[str, Any]]] = []  # (idempotency key, event without visit)
    visit_tasks: list[dict[str, Any]] = []  # "visit": the visit's idempotency key until inserted
    cases: list[Case] = []
    plan = PLAN[:]
    rng.shuffle(plan)

    for index, (first, last, language, district, age, household) in enumerate(PEOPLE):
        position, outcome, reason = plan[index % len(plan)]
        mediator = mediators[index % len(mediators)] if index % 7 else mediators[0]
        street, postcode = rng.choice(STREETS[district])
        card = rng.choice(["", "", "uitpas", "uitpas", "a-kaart"])
        client = Client.create(
            first_name=first,
            last_name=last,
            birth_date=_birth_date(rng, age),
            phone=_phone(rng),
            street=f"{street} {rng.randint(2, 240)}",
            postcode=postcode,
            district=district,
            language=language,
            # Adults who speak a language the team does not: a home visit needs an interpreter.
            needs_interpreter=age >= 30 and language in INTERPRETED,
            household_note=household,
            card_type=card,
            card_valid_until=(today + dt.timedelta(days=rng.randint(-40, 330))) if card else None,
        )
        question, interest = rng.choice(QUESTIONS[_group(age)])
        closed = position == "closed"
        reached = 9 if closed else int(position)
        # A case takes months from A to Z: the further along, the longer ago it was opened.
        days_open = rng.randint(10 + 14 * reached, 30 + 26 * reached) if reached > 1 else 4
        opened_day = today - dt.timedelta(days=min(days_open, 300))
        opened_at = _at(opened_day, rng)
        source = rng.choice(["doorverwijzing"] * 4 + ["permanentie", "zelf"])
        case = Case.create(
            client=client,
            mediator=mediator,
            source=source,
            question=question,
            interests=interest
            if rng.random() < 0.7
            else f"{interest},cultuur".replace("cultuur,cultuur", "cultuur"),
            opened_at=opened_at,
            updated_at=now,
        )
        events.append({"case": case.id, "at": opened_at, "actor": mediator.id, "kind": "opened"})

        # Visits over the life of the case: the first with contact made, then one per step.
        n_visits = 0 if reached == 1 else max(1, reached - 1 + rng.randint(0, 2))
        span = (now - opened_at).total_seconds()
        first_contact_at: dt.datetime | None = None
        latest_key = ""
        for v in range(n_visits):
            kind = "huisbezoek" if v == 0 and rng.random() < 0.6 else contact_types[type_cycle % 11]
            type_cycle += 1 if v else 0
            day = (opened_at + dt.timedelta(seconds=span * (v + 0.6) / (n_visits + 0.5))).date()
            at = min(_at(day, rng), now - dt.timedelta(hours=1))
            contact_made = v == 0 or kind not in ("telefonisch", "bericht") or rng.random() < 0.7
            key = uuid.uuid4().hex
            visits.append(
                {
                    "case": case.id,
                    "mediator": mediator.id,
                    "contact_type": kind,
                    "occurred_at": at,
                    "duration_minutes": MINUTES[kind],
                    "place": rng.choice(PLACES[kind]),
                    "contact_made": contact_made,
                    "notes": NOTES[kind] if contact_made else "Niet bereikt.",
                    "idempotency_key": key,
                    "created_at": at,
                }
            )
            if rng.random() < 0.5:  # a to-do the contact left, long done
                visit_tasks.append(
                    {
                        "visit": key,
                        "case": case.id,
                        "text": rng.choice(NEXT_ACTIONS),
                        "due": day + dt.timedelta(days=7),
                        "source": "visit",
                        "created_at": at,
                        "created_by": mediator.id,
                        "done_at": at + dt.timedelta(days=5),
                        "done_by": mediator.id,
                    }
                )
            visit_events.append(
                (key, {"case": case.id, "at": at, "actor": mediator.id, "kind": "visit"})
            )
            latest_key = key
            if contact_made and first_contact_at is None:
                first_contact_at = at
        # The latest visit of an open case leaves open to-dos: due, late or coming; one case
        # in three has a second, older one still open too.
        if latest_key and not closed:
            if visit_tasks and visit_tasks[-1]["visit"] == latest_key:
                visit_tasks.pop()
            at = visits[-1]["occurred_at"]
            for n in range(2 if index % 3 == 0 else 1):
                visit_tasks.append(
                    {
                        "visit": latest_key,
                        "case": case.id,
                        "text": NEXT_ACTIONS[(index + n * 5) % len(NEXT_ACTIONS)],
                        "due": today + dt.timedelta(days=rng.choice([-6, -2, 0, 0, 1, 3, 9])),
                        "source": "visit",
                        "created_at": at,
                        "created_by": mediator.id,
                        "done_at": None,
                        "done_by": None,
                    }
                )

        # Steps: the ones before the current are done (a few skipped), with dates in order.
        closed_at = _at(today - dt.timedelta(days=rng.randint(1, 12)), rng) if closed else None
        for step in steps:
            row: dict[str, Any] = {"case": case.id, "step": step.id, "status": "todo"}
            if step.key == "aanmelding" and reached > 1:
                row.update(status="done", changed_at=opened_at, changed_by=mediator.id)
                events.append(
                    {
                        "case": case.id,
                        "at": opened_at,
                        "actor": mediator.id,
                        "kind": "step_auto",
                        "step": step.id,
                    }
                )
            elif step.key == "kennismaking" and reached > 2 and first_contact_at:
                row.update(status="done", changed_at=first_contact_at, changed_by=mediator.id)
                events.append(
                    {
                        "case": case.id,
                        "at": first_contact_at,
                        "actor": mediator.id,
                        "kind": "step_auto",
                        "step": step.id,
                    }
                )
            elif step.key == "afronding" and closed:
                row.update(status="done", changed_at=closed_at, changed_by=mediator.id)
                events.append(
                    {
                        "case": case.id,
                        "at": closed_at,
                        "actor": mediator.id,
                        "kind": "step_auto",
                        "step": step.id,
                    }
                )
            elif step.position < reached and step.position > 2:
                end = closed_at or now
                day = (opened_at + (end - opened_at) * (step.position - 1) / 9).date()
                at = min(_at(day, rng), now - dt.timedelta(hours=1))
                stop_early = closed and outcome != "independent" and step.position > 5
                skip = stop_early or (step.key == "rechten" and card and rng.random() < 0.5)
                note = "" if skip else STEP_NOTES.get(step.key, "")
                if step.key == "rechten" and skip and not stop_early:
                    note = "Heeft al een geldige kaart."
                status = "skipped" if skip else "done"
                row.update(status=status, changed_at=at, changed_by=mediator.id, note=note)
                events.append(
                    {
                        "case": case.id,
                        "at": at,
                        "actor": mediator.id,
                        "kind": f"step_{status}",
                        "step": step.id,
                        "detail": note or "todo",
                    }
                )
            case_steps.append(row)
        if reached == 1:
            case_steps[-9].update(
                status="todo", note="Doorverwijzing onvolledig: telefoonnummer ontbreekt."
            )
        current = reached if not closed else len(steps)
        update: dict[str, Any] = {"current_position": current}
        if closed:
            update.update(
                status="closed",
                closed_at=closed_at,
                outcome=outcome,
                outcome_reason=reason,
                outcome_note={
                    "independent": "Gaat zelfstandig naar de activiteit.",
                    "stopped": "Gestopt; mag terugkomen als de situatie verandert.",
                    "referred": "Doorverwezen naar de buurtsportwerking van Sporting A.",
                    "unreachable": "Drie keer gebeld en een bericht gestuurd, geen antwoord.",
                }[outcome],
            )
            events.append(
                {
                    "case": case.id,
                    "at": closed_at,
                    "actor": mediator.id,
                    "kind": "closed",
                    "detail": OUTCOME_TEXT[outcome],
                }
            )
        if index % 11 == 5:
            events.append(
                {
                    "case": case.id,
                    "at": opened_at + dt.timedelta(hours=2),
                    "actor": coordinator.id,
                    "kind": "assigned",
                    "detail": mediator.name,
                }
            )
        Case.update(**update).where(Case.id == case.id).execute()
        case.current_position, case.status = current, update.get("status", "open")
        cases.append(case)

    # Planned contacts: today (later than now) and tomorrow, for open cases of every mediator.
    open_cases = [c for c in cases if c.status == "open" and c.current_position > 1]
    rng.shuffle(open_cases)
    local_now = dt.datetime.now(tz=dt.UTC).astimezone(LOCAL).replace(tzinfo=None)
    soon = local_now.replace(minute=local_now.minute // 15 * 15, second=0, microsecond=0)
    if local_now.hour < 8:  # a demo in the small hours: today's working day
        today_slots = [
            dt.datetime.combine(today, dt.time(h, m)) for h, m in ((9, 30), (11, 0), (14, 0))
        ]
    else:
        step = 15 if local_now.hour >= 21 else 45  # late in the evening: the next quarters
        today_slots = [soon + dt.timedelta(minutes=step * n) for n in (1, 2, 3)]
    tomorrow_slots = [
        dt.datetime.combine(today + dt.timedelta(days=1), dt.time(h, m))
        for h, m in ((9, 30), (11, 0), (13, 30), (15, 0), (16, 30))
    ]
    for i, (case, local) in enumerate(zip(open_cases, today_slots + tomorrow_slots, strict=False)):
        kind = ["huisbezoek", "permanentie", "begeleiding", "telefonisch", "aanbieder"][i % 5]
        key = uuid.uuid4().hex
        visits.append(
            {
                "case": case.id,
                "mediator": case.mediator_id,
                "contact_type": kind,
                "occurred_at": to_utc(local),
                "duration_minutes": MINUTES[kind],
                "place": PLACES[kind][0],
                "contact_made": False,
                "planned": True,
                "notes": "",
                "idempotency_key": key,
                "created_at": now,
            }
        )
        visit_events.append(
            (key, {"case": case.id, "at": now, "actor": case.mediator_id, "kind": "visit_planned"})
        )

    _insert(CaseStep, case_steps, {"changed_at": None, "changed_by": None, "note": ""})
    _insert(Visit, visits, {"planned": False})
    keys = {v.idempotency_key: v.id for v in Visit.select(Visit.id, Visit.idempotency_key)}
    events += [{**event, "visit": keys[key]} for key, event in visit_events]
    _insert(Task, [{**task, "visit": keys[task["visit"]]} for task in visit_tasks], {})
    _insert(CaseEvent, events, {"step": None, "visit": None, "detail": ""})
    _insert(AuditEvent, _audit_trail(events), {"link": None})
    cases.sort(key=lambda c: (c.status != "open", c.id))
    return cases


def _audit_trail(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit events the work on the timeline would have left: each case opened and contact
    recorded, and the look at the case page that went with every change."""
    trail = []
    for event in events:
        if not event.get("actor") or event["at"] > utcnow():
            continue
        who = {"at": event["at"], "user": event["actor"]}
        if event["kind"] == "opened":
            trail.append(
                {**who, "action": "create", "object_type": "case", "object_id": event["case"]}
            )
        elif event.get("visit"):
            trail.append(
                {**who, "action": "create", "object_type": "visit", "object_id": event["visit"]}
            )
        trail.append({**who, "action": "view", "object_type": "case", "object_id": event["case"]})
    return trail


def _insert(model: Any, rows: list[dict[str, Any]], defaults: dict[str, Any]) -> None:
    """Insert rows in batches; every row gets the same columns (peewee takes the first row's)."""
    rows = [{**defaults, **row} for row in rows]
    for start in range(0, len(rows), 100):
        model.insert_many(rows[start : start + 100]).execute()
