"""The second release (2 December 2026): to-dos, second factor, messages, retention, search.

Also the security log and corrections of recorded contacts. The visits' next action (three
columns) becomes a to-do each, then those columns go.

A database comes here from the first release, or already at the second: the second release's
init-db made its tables from the models and recorded no migration. So every step looks first
and does only what is missing. The tables and columns are written out as they were in the second
release (not taken from today's models), so that a later change to a model comes with its own
migration and this one stays what it was."""

from __future__ import annotations

import sqlite3
from typing import Any

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)
from playhouse.migrate import migrate

from webapp.db import database as db
from webapp.migrations import add_column_with_default, columns_of, indexes_of
from webapp.timeutil import utcnow


class Frozen(Model):
    class Meta:
        database = db
        legacy_table_names = False


def _table(name: str) -> type[Frozen]:
    """A table of the first release that the new ones point at (only its key matters)."""
    meta = type("Meta", (), {"table_name": name})
    return type(f"Frozen_{name}", (Frozen,), {"id": AutoField(), "Meta": meta})


User = _table("users")
Case = _table("cases")
Client = _table("client")
Visit = _table("visit")
Provider = _table("provider")
Enrolment = _table("enrolment")
Session = _table("activity_sessions")


class Task(Frozen):
    case = ForeignKeyField(Case, index=False, on_delete="CASCADE")
    text = CharField(max_length=200)
    due = DateField(null=True)
    source = CharField(max_length=20, default="manual")
    visit = ForeignKeyField(Visit, null=True, index=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, index=True)
    done_at = DateTimeField(null=True)
    done_by = ForeignKeyField(User, null=True, index=True)

    class Meta:
        table_name = "task"
        indexes = ((("case", "done_at", "due"), False), (("done_at", "due"), False))


class SecondFactor(Frozen):
    user = ForeignKeyField(User, unique=True, on_delete="CASCADE")
    secret = CharField(max_length=64)
    confirmed_at = DateTimeField(default=utcnow)
    last_step = IntegerField(null=True)

    class Meta:
        table_name = "second_factor"


class RecoveryCode(Frozen):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True)
    code_hash = CharField(max_length=64, unique=True)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "recovery_code"


class TeamSetting(Frozen):
    key = CharField(max_length=40, unique=True)
    value = CharField(max_length=200, default="")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, index=True, on_delete="SET NULL")

    class Meta:
        table_name = "team_setting"


class SecurityEvent(Frozen):
    at = DateTimeField(default=utcnow, index=True)
    kind = CharField(max_length=30, index=True)
    user = ForeignKeyField(User, null=True, index=True, on_delete="SET NULL")
    address = CharField(max_length=45, default="")
    route = CharField(max_length=80, default="")

    class Meta:
        table_name = "security_event"


class Message(Frozen):
    kind = CharField(max_length=20)
    channel = CharField(max_length=5)
    target = CharField(max_length=40)
    due_on = DateField()
    case = ForeignKeyField(Case, null=True, index=True, on_delete="CASCADE")
    client = ForeignKeyField(Client, null=True, index=True, on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, index=True, on_delete="CASCADE")
    session = ForeignKeyField(Session, null=True, index=True, on_delete="CASCADE")
    visit = ForeignKeyField(Visit, null=True, index=True, on_delete="CASCADE")
    enrolment = ForeignKeyField(Enrolment, null=True, index=True, on_delete="CASCADE")
    status = CharField(max_length=10, default="queued")
    reason = CharField(max_length=20, default="")
    attempts = IntegerField(default=0)
    next_try_at = DateTimeField(default=utcnow)
    claimed_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "messages"
        indexes = ((("kind", "target", "due_on"), True), (("status", "next_try_at"), False))


