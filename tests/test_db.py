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
