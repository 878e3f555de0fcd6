"""Vandaag: the mediator's day at a glance — planned contacts, to-dos due, recent cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, request
from flask_login import current_user, login_required
from peewee import JOIN

from webapp.db import Rows, sent, together
from webapp.htmx import render_page_or_block
from webapp.models import (
    TODAY_SESSIONS_LIMIT,
    Case,
    Client,
    StepDefinition,
    Task,
    User,
    Visit,
    cant_come_messages,
    referrals_waiting,
    referrals_without_first_contact,
    sessions_between,
)
from webapp.timeutil import local_day_bounds, local_today

bp = Blueprint("today", __name__, url_prefix="")

RECENT_CASES = 8
PLANNED_LIMIT = 40
CARDS_LIMIT = 10
CARD_LOOKBACK = dt.timedelta(days=60)
# "Te doen" shows what is new, late, due today or in the next two days (to plan the rounds),
# the most urgent first; the rest is one tap away on the full list.
TASKS_AHEAD = dt.timedelta(days=2)
TASKS_LIMIT = 8


def recent_cases(mediator: User | None) -> Rows[Case]:
    """The open cases touched last, with their client and current step (one query)."""
    query = (
        Case.select(Case, Client, StepDefinition)
        .join(Client)
        .switch(Case)
        .join(
            StepDefinition,
            JOIN.LEFT_OUTER,
            on=(StepDefinition.position == Case.current_position),
            attr="step",
        )
        .where(Case.status == "open")
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(RECENT_CASES)
    )
    if mediator is not None:
        query = query.where(Case.mediator == mediator)
    return sent(query)


def expiring_cards(mediator: User | None, today: dt.date) -> Rows[Case]:
    """Open cases whose client's reduced-rate card runs out within a month or ran out lately:
    time to ask for a new attest before a fee is due (one query)."""
    query = (
        Case.select(Case, Client, User)
        .join(Client)
        .switch(Case)
        .join(User)
        .where(
            Case.status == "open",
            Client.card_type != "",
            Client.card_valid_until >= today - CARD_LOOKBACK,
            Client.card_valid_until < today + Client.CARD_WARNING,
        )
        .order_by(Client.card_valid_until, Case.id)
        .limit(CARDS_LIMIT)
    )
    if mediator is not None:
        query = query.where(Case.mediator == mediator)
    return sent(query)


def today_offer_context(mediator: User | None, start: object, end: object) -> dict[str, Any]:
    """What Vandaag shows of the offer (templates/activities/_today_sessions.html): the sessions
    of today and tomorrow (the first TODAY_SESSIONS_LIMIT) and fresh "I can't come" messages
    from clients, on the cases of `mediator` (the whole team's when None)."""
    return {
        "offer_sessions": sessions_between(mediator, start, end, TODAY_SESSIONS_LIMIT),
        "offer_sessions_limit": TODAY_SESSIONS_LIMIT,
        "offer_messages": cant_come_messages(mediator),
    }


def today_referral_context(user: User) -> dict[str, Any]:
    """What Vandaag shows of the front door (templates/referrals/_today_intake.html)."""
    if not user.is_coordinator:
        return {"waiting_referrals": [], "late_referrals": []}
    return {
        "waiting_referrals": referrals_waiting(),
        "late_referrals": referrals_without_first_contact(),
    }


@bp.get("/")
@login_required
def index() -> Response:
    """Today's and tomorrow's contacts, what is due, and the cases worked on last."""
    user = current_user._get_current_object()
    team = user.is_coordinator and request.args.get("scope") == "team"
    mediator = None if team else user
    today = local_today()
    start, _ = local_day_bounds(today)
    _, end = local_day_bounds(today + dt.timedelta(days=1))
    # Every section's queries are sent before any is read: on PostgreSQL one round trip for
    # all of them (db.together), not one each.
    with together():
        tasks = Task.due_by(mediator, today + TASKS_AHEAD, TASKS_LIMIT + 1)
        planned = sent(Visit.planned_between(mediator, start, end, PLANNED_LIMIT))
        recent = recent_cases(mediator)
        cards = expiring_cards(mediator, today)
        steps = sent(StepDefinition.select(StepDefinition.id))
        offer = today_offer_context(mediator, start, end)
        return render_page_or_block(
            "today/index.html",
            "today",
            team=team,
            today=today,
            planned=planned,
            planned_limit=PLANNED_LIMIT,
            tasks=tasks[:TASKS_LIMIT],
            more_tasks=len(tasks) > TASKS_LIMIT,
            recent=recent,
            cards=cards,
            total_steps=len(steps),
            **offer,
            **today_referral_context(user),
        )
