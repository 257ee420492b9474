from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from {{ cookiecutter.package_name }}.models import Base

from .migration_steps import MigrationSteps


def test_models_match_migrations_at_head(steps: MigrationSteps) -> None:
    steps.upgrade("head")
    with steps.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], (
        f"the models and the migrations differ; write a revision for: {differences}"
    )
