"""The database: schema.sql matches the models, init-db is safe to re-run, reference rows exist
(upgrades: test_migrations.py)."""

from pathlib import Path

from tests.conftest import in_db, make_case
from webapp import models
from webapp.db import database, open_database
from webapp.models import schema_sql


def test_schema_sql_is_regenerated_from_the_models() -> None:
    kept = (Path(__file__).parent.parent / "schema.sql").read_text()
    assert kept == schema_sql(), (
        "schema.sql is stale: run `flask --app wsgi schema-sql > schema.sql`"
    )


def test_init_db_keeps_existing_data(app, runner, mediator) -> None:
    case = make_case(mediator)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    assert in_db(lambda: models.Case.get_by_id(case.id).client.first_name) == "Amina"
    assert in_db(lambda: models.StepDefinition.select().count()) == 9


def test_default_steps_and_threshold_categories_are_seeded(app) -> None:
    labels = in_db(lambda: [s.label for s in models.StepDefinition.ordered()])
    assert labels[0] == "Aanmelding" and labels[-1] == "Afronding" and len(labels) == 9
    assert in_db(lambda: models.ThresholdCategory.select().count()) == 12


def test_requests_share_a_pool_of_connections(app, client, mediator, monkeypatch):
    """Opening a connection costs PostgreSQL milliseconds, and SQLite its pragmas and a WAL
    checkpoint: requests hand their connection back to a pool, and the next one reuses it."""

    postgres = app.config["DATABASE_URL"].startswith("postgres")
    client.login(mediator)
    seen = []
    for _ in range(3):
        assert client.get("/").status_code == 200
        assert database.is_closed()  # handed back at the end of the request
        with database.connection_context():
            if postgres:
                seen.append(database.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
            else:
                seen.append(id(database.connection()))
    assert len(set(seen)) == 1
    assert database.obj._max_connections == (20 if postgres else None)

    monkeypatch.setenv("VRIJBAAN_DB_POOL_SIZE", "0")  # behind pgbouncer: a plain connection
    plain = open_database(app.config["DATABASE_URL"], app.instance_path)
    assert not hasattr(plain, "_max_connections")


def test_a_prepared_query_gives_what_the_query_gives_with_each_calls_values(
    app, mediator, other_mediator
) -> None:
    """Compiled once, run with each call's values: the rows are those of the query built
    anew, for every argument type it takes, on this engine."""
    import datetime as dt

    from webapp.db import Prepared
    from webapp.timeutil import utcnow

    mine, theirs = make_case(mediator), make_case(other_mediator)
    later = utcnow() + dt.timedelta(minutes=1)

    def build(mediator_id, status, before):
        return (
            models.Case.select(models.Case, models.Client)
            .join(models.Client)
            .where(
                models.Case.mediator == mediator_id,
                models.Case.status == status,
                models.Case.opened_at < before,
            )
            .order_by(models.Case.id)
        )

    prepared = Prepared(build)

    def run() -> None:
        for user, case in ((mediator, mine), (other_mediator, theirs), (mediator, mine)):
            rows = list(prepared(user.id, "open", later))
            assert [r.id for r in rows] == [r.id for r in build(user.id, "open", later)]
            assert [(r.id, r.client.first_name) for r in rows] == [
                (case.id, case.client.first_name)
            ]
        assert list(prepared(mediator.id, "closed", later)) == []
        assert prepared.first(mediator.id, "open", mine.opened_at) is None

    in_db(run)


def test_a_prepared_query_refuses_an_argument_that_is_no_parameter(app) -> None:
    """An argument used in Python (not compared in SQL) would be frozen at its placeholder:
    refused at the first call, not answered wrongly ever after."""
    import datetime as dt

    import pytest

    from webapp.db import Prepared
    from webapp.timeutil import utcnow

    frozen = Prepared(
        lambda now: models.Case.select().where(models.Case.opened_at > now - dt.timedelta(days=1))
    )
    with pytest.raises(ValueError, match="did not reach the SQL"):
        in_db(lambda: frozen(utcnow()))


def test_queries_sent_together_give_their_rows_when_read(app, mediator, other_mediator) -> None:
    """Inside together() a page sends its queries first and reads them after: each gives the
    rows it gives alone, a query read in between included; on PostgreSQL none has its answer
    before the first read, and the first read brings every answer sent before it."""
    from webapp.db import Prepared, Rows, together

    mine, theirs = make_case(mediator), make_case(other_mediator)
    of_mediator = Prepared(
        lambda mediator_id: (
            models.Case.select(models.Case, models.Client)
            .join(models.Client)
            .where(models.Case.mediator == mediator_id)
        )
    )
    postgres = app.config["DATABASE_URL"].startswith("postgres")

    def run() -> None:
        with together():
            first: Rows[models.Case] = of_mediator.rows(mediator.id)
            second = of_mediator.rows(other_mediator.id)
            cursors = [first._query._cursor_wrapper.cursor, second._query._cursor_wrapper.cursor]
            if postgres:
                assert all(cursor.pgresult is None for cursor in cursors)  # asked, not waited
            # Queries of peewee's own, read at once in the middle of the block.
            assert models.User.get_by_id(other_mediator.id).name == other_mediator.name
            renamed = models.User.update(phone="0470 12 34 56").where(
                models.User.id.in_([mediator.id, other_mediator.id])
            )
            assert renamed.execute() == 2  # how many rows changed, known before it is read
            if postgres:
                assert all(cursor.pgresult is not None for cursor in cursors)
            third = of_mediator.rows(mediator.id)
            assert [(c.id, c.client.last_name) for c in first] == [(mine.id, mine.client.last_name)]
        assert [c.id for c in second] == [theirs.id]
        assert [c.id for c in third] == [mine.id] and len(third) == 1 and third.first() == mine
        assert of_mediator.rows(-1).first() is None

    in_db(run)
