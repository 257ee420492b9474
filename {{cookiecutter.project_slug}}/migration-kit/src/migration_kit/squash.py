"""``make squash to=<rev>``: one revision in place of every revision up to <rev>.

The new revision keeps the id <rev>, so a database at <rev> or past it is
already where the new history says it is: it needs no stamp. Like ``make
baseline``, its operations are Alembic's own (``create_table`` with
constraints, ``create_index``), read from a disposable database that the old
history upgraded to <rev>; the rows the old revisions inserted there (lookup
data) come along as ``op.bulk_insert``. A history that makes a different
schema per database gets one set of operations per backend.

Nothing is written before it is proved, on every backend the harness tests:
a disposable database built by the squashed history has the schema
(schema_snapshot.py) and rows of one built by the old history, at <rev>; and
after both get the harness's seeded rows and the later revisions, again at
head. Then the replaced files are deleted, the new one is written, and
versions.sum follows. The new revision lists the ids it replaced in
``replaces``, so ``make migrate`` takes over what a database recorded for
them (applied.py).
"""

from __future__ import annotations

import copy
import datetime
import decimal
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import _render_cmd_body, _repr_type
from alembic.config import Config
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from . import baseline, history, ledger
from .settings import alembic_config, project_root

Rows = dict[str, list[dict[str, Any]]]
# Casts, parentheses and spaces: how PostgreSQL rewords a check constraint.
CHECK_NOISE = re.compile(r"::[a-z ]+(\[\])?|[()\s]")
# The imports a rendered value needs, by the type of the value.
VALUE_IMPORTS = {
    datetime.date: "import datetime",
    datetime.time: "import datetime",
    datetime.timedelta: "import datetime",
    decimal.Decimal: "from decimal import Decimal",
    uuid.UUID: "from uuid import UUID",
}


@dataclass
class State:
    """A database's schema and rows, at <rev> and at head."""

    at_rev: tuple[dict, Rows] = ({}, {})
    at_head: tuple[dict, Rows] = ({}, {})
    upgrade: str = ""
    downgrade: str = ""
    imports: set[str] = field(default_factory=set)


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        raise CommandError("name the newest revision to squash: make squash to=<id>")
    config = alembic_config()
    script = history.load(ScriptDirectory.from_config(config))
    target, replaced = squashable(script, arguments[0])
    backends = tested_backends()
    with tempfile.TemporaryDirectory(prefix="squash-") as scratch:
        old = {b: built(b, config, target.revision, Path(scratch)) for b in backends}
        text = revision_text(target, replaced, old)
        squashed = copy_of_history(config, script, replaced, text, Path(scratch))
        for backend in backends:
            prove(backend, squashed, target.revision, old[backend], Path(scratch))
        path = write(script, target, replaced, (squashed / "versions.py").read_text())
    print(
        f"squashed {len(replaced)} revisions into {target.revision} "
        f"({history.shown(path)}), proved the same schema and rows on "
        f"{', '.join(backends)}: databases at {target.revision} or past it "
        "need nothing; upgrade older ones to it before deploying "
        "(docs/history.md)."
    )
    return 0


def squashable(script: ScriptDirectory, name: str) -> tuple[Script, list[Script]]:
    """The revision named, and it with every revision below it, oldest first."""
    try:
        target = script.get_revision(name)
    except Exception:  # alembic's ResolutionError and friends
        target = None
    if target is None:
        raise CommandError(f"no revision {name!r}: make history lists them")
    below = list(reversed(list(script.iterate_revisions(target.revision, "base"))))
    if len(below) < 2:
        raise CommandError(
            f"{target.revision} is the first revision: nothing to squash"
        )
    ids = {found.revision for found in below}
    for found in script.walk_revisions():
        ancestors = {
            a.revision for a in script.iterate_revisions(found.revision, "base")
        }
        if found.revision not in ids and target.revision not in ancestors:
            raise CommandError(
                f"revision {found.revision} does not build on {target.revision}: "
                "squash only a stretch that every later revision builds on."
            )
    return target, below


def tested_backends() -> list[str]:
    """Every backend: the squashed revision is written, and proved, for each
    (the harness renders every revision for all of them)."""
    from .harness.disposable_database import BACKENDS, untested_backends

    for reason in untested_backends().values():
        raise CommandError(
            f"{reason}: make squash proves the new revision on every backend "
            "before it writes anything."
        )
    return list(BACKENDS)


@contextmanager
def database(backend: str, scratch: Path) -> Iterator[sa.Engine]:
    from .harness.disposable_database import disposable_database

    with disposable_database(backend, scratch) as engine:
        yield engine


def upgrade(engine: sa.Engine, config: Config, target: str) -> None:
    """``alembic upgrade <target>`` on ``engine``, as the harness runs it."""
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, target)
            connection.commit()
        finally:
            del config.attributes["connection"]


