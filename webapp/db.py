"""The database: a peewee proxy, the base model, per-request connections; no model here (the
schema: webapp/models; init-db and the migrations: webapp/migrations)."""

from __future__ import annotations

import datetime as dt
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from flask import Flask
from peewee import (
    SQL,
    AutoField,
    DatabaseProxy,
    Model,
    NodeList,
    PostgresqlDatabase,
    SqliteDatabase,
    fn,
)
from playhouse.db_url import connect, parse
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
    # What a row held is zeroed in the file when the row is deleted or rewritten: erasing a
    # client must not leave their name readable in free pages (see search.purge_erased_text).
    "secure_delete": 1,
}


class BaseModel(Model):
    # The primary key peewee's metaclass adds to every model, declared for mypy. An annotation
    # without a value is no field to peewee (it only collects Field instances); so are the
    # `<name>_id` annotations under each ForeignKeyField in the models.
    id: AutoField[int]

    class Meta:
        database = database
        legacy_table_names = False


# At most this many connections per app process to PostgreSQL (README, "Connections to the
# database"); they are opened only when requests run at the same time: a sync worker uses one.
POOL_SIZE = 20
POOL_STALE_SECONDS = 300  # a connection this old is closed when handed back, and replaced
POOL_WAIT_SECONDS = 10  # how long a request waits for a free connection before it fails


def likely(condition: Any) -> Any:
    """The condition, with a hint to SQLite's planner that most rows meet it, so that it does
    not choose the condition's index to read a table (the condition still filters). SQLite's
    statistics count NULL as one value among many distinct ones, and so take `done_at IS NULL`
    for a handful of rows when it is thousands; PostgreSQL's planner knows better."""
    if isinstance(database.obj, SqliteDatabase):
        return fn.likelihood(condition, SQL("0.9"))
    return condition


def without_index(column: Any) -> Any:
    """The column in an ORDER BY that the database must not walk an index for: the rows come
    through a narrower index and are few, so sorting them is cheaper than walking the whole
    table in this order. "+column" on SQLite; "column || ''" (a text column) on PostgreSQL."""
    if isinstance(database.obj, SqliteDatabase):
        return NodeList((SQL("+"), column), glue="")
    return NodeList((column, SQL("|| ''")))


def among(column: Any, ids: Any) -> Any:
    """`column IN (ids)` for a few hundred ids found through another index (a trigram
    search). On PostgreSQL as `column = ANY(ARRAY(ids))`: each id is then looked up along the
    column's index, where IN lets the planner merge-join along the whole index when it expects
    many (the team's search read all 9 000 open cases for 730 matches)."""
    if isinstance(database.obj, SqliteDatabase):
        return column.in_(ids)
    return column == fn.ANY(NodeList((SQL("ARRAY"), ids)))