class RetentionHold(Frozen):
    case = ForeignKeyField(Case, index=True, on_delete="CASCADE")
    until = DateTimeField(index=True)
    reason = CharField(max_length=200)
    user = ForeignKeyField(User, null=True, index=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "retention_hold"


class AccessLink(Frozen):
    provider = ForeignKeyField(Provider, null=True, index=True, on_delete="CASCADE")

    class Meta:
        table_name = "access_link"


NEW_TABLES = [Task, SecondFactor, RecoveryCode, TeamSetting, SecurityEvent, Message, RetentionHold]

# (table, field) of every nullable column the second release added to a first-release table.
NEW_COLUMNS: list[tuple[str, Field]] = [
    ("users", BooleanField(null=True, column_name="daily_summary")),
    ("users", CharField(max_length=100, null=True, column_name="languages")),
    ("login_sessions", DateTimeField(null=True, column_name="verified_at")),
    ("login_sessions", BooleanField(null=True, column_name="second_factor")),
    ("login_sessions", BooleanField(null=True, column_name="own_device")),
    ("client", BooleanField(null=True, column_name="needs_interpreter")),
    ("client", DateTimeField(null=True, column_name="messages_consent_at")),
    ("client", CharField(max_length=300, null=True, column_name="messages_consent_wording")),
    ("client", DateTimeField(null=True, column_name="messages_stopped_at")),
    ("client", TextField(null=True, column_name="search_text")),
    ("visit", IntegerField(null=True, column_name="version")),
    ("visit", DateTimeField(null=True, column_name="recorded_at")),
    ("visit", DateTimeField(null=True, column_name="removed_at")),
    ("visit", CharField(max_length=20, null=True, column_name="removed_reason")),
    ("visit", BooleanField(null=True, column_name="remind_client")),
    ("case_event", CharField(max_length=120, null=True, column_name="outside_actor")),
    ("provider", TextField(null=True, column_name="search_text")),
    ("activity", CharField(max_length=200, null=True, column_name="bring_keys")),
    ("activity", TextField(null=True, column_name="search_text")),
    ("activity_sessions", CharField(max_length=20, null=True, column_name="meeting_point_key")),
    ("referral", CharField(max_length=120, null=True, column_name="street")),
    ("referral", CharField(max_length=4, null=True, column_name="postcode")),
    ("referral", TextField(null=True, column_name="search_text")),
    ("access_link", AccessLink.provider),
    ("access_link", DateTimeField(null=True, column_name="period_start")),
    ("access_link", DateTimeField(null=True, column_name="period_end")),
    ("audit_event", CharField(max_length=200, null=True, column_name="fields")),
]
# Version counters for optimistic locking: existing rows start at 1.
NEW_COUNTERS = [("users", "version"), ("referring_organisation", "version")]

LEGACY_VISIT_COLUMNS = ("next_action", "next_action_due", "next_action_done_at")


def up(migrator: Any, database: Any) -> None:
    database.create_tables(NEW_TABLES, safe=True)
    for table, field in NEW_COLUMNS:
        if field.column_name not in columns_of(table):
            migrate(migrator.add_column(table, field.column_name, field))
    for table, column in NEW_COUNTERS:
        if column not in columns_of(table):
            add_column_with_default(table, IntegerField(column_name=column), 1)
    move_visit_next_actions(migrator, database)


def move_visit_next_actions(migrator: Any, database: Any) -> None:
    """Each visit's next action becomes a to-do (done when it was done), then the columns go."""
    columns = columns_of("visit")
    if "next_action" not in columns:
        return
    if isinstance(database.obj, SqliteDatabase) and sqlite3.sqlite_version_info < (3, 35):
        # Older SQLite drops a column by copying the table, which would cascade to the
        # timeline rows of every visit: refuse rather than lose them.
        raise RuntimeError("SQLite 3.35 or newer is needed to move next actions to to-dos.")
    database.execute_sql(
        'INSERT INTO "task" ("case_id", "text", "due", "source", "visit_id", "created_at", '
        '"created_by_id", "done_at") '
        'SELECT "case_id", SUBSTR("next_action", 1, 200), "next_action_due", \'visit\', "id", '
        '"created_at", "mediator_id", "next_action_done_at" FROM "visit" '
        'WHERE "next_action" <> \'\' AND "id" NOT IN '
        '(SELECT "visit_id" FROM "task" WHERE "source" = \'visit\' AND "visit_id" IS NOT NULL) '
        'ORDER BY "id"'
    )
    if "visit_next_action_due" in indexes_of("visit"):
        migrate(migrator.drop_index("visit", "visit_next_action_due"))
    for column in LEGACY_VISIT_COLUMNS:
        if column in columns:
            migrate(migrator.drop_column("visit", column))
