"""In a PostgreSQL project, frozen models keep PostgreSQL's own types.

`make revision tables=...` computes the tables at head on an embedded
PostgreSQL, with no server and no docker, so a history that only runs on
PostgreSQL works and JSONB, UUID, ENUM, timestamptz and arrays come out as
themselves. Here a revision that needs an extension (citext) adds such a table.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .baking import run
from .no_server import assert_nothing_left, installed_outside_pytest, without_servers
from .test_harness import added

# Writing a revision must never open DATABASE_URL: this one cannot be reached.
UNREACHABLE = {"DATABASE_URL": "postgresql+psycopg://app:s3cret@127.0.0.1:9/nowhere"}

EVENTS_REVISION = '''"""Create events, in PostgreSQL's own types.

Revision ID: e0e0e0000003
Revises: 8f7a6b5c4d02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e0e0e0000003"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS citext")
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("mood", postgresql.ENUM("calm", "angry", name="mood")),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scores", postgresql.ARRAY(sa.Integer())),
        sa.Column("email", postgresql.CITEXT()),
        # Named like the modules the frozen class reads: renamed attributes.
        sa.Column("uuid", sa.Uuid()),
        sa.Column("postgresql", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.execute("DROP TYPE mood")
'''

FROZEN_EVENT = """class Event(Base):
    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(sa.UUID(), primary_key=True)
    payload: Mapped[typing.Any] = mapped_column(postgresql.JSONB(astext_type=sa.Text()))
    mood: Mapped[str | None] = mapped_column(
        postgresql.ENUM("calm", "angry", name="mood")
    )
    happened_at: Mapped[datetime.datetime] = mapped_column(
        postgresql.TIMESTAMP(timezone=True)
    )
    scores: Mapped[list | None] = mapped_column(postgresql.ARRAY(sa.INTEGER()))
    email: Mapped[str | None] = mapped_column(postgresql.CITEXT())
    uuid_: Mapped[uuid.UUID | None] = mapped_column("uuid", sa.UUID())
    postgresql_: Mapped[str | None] = mapped_column("postgresql", sa.TEXT())
"""


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="frozen-postgresql-") as folder:
        yield installed_outside_pytest(
            Path(folder), database="postgresql", include_docker=False
        )


def test_make_revision_freezes_postgresql_types_with_no_server(
    project: Path, temporary: Path
) -> None:
    versions = project / "migrations/versions"
    env = {**without_servers(temporary), **UNREACHABLE}
    with added(versions / "2026_01_03_0000-e0e0e0000003_events.py", EVENTS_REVISION):
        run(["make", "revision", "m=tag events", "tables=events"], project, env)
        [written] = versions.glob("*_tag_events.py")
        try:
            frozen = written.read_text()
            run([".venv/bin/ruff", "check", "--no-cache", str(written)], project)
            # The classes build: every type and import in them is right.
            run([".venv/bin/python", str(written)], project)
        finally:
            written.unlink()

    assert FROZEN_EVENT in frozen
    assert "from sqlalchemy.dialects import postgresql\n" in frozen
    assert_nothing_left(temporary)
