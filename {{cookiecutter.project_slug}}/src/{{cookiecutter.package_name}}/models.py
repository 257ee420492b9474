"""The application's models: the schema as it is at the LATEST revision.

Migrations must never import this module's classes: a revision describes the
tables as they were when it was written, and these classes keep changing.
``migrations/env.py`` uses only ``Base.metadata``, to compare against.
"""

from migration_kit import NAMING_CONVENTION{% if cookiecutter.include_sample_revisions %}, exact_unicode{% endif %}
from sqlalchemy import {% if cookiecutter.include_sample_revisions %}ForeignKey, {% endif %}MetaData{% if cookiecutter.include_sample_revisions %}, Unicode{% endif %}
from sqlalchemy.orm import DeclarativeBase{% if cookiecutter.include_sample_revisions %}, Mapped, mapped_column, relationship{% endif %}


class Base(DeclarativeBase):
    # Named constraints, named as every revision's frozen models name them.
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
{%- if cookiecutter.include_sample_revisions %}


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Compared exactly, as revision 2 made it: a new tenant is built from this.
    name: Mapped[str] = mapped_column(exact_unicode(100), unique=True)


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(200))
    position: Mapped[str | None] = mapped_column(Unicode(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)

    team: Mapped[Team | None] = relationship()
{%- endif %}