def built(backend: str, config: Config, target: str, scratch: Path) -> State:
    """What the old history builds: at <target> (with the operations that
    rebuild it), then seeded and at head."""
    state = State()
    with database(backend, scratch) as engine:
        upgrade(engine, config, target)
        with engine.connect() as connection:
            state.at_rev = described(connection)
            render_operations(state, connection)
        seed_and_finish(engine, config, state)
    return state


def seed_and_finish(engine: sa.Engine, config: Config, state: State) -> None:
    from .harness import seeding

    with engine.begin() as connection:
        tables = [name for name in state.at_rev[1] if not state.at_rev[1][name]]
        seeding.seed_empty_tables(connection, tables, seeding.settings())
    upgrade(engine, config, "heads")
    with engine.connect() as connection:
        state.at_head = described(connection)


def described(connection: sa.Connection) -> tuple[dict, Rows]:
    from .harness.schema_snapshot import IGNORED_TABLES, snapshot
    from .harness.table_rows import _rows

    shape = snapshot(connection)
    names = [
        t for t in sa.inspect(connection).get_table_names() if t not in IGNORED_TABLES
    ]
    return shape, {name: _rows(connection, name)[1] for name in sorted(names)}


def render_operations(state: State, connection: sa.Connection) -> None:
    """The operations that make this schema and these rows, as Python."""
    metadata = sa.MetaData()
    sa.event.listen(metadata, "column_reflect", baseline.leave_out_serial_default)
    left_out = set(baseline.ALWAYS_LEFT_OUT)
    metadata.reflect(connection, only=lambda name, _: name not in left_out)
    tables = list(metadata.tables.values())
    for table in tables:
        baseline.keep_names(table)
    upgrade, downgrade = baseline.operations(tables, connection.dialect.name)
    context = MigrationContext.configure(dialect_name=connection.dialect.name)
    autogen = AutogenContext(
        context,
        opts={
            "sqlalchemy_module_prefix": "sa.",
            "alembic_module_prefix": "op.",
            "user_module_prefix": None,
            "render_item": None,
            "render_as_batch": False,
        },
    )
    autogen.imports = set()
    state.upgrade = rendered(ops.UpgradeOps(ops=upgrade), autogen)
    state.upgrade += seed_data(state, metadata, autogen)
    state.downgrade = rendered(ops.DowngradeOps(ops=downgrade), autogen)
    state.imports |= set(autogen.imports)


def rendered(operations: ops.OpContainer, autogen: AutogenContext) -> str:
    lines = _render_cmd_body(operations, autogen).splitlines()
    kept = [line for line in lines if not line.strip().startswith("# ###")]
    return "\n".join(kept).strip()


def seed_data(state: State, metadata: sa.MetaData, autogen: AutogenContext) -> str:
    """``op.bulk_insert`` of each table's rows, parents first; typed columns,
    so that ``--sql`` can render the values."""
    rows = state.at_rev[1]
    parts = []
    for table in metadata.sorted_tables:
        if not rows.get(table.name):
            continue
        columns = ", ".join(
            f"sa.column({column.name!r}, {_repr_type(column.type, autogen)})"
            for column in table.columns
        )
        values = ", ".join(value(row, state.imports) for row in rows[table.name])
        parts.append(f"op.bulk_insert(sa.table({table.name!r}, {columns}), [{values}])")
    return "".join(f"\n{part}" for part in parts)


def value(row: dict[str, Any], imports: set[str]) -> str:
    for item in row.values():
        for kind, line in VALUE_IMPORTS.items():
            if isinstance(item, kind):
                imports.add(line)
    return repr(row)


def revision_text(
    target: Script, replaced: list[Script], states: dict[str, State]
) -> str:
    """The squashed revision: one pair of functions per backend."""
    ids = [found.revision for found in replaced]
    functions = "".join(
        f"\n\ndef upgrade_{backend}() -> None:\n{indented(state.upgrade)}"
        f"\n\ndef downgrade_{backend}() -> None:\n{indented(state.downgrade)}"
        for backend, state in states.items()
    )
    imports = sorted(set().union(*(state.imports for state in states.values())))
    return f'''"""Squashed: the {len(ids)} revisions up to {target.revision}, as one.

Revision ID: {target.revision}
Revises:
Create Date: {datetime.datetime.now().replace(microsecond=0)}

make squash to={target.revision} replaced them with this revision, which
builds the schema and rows they built, proved the same on
{", ".join(states)} (docs/history.md). A database at this revision or past it
needs nothing; one older than it must first be upgraded to it by the release
before the squash.
"""
# ruff: noqa: E501 (the database's own text of defaults and checks, unbroken)

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
{chr(10).join(imports)}

revision: str = {target.revision!r}
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# The revisions this one replaced, oldest first.
replaces: tuple[str, ...] = {tuple(ids)!r}


def upgrade() -> None:
    for_this_database(UPGRADES)()


def downgrade() -> None:
    for_this_database(DOWNGRADES)()


def for_this_database(functions: dict) -> Callable[[], None]:
    dialect = op.get_context().dialect.name
    dialect = "mysql" if dialect == "mariadb" else dialect
    if dialect not in functions:
        raise NotImplementedError(
            f"squashed on {{', '.join(functions)}} only: squash again with "
            f"{{dialect}} tested, or upgrade with the history before the squash"
        )
    return functions[dialect]
{functions}


UPGRADES = {{{", ".join(f"{b!r}: upgrade_{b}" for b in states)}}}
DOWNGRADES = {{{", ".join(f"{b!r}: downgrade_{b}" for b in states)}}}
'''.replace(
        "from collections.abc import Sequence",
        "from collections.abc import Callable, Sequence",
    )