class Prepared:
    """A query whose SQL never changes, compiled once per kind of database and run again with
    each call's values. Peewee writes a query's SQL anew on every call; on the case page that
    took a third of the request (issue 15).

    `build` makes the query from its arguments. It is called once per kind of database with
    placeholders (ints, strings and times no real value equals); where they land among the
    compiled parameters is remembered, and each call puts its own values there. So only for a
    query whose SQL does not depend on the values (no `in_()` of a list, no condition added for
    some values), with arguments already as the database stores them (an id, not a model).
    A call returns the query, executed, to iterate as usual."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build
        self.compiled: dict[type, tuple[str, list[Any], list[tuple[int, int]], Any]] = {}
        # How peewee maps the answer's columns onto models, worked out from the first answer
        # it read (the same columns every time): a tenth of the case page's time.
        self.shapes: dict[type, dict[str, Any]] = {}
        self._first_read: dict[type, Any] = {}

    def __call__(self, *args: Any) -> Any:
        db = database.obj
        entry = self.compiled.get(type(db)) or self._compile(db, args)
        sql, params, slots, template = entry
        values = list(params)
        for position, index in slots:
            values[position] = args[index]
        query = template.clone()
        wrapper = query._get_cursor_wrapper(db.execute_sql(sql, values))
        shape = self.shapes.get(type(db)) or self._shape_of_earlier(type(db))
        if shape is None:
            self._first_read[type(db)] = wrapper
        else:
            wrapper.__dict__.update(shape)
            wrapper.initialized = True
        query._cursor_wrapper = wrapper
        return query

    def _shape_of_earlier(self, kind: type) -> dict[str, Any] | None:
        """What peewee worked out when it read an earlier answer (None before it has)."""
        earlier = self._first_read.get(kind)
        if earlier is None or not earlier.initialized:
            return None
        reading = {"cursor", "count", "index", "initialized", "populated", "row_cache"}
        shape = {k: v for k, v in earlier.__dict__.items() if k not in reading}
        self.shapes[kind] = shape
        self._first_read.pop(kind, None)
        return shape

    def first(self, *args: Any) -> Any:
        """The first row, or None (build the query with .limit(1))."""
        return next(iter(self(*args)), None)

    def rows(self, *args: Any, finish: Callable[[list[Any]], list[Any]] | None = None) -> Rows[Any]:
        """The query run with these values, its rows read when first used (see Rows)."""
        return Rows(self(*args), finish)

    def _compile(self, db: Any, args: tuple[Any, ...]) -> tuple[str, list[Any], Any, Any]:
        placeholders = [_placeholder(i, arg) for i, arg in enumerate(args)]
        template = self.build(*placeholders)
        sql, params = db.get_sql_context().sql(template).query()
        slots = [
            (position, index)
            for position, value in enumerate(params)
            for index, placeholder in enumerate(placeholders)
            if type(value) is type(placeholder) and value == placeholder
        ]
        if {index for _position, index in slots} != set(range(len(args))):
            raise ValueError(f"{self.build}: an argument did not reach the SQL as a parameter")
        self.compiled[type(db)] = (sql, params, slots, template)
        return self.compiled[type(db)]


def _placeholder(index: int, example: Any) -> Any:
    """A value of the example's type that no real argument equals."""
    if isinstance(example, dt.datetime):
        return dt.datetime(1, 2, 3, 4, 5, 6, 700_000 + index)  # noqa: DTZ001  (stored naive)
    if isinstance(example, str):
        return f"\u2063placeholder {index}\u2063"
    if isinstance(example, int) and not isinstance(example, bool):
        return -7_000_000_000_000 - index
    raise TypeError(f"Prepared queries take ints, strings and times, not {type(example)}")


T = TypeVar("T")


class Rows(Sequence[T], Generic[T]):
    """The rows of a query that has been sent, read when they are first used, as a list to
    whoever uses them; `finish` works on them once read (sorts them, sets a relation). Within
    `together()`, a page can so send its queries before it reads any of them."""

    def __init__(self, query: Any, finish: Callable[[list[Any]], list[Any]] | None = None) -> None:
        self._query = query
        self._finish = finish
        self._rows: list[T] | None = None

    def _read(self) -> list[T]:
        if self._rows is None:
            rows = list(self._query)
            self._rows = self._finish(rows) if self._finish else rows
        return self._rows

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._read()[index]

    def __len__(self) -> int:
        return len(self._read())

    def __iter__(self) -> Iterator[T]:
        return iter(self._read())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Rows, list, tuple)):
            return self._read() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a list's

    def __repr__(self) -> str:
        return f"Rows({self._read()!r})"

    def first(self) -> T | None:
        return self[0] if self else None


def sent(query: Any, finish: Callable[[list[Any]], list[Any]] | None = None) -> Rows[Any]:
    """A peewee query run now, its rows read when first used (see Rows and together())."""
    return Rows(query.execute(), finish)


# The psycopg pipeline of the `together()` block running in this context, if any.
_pipeline: ContextVar[Any] = ContextVar("pipeline", default=None)


