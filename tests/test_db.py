"""The database: schema.sql matches the models, init-db is safe to re-run, reference rows exist
(upgrades: test_migrations.py)."""

from pathlib import Path

from tests.conftest import in_db, make_case
from webapp import models
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
