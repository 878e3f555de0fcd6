"""The data model, one module per part of the work; everything is importable from here.
Also what builds the schema from it: init-db and schema.sql."""

import io

import click
from flask import Flask
from flask.cli import with_appcontext
from peewee import SqliteDatabase

from webapp.db import database
from webapp.models.audit import AuditEvent
from webapp.models.cases import (
    CANCEL_REASONS,
    CASE_SOURCES,
    CASE_STATUSES,
    CONTACT_TYPES,
    CORRECTION_WINDOW,
    DEFAULT_STEPS,
    DOMAINS,
    EVENT_LABELS,
    OUTCOMES,
    REMOVE_REASONS,
    STEP_STATUSES,
    STOP_REASONS,
    TEAM_PAGE_SIZE,
    VISIT_FIELD_LABELS,
    Case,
    CaseEvent,
    CaseStep,
    OpenCaseSearch,
    StepDefinition,
    Visit,
    create_open_case_search_triggers,
    in_team_language,
    resync_open_case_search,
    step_label,
    team_for_assigning,
    team_list,
    team_page,
)
from webapp.models.links import (
    AccessLink,
    current_client_link,
    current_provider_links_of_case,
    token_hash,
)
from webapp.models.messages import (
    CONSENT_WORDING,
    MESSAGE_KINDS,
    MESSAGE_STATUSES,
    NOT_SENT_REASONS,
    Message,
)
from webapp.models.offer import (
    ATTENDANCE,
    COST_ARRANGEMENTS,
    ENROLMENT_STATUSES,
    MEETING_POINTS,
    THINGS_TO_BRING,
    TODAY_SESSIONS_LIMIT,
    Activity,
    Enrolment,
    Provider,
    Session,
    cant_come_messages,
    enrolments_for_case,
    guess_next_session,
    sessions_between,
    sessions_of_case,
    split_sessions,
)
from webapp.models.people import (
    CARD_TYPES,
    DISTRICTS,
    LANGUAGES,
    ROLES,
    SERVICES,
    Client,
    LoginSession,
    Throttle,
    User,
    international_phone,
    postal_address,
)
from webapp.models.privacy import (
    ClosedClient,
    RetentionHold,
    anonymise_client,
    apply_retention,
    can_anonymise,
    clients_due,
    create_closed_client_triggers,
    resync_closed_clients,
)
from webapp.models.referrals import (
    CALL_MOMENTS,
    FOR_WHOM,
    ORGANISATION_KINDS,
    REFERRAL_STATUSES,
    REFERRER_PAGE_SIZE,
    REFERRER_STATUSES,
    Referral,
    ReferringOrganisation,
    create_waiting_triggers,
    referrals_for_referrer,
    referrals_waiting,
    referrals_without_first_contact,
    with_referrer_status,
)
from webapp.models.reports import (
    REPORT_MODELS,
    ReportCount,
    ReportCounted,
    ReportDirty,
    catch_up,
    count_uncounted,
    create_report_triggers,
    month_of,
    recount,
)
from webapp.models.search import create_search_indexes, refresh_all
from webapp.models.security import (
    SECOND_FACTOR_FOR_ALL,
    SECURITY_EVENTS,
    RecoveryCode,
    SecondFactor,
    SecurityEvent,
    TeamSetting,
    second_factor_required,
    users_without_second_factor,
)
from webapp.models.tasks import (
    FIRST_CONTACT,
    FIRST_CONTACT_TERM,
    NEW_FOR,
    SELF_FIRST_CONTACT,
    TASK_SOURCES,
    Task,
    first_contact_task,
)
from webapp.models.thresholds import (
    DEFAULT_THRESHOLD_CATEGORIES,
    THRESHOLD_STATUSES,
    CaseThreshold,
    ThresholdCategory,
    threshold_category_label,
    thresholds_for_case,
)
from webapp.models.walkin import WEEKDAYS, WalkInHours

# In dependency order: create_tables and the schema follow it.
ALL_MODELS = [
    User,
    LoginSession,
    Client,
    Throttle,
    Case,
    OpenCaseSearch,
    StepDefinition,
    CaseStep,
    Visit,
    CaseEvent,
    Task,
    ThresholdCategory,
    CaseThreshold,
    Provider,
    Activity,
    Enrolment,
    Session,
    ReferringOrganisation,
    Referral,
    AccessLink,
    AuditEvent,
    SecondFactor,
    RecoveryCode,
    TeamSetting,
    SecurityEvent,
    Message,
    RetentionHold,
    ClosedClient,
    WalkInHours,
    *REPORT_MODELS,
]


def seed_reference_data() -> None:
    """The default steps and threshold categories, added only where missing."""
    with database.atomic():
        for position, key, label, event in DEFAULT_STEPS:
            if not StepDefinition.select().where(StepDefinition.key == key).exists():
                StepDefinition.create(position=position, key=key, label=label, completed_by=event)
        for position, key, label in DEFAULT_THRESHOLD_CATEGORIES:
            if not ThresholdCategory.select().where(ThresholdCategory.key == key).exists():
                ThresholdCategory.create(position=position, key=key, label=label)


def schema_sql() -> str:
    """The SQLite DDL of the models, as kept in schema.sql."""
    db = SqliteDatabase(":memory:")
    out = io.StringIO()
    out.write("-- Generated from webapp/models by `flask --app wsgi schema-sql`; do not edit.\n")
    with db.bind_ctx(ALL_MODELS):
        for model in ALL_MODELS:
            ctx = model._schema._create_table(safe=True)  # type: ignore[attr-defined]  # private
            sql, _ = ctx.query()
            out.write(sql + ";\n")
            for index in model._schema._create_indexes(safe=True):  # type: ignore[attr-defined]
                sql, _ = index.query()
                out.write(sql + ";\n")
    return out.getvalue()


@click.command("schema-sql")
@with_appcontext
def schema_sql_command() -> None:
    """Print the SQLite DDL of the models (what schema.sql holds)."""
    click.echo(schema_sql(), nl=False)


def init_app(app: Flask) -> None:
    """The schema's own command: schema-sql (init-db and db upgrade: webapp/migrations)."""
    app.cli.add_command(schema_sql_command)


__all__ = [name for name in dir() if not name.startswith("_")]