@contextmanager
def together() -> Iterator[None]:
    """The queries sent inside go to PostgreSQL one after the other without waiting for each
    answer (psycopg's pipeline mode); the first that is read waits for the answers of all sent
    before it, at once. A page that sends its queries first and reads them after (Rows) so pays
    one round trip, not one per query: 0.16 ms each on one machine, a dozen on the case page.
    Nothing changes on SQLite, which answers in the process. Reads only: an error comes when
    the answer is read, as psycopg's own exception."""
    if not isinstance(database.obj, _SendsTogether) or _pipeline.get() is not None:
        yield
        return
    database.connect(reuse_if_open=True)
    with database.connection().pipeline() as pipeline:
        token = _pipeline.set(pipeline)
        try:
            yield
        finally:
            _pipeline.reset(token)


class _SentCursor:
    """A cursor whose query went out in a pipeline. psycopg waits for the answer when a row is
    fetched; this cursor also does before telling how many rows a change touched or which
    columns came (before it, psycopg would answer for no query yet)."""

    def __init__(self, cursor: Any, pipeline: Any) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    def __getattr__(self, name: str) -> Any:
        if name not in ("execute", "close", "pgresult") and self._cursor.pgresult is None:
            self._pipeline.sync()
        return getattr(self._cursor, name)


class _SendsTogether:
    """PostgreSQL, whose cursors inside `together()` wait for their answers when read."""

    def cursor(self, named_cursor: Any = None) -> Any:
        cursor = super().cursor(named_cursor)  # type: ignore[misc]
        pipeline = _pipeline.get()
        return cursor if pipeline is None else _SentCursor(cursor, pipeline)


class _PostgresqlDatabase(_SendsTogether, PostgresqlDatabase):
    pass


class _PooledPostgresqlDatabase(_SendsTogether, PooledPostgresqlDatabase):
    pass


@contextmanager
def alone(lock: int) -> Iterator[None]:
    """A transaction that no other holder of `lock` runs beside: on PostgreSQL it holds that
    advisory lock until it ends; on SQLite it takes the write lock at once (BEGIN IMMEDIATE),
    so that what it reads first is still true when it writes."""
    if isinstance(database.obj, PostgresqlDatabase):
        with database.atomic():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (lock,))
            yield
    else:
        with database.atomic("IMMEDIATE"):
            yield