def indented(body: str) -> str:
    return "".join(f"    {line}\n" if line else "\n" for line in body.splitlines())


def copy_of_history(
    config: Config,
    script: ScriptDirectory,
    replaced: list[Script],
    text: str,
    scratch: Path,
) -> Path:
    """A copy of the migrations folder with the squash in place of the replaced
    files; the squashed file, formatted, also as ``versions.py`` beside it."""
    copy = scratch / "migrations"
    shutil.copytree(script.dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
    versions = Path(script.versions)
    for found in replaced:
        (copy / "versions" / Path(found.path).relative_to(versions)).unlink()
    new = copy / "versions" / file_name(replaced[-1])
    new.write_text(text)
    tidy(new)
    (copy / "versions.py").write_text(new.read_text())
    return copy


def file_name(target: Script) -> str:
    """The replaced file's name, with a slug that says what it is now."""
    name = Path(target.path).name
    prefix = name.split(target.revision)[0] if target.revision in name else ""
    return f"{prefix}{target.revision}_squashed.py"


def tidy(path: Path) -> None:
    """Ruff, as alembic.ini's post-write hooks run it on a new revision."""
    settings = project_root() / "pyproject.toml"
    for arguments in (["check", "--fix", "--quiet"], ["format", "--quiet"]):
        config = ["--config", str(settings)] if settings.is_file() else []
        subprocess.run(
            [sys.executable, "-m", "ruff", *arguments, *config, str(path)],
            capture_output=True,
            check=False,
        )


def squashed_config(copy: Path) -> Config:
    config = alembic_config()
    config.set_main_option("script_location", str(copy))
    config.set_main_option("version_locations", str(copy / "versions"))
    return config


def prove(backend: str, copy: Path, target: str, old: State, scratch: Path) -> None:
    """Raise CommandError unless the squashed history builds what the old one did."""
    config = squashed_config(copy)
    new = State()
    with database(backend, scratch) as engine:
        upgrade(engine, config, target)
        with engine.connect() as connection:
            new.at_rev = described(connection)
        seed_and_finish(engine, config, new)
    for where, before, after in (
        (f"at {target}", old.at_rev, new.at_rev),
        ("at head, seeded", old.at_head, new.at_head),
    ):
        difference = first_difference(before, after)
        if difference:
            raise CommandError(
                f"the squashed history differs from the old one on {backend} "
                f"{where}: {difference}; nothing was written."
            )


def first_difference(before: tuple[dict, Rows], after: tuple[dict, Rows]) -> str:
    from .harness import table_rows
    from .harness.schema_snapshot import differences

    changes = differences(*(checks_in_any_words(shape) for shape in (before, after)))
    if changes:
        return changes[0]
    for table in sorted(before[1].keys() | after[1].keys()):
        old, new = before[1].get(table, []), after[1].get(table, [])
        rows = table_rows.differences([], old, new) if old != new else []
        if rows:
            return f"{table}: {rows[0]}"
    return ""


def checks_in_any_words(state: tuple[dict, Rows]) -> dict:
    """The schema with each check constraint's text without casts or
    parentheses: PostgreSQL stores the text it was given in words of its own
    (``x IN ('a')`` comes back as ``(x)::text = ANY (ARRAY[...]))``), and
    those words, given again, come back in other ones."""
    shape = copy.deepcopy(state[0])
    for table in shape.get("tables", {}).values():
        if "check constraints" in table:
            table["check constraints"] = sorted(
                CHECK_NOISE.sub("", check) for check in table["check constraints"]
            )
    return shape


def write(
    script: ScriptDirectory, target: Script, replaced: list[Script], text: str
) -> Path:
    """Delete the replaced files, write the squash, and record it."""
    sums = ledger.read_sums(script)
    for found in replaced:
        Path(found.path).unlink()
        sums.pop(found.revision, None)
    path = Path(script.versions) / file_name(target)
    path.write_text(text)
    script = ScriptDirectory.from_config(alembic_config())
    sums[target.revision] = ledger.fingerprint(path)
    ledger.write_sums(script, sums)
    return path