def create_row_trigger(
    db: Any,
    name: str,
    table: str,
    columns: tuple[str, ...],
    body: Callable[[str, str], str],
    one_at_a_time: tuple[str, str] | None = None,
) -> None:
    """A trigger that runs after each row inserted, deleted, or updated in one of `columns`,
    on SQLite or PostgreSQL alike; made anew when it exists, so that a changed definition
    takes effect at the next init-db or upgrade. `body(event, row)`
    gives its SQL statements for the event (insert, update or delete), `row` naming the row
    (the new one; the old one on delete): the same SQL serves both engines. Names come from
    the code, never from a request; start them with trg_ (see drop_trigger_functions).

    `one_at_a_time`: (what, column). A body that reads other rows to recount what they share
    (a client's cases) must not run beside another one for the same thing: each would read the
    other's change as not yet made, and both would write a stale result. On PostgreSQL the
    body then first waits for a transaction lock on `what` and the row's `column` (both values
    when an update changes it), shared by every trigger naming the same `what`, and its
    statements read what the other transaction committed; SQLite runs one writer at a time."""
    update = f"UPDATE OF {', '.join(columns)}"
    if isinstance(db.obj, PostgresqlDatabase):
        rows = {"insert": "NEW", "update": "NEW", "delete": "OLD"}
        locks = dict.fromkeys(rows, "")
        if one_at_a_time:
            what, column = one_at_a_time
            key = zlib.crc32(what.encode()) & 0x7FFFFFFF
            lock = "PERFORM pg_advisory_xact_lock({key}, {value});"
            locks = {
                "insert": lock.format(key=key, value=f"NEW.{column}"),
                "delete": lock.format(key=key, value=f"OLD.{column}"),
                # Both in the same order in every transaction, so that none waits in a circle.
                "update": lock.format(key=key, value=f"LEAST(OLD.{column}, NEW.{column})")
                + " "
                + lock.format(key=key, value=f"GREATEST(OLD.{column}, NEW.{column})"),
            }
        branches = " ".join(
            f"IF TG_OP = '{event.upper()}' THEN {locks[event]} {body(event, row)} END IF;"
            for event, row in rows.items()
        )
        db.execute_sql(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {branches} RETURN NULL; END $$"
        )
        db.execute_sql(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
        db.execute_sql(
            f'CREATE TRIGGER {name} AFTER INSERT OR {update} OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
        return
    for event, when, row in (
        ("insert", "INSERT", "new"),
        ("update", update, "new"),
        ("delete", "DELETE", "old"),
    ):
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{name}_{event}"')
        db.execute_sql(
            f'CREATE TRIGGER "{name}_{event}" AFTER {when} ON "{table}" '
            f"FOR EACH ROW BEGIN {body(event, row)} END"
        )


def drop_trigger_functions(db: Any) -> None:
    """PostgreSQL: drop the functions of the triggers (all named trg_…), which outlive a dropped
    table (a restore replaces every table, and pg_restore creates the backup's functions)."""
    names = db.execute_sql(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname LIKE 'trg%%'"
    ).fetchall()
    for (name,) in names:
        if name.startswith("trg_"):
            db.execute_sql(f"DROP FUNCTION IF EXISTS {name}() CASCADE")


def tuples_of(query: Any) -> list[tuple[Any, ...]]:
    """The rows of a query as plain tuples (peewee's stubs type .tuples() as model rows)."""
    return list(query.tuples())


def open_database(url: str | None, instance_path: str) -> object:
    """A peewee database for DATABASE_URL, or SQLite in the instance folder when there is none.
    Each process keeps a pool of connections that requests take and hand back: opening one
    costs PostgreSQL a few milliseconds, and SQLite its pragmas, its schema and, on the last
    close, a checkpoint of the WAL. VRIJBAAN_DB_POOL_SIZE=0: a connection per request (for
    PostgreSQL behind pgbouncer)."""
    size = int(os.environ.get("VRIJBAAN_DB_POOL_SIZE", POOL_SIZE))
    stale = int(os.environ.get("VRIJBAAN_DB_POOL_STALE_SECONDS", POOL_STALE_SECONDS))
    if not url:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        url = "sqlite:///" + os.path.join(instance_path, "vrijbaan.sqlite")
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite" and size > 0 and "memory" not in url:
        # No limit: a SQLite connection costs the server nothing. One serves one request at a
        # time, but not always on the same thread.
        return PooledSqliteDatabase(
            **parse(url),
            pragmas=SQLITE_PRAGMAS,
            check_same_thread=False,
            max_connections=None,
            stale_timeout=stale,
        )
    if scheme in ("postgres", "postgresql") and size > 0:
        return _PooledPostgresqlDatabase(
            **parse(url), max_connections=size, stale_timeout=stale, timeout=POOL_WAIT_SECONDS
        )
    if scheme in ("postgres", "postgresql"):
        return _PostgresqlDatabase(**parse(url))
    return connect(url, pragmas=SQLITE_PRAGMAS) if scheme == "sqlite" else connect(url)


def _connect() -> None:
    # A before_request hook must return None, or Flask takes its value as the response.
    database.connect(reuse_if_open=True)


def _close(exc: BaseException | None) -> None:
    # With a pool, close() hands the connection back (rolled back if a transaction was left open).
    if not database.is_closed():
        database.close()


def init_app(app: Flask) -> None:
    database.initialize(open_database(app.config.get("DATABASE_URL"), app.instance_path))
    app.before_request(_connect)
    app.teardown_appcontext(_close)
