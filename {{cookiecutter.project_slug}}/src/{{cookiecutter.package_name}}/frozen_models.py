"""Frozen models for a new revision: the tables as the migrations leave them.

``make revision m="..." tables="players teams"`` (the same as ``alembic
revision -m "..." -x tables=players,teams``) writes the revision with
declarative classes for these tables as they stand at the head of the history.
They come from the migrations, never from ``models.py``, which may already be
ahead of them: every revision up to head runs on a scratch in-memory SQLite
database, which is then reflected. No server is needed, and the database in
DATABASE_URL is never opened.

SQLite reports less than other databases keep, so the classes use the generic
type closest to what it reports, valid on every backend: VARCHAR(n) becomes
``sa.Unicode(n)`` and TEXT ``sa.UnicodeText()``, as SQLite cannot tell String
from Unicode and the Unicode types take any text everywhere. Collations, time
zones and native enum or UUID types do not survive; a data step rarely needs
them, and the comparison of values still follows the real column's collation.
"""

import keyword
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command
from alembic import context as alembic_context
from alembic.config import Config
from alembic.util import CommandError

LINE_LENGTH = 88
INDENT = "    "
# Module-level names of script.py.mako that a class must not shadow.
SCAFFOLD_NAMES = frozenset({"Base", "DeclarativeBase", "Mapped", "Sequence"})
# Attribute names that declarative classes keep for themselves.
RESERVED_ATTRIBUTES = frozenset({"metadata", "registry"})


def writing_a_revision(config: Config) -> bool:
    """True while ``alembic revision`` (not --autogenerate) or ``merge`` runs env.py.

    alembic.ini sets revision_environment so that ``-x tables=...`` reaches
    env.py; these runs only fill script.py.mako and must not open a database.
    """
    options = config.cmd_opts
    command_function = getattr(options, "cmd", (None,))[0]
    return getattr(command_function, "__name__", None) in {"revision", "merge"} and (
        not getattr(options, "autogenerate", False)
    )


def requested_tables(x_arguments: Mapping[str, str]) -> list[str]:
    """The names in ``-x tables=players,teams`` (or spaces, without commas)."""
    raw = x_arguments.get("tables", "")
    names = raw.split("," if "," in raw else None)
    return [name.strip() for name in names if name.strip()]


def template_args(config: Config, tables: Sequence[str]) -> dict[str, str]:
    """``frozen_imports`` and ``frozen_models`` for script.py.mako."""
    if not tables:
        return {}
    at_head = tables_at_head(config)
    unknown = [name for name in tables if name not in at_head.tables]
    if unknown:
        existing = ", ".join(sorted(at_head.tables)) or "none"
        raise CommandError(
            f"unknown table {', '.join(unknown)}: the tables at the head of the "
            f"migrations are {existing}."
        )
    chosen = [at_head.tables[name] for name in dict.fromkeys(tables)]
    imports: set[str] = set()
    classes = [
        render_class(table, name, imports)
        for table, name in zip(chosen, class_names(chosen), strict=True)
    ]
    return {
        "frozen_imports": "".join(f"import {module}\n" for module in sorted(imports)),
        "frozen_models": "\n\n\n".join(classes),
    }


def tables_at_head(config: Config) -> sa.MetaData:
    """Run every revision up to head on a scratch SQLite database; reflect it."""
    scratch = Config(config.config_file_name, ini_section=config.config_ini_section)
    scratch.attributes["configure_logger"] = False
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as connection, nested_command():
            scratch.attributes["connection"] = connection
            try:
                command.upgrade(scratch, "heads")
            except Exception as error:  # any failure of any revision
                raise CommandError(
                    "cannot compute the tables at head: a revision failed on the "
                    f"scratch SQLite database ({' '.join(str(error).split())}); "
                    "write the frozen models by hand."
                ) from None
            metadata = sa.MetaData()
            metadata.reflect(connection)
    finally:
        engine.dispose()
    if "alembic_version" in metadata.tables:
        metadata.remove(metadata.tables["alembic_version"])
    return metadata


@contextmanager
def nested_command() -> Iterator[None]:
    """Run an alembic command inside env.py, then give env.py its context back.

    ``alembic.context`` proxies the one command running: a nested command
    replaces its names and deletes them when it ends, so put ours back.
    """
    proxied = dict(vars(alembic_context))
    try:
        with quiet_alembic_log():
            yield
    finally:
        vars(alembic_context).update(proxied)


@contextmanager
def quiet_alembic_log() -> Iterator[None]:
    """Silence alembic's INFO lines about the scratch SQLite database.

    "Running upgrade ..." or "Context impl SQLiteImpl" would read as if a real
    database were opened.
    """
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def class_names(tables: Sequence[sa.Table]) -> list[str]:
    """``players`` -> ``Player``: distinct names, none the scaffold uses."""
    taken = set(SCAFFOLD_NAMES)
    names = []
    for table in tables:
        words = [word for word in re.split(r"[\W_]+", table.name) if word]
        name = "".join(word[:1].upper() + word[1:] for word in words)
        name = singular(name) if name.isidentifier() else "Table"
        names.append(unique(name, taken, "Table"))
    return names


def singular(name: str) -> str:
    """English plural to singular for the usual cases; the rest stay as they are."""
    for plural, single in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch")):
        if name.endswith(plural):
            return name[: -len(plural)] + single
    if name.endswith("s") and not name.endswith(("ss", "us", "is")) and len(name) > 1:
        return name[:-1]
    return name


def unique(name: str, taken: set[str], suffix: str) -> str:
    """``name``, or with ``suffix`` (then a number) if taken or a keyword."""
    candidate, number = name, 1
    while candidate in taken or keyword.iskeyword(candidate):
        candidate = f"{name}{suffix}" if number == 1 else f"{name}{suffix}{number}"
        number += 1
    taken.add(candidate)
    return candidate


@dataclass(frozen=True)
class Call:
    """A call expression, laid out the way ruff format lays it out."""

    function: str
    arguments: list[str]

    def __str__(self) -> str:
        return f"{self.function}({', '.join(self.arguments)})"

    def render(self, indent: str, prefix: str = "", suffix: str = "") -> str:
        """On one line if it fits; else the arguments on one line; else one each."""
        line = f"{indent}{prefix}{self}{suffix}"
        if len(line) <= LINE_LENGTH or not self.arguments:
            return line
        inner = indent + INDENT
        opening = f"{indent}{prefix}{self.function}(\n"
        closing = f"{indent}){suffix}"
        together = f"{inner}{', '.join(self.arguments)}"
        if len(together) <= LINE_LENGTH:
            return f"{opening}{together}\n{closing}"
        return opening + "".join(f"{inner}{a},\n" for a in self.arguments) + closing


def render_class(table: sa.Table, class_name: str, imports: set[str]) -> str:
    lines = [
        f"class {class_name}(Base):",
        f"{INDENT}__tablename__ = {quote(table.name)}",
    ]
    table_args = [*unique_constraints(table), *composite_foreign_keys(table)]
    table_args += indexes(table)
    if table_args:
        lines.append(render_tuple(f"{INDENT}__table_args__ = ", table_args))
    lines.append("")
    taken = {"__tablename__", "__table_args__", *RESERVED_ATTRIBUTES}
    lines += [render_column(column, taken, imports) for column in table.columns]
    return "\n".join(lines)


def render_column(column: sa.Column, taken: set[str], imports: set[str]) -> str:
    attribute = python_name(column.name, taken)
    python_type = annotation(column.type, imports)
    if column.nullable and not column.primary_key:
        python_type += " | None"
    arguments = [] if attribute == column.name else [quote(column.name)]
    arguments.append(render_type(column.type))
    arguments += [str(foreign_key) for foreign_key in foreign_keys_of(column)]
    if column.primary_key:
        arguments.append("primary_key=True")
    call = Call("mapped_column", arguments)
    return call.render(INDENT, prefix=f"{attribute}: Mapped[{python_type}] = ")


def python_name(name: str, taken: set[str]) -> str:
    """The column name when it can be an attribute, else a cleaned-up one."""
    cleaned = re.sub(r"\W", "_", name)
    if not cleaned.isidentifier():  # starts with a digit
        cleaned = f"_{cleaned}"
    return unique(cleaned, taken, "_")


def generic_type(reflected: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """The generic SQLAlchemy type of a reflected SQLite type."""
    try:
        generic = reflected.as_generic()
    except NotImplementedError:  # a column declared without a type
        return sa.types.NullType()
    if isinstance(generic, sa.Text):
        return sa.UnicodeText()
    if isinstance(generic, sa.String):
        return sa.Unicode(generic.length)
    return generic


def render_type(reflected: sa.types.TypeEngine) -> str:
    generic = generic_type(reflected)
    if isinstance(generic, sa.types.NullType):
        return "sa.types.NullType()"
    arguments: list[object] = []
    if isinstance(generic, sa.String) and generic.length is not None:
        arguments = [generic.length]
    elif type(generic) is sa.Numeric and generic.precision is not None:
        arguments = [generic.precision]
        if generic.scale is not None:
            arguments.append(generic.scale)
    return str(Call(f"sa.{type(generic).__name__}", list(map(str, arguments))))


def annotation(reflected: sa.types.TypeEngine, imports: set[str]) -> str:
    """The Python type inside ``Mapped[...]``, importing its module if needed."""
    generic = generic_type(reflected)
    try:
        python_type = generic.python_type
    except NotImplementedError:
        python_type = object
    if isinstance(generic, sa.JSON) or python_type is object:
        imports.add("typing")
        return "typing.Any"
    if python_type.__module__ == "builtins":
        return python_type.__qualname__
    imports.add(python_type.__module__)
    return f"{python_type.__module__}.{python_type.__qualname__}"


def foreign_keys_of(column: sa.Column) -> list[Call]:
    """The column's own foreign keys; composite ones go to __table_args__."""
    return [
        Call("sa.ForeignKey", [quote(target(key)), *fk_options(key)])
        for key in sorted(column.foreign_keys, key=target)
        if len(key.constraint.elements) == 1
    ]


def composite_foreign_keys(table: sa.Table) -> list[Call]:
    return [
        Call(
            "sa.ForeignKeyConstraint",
            [
                render_list(constraint.column_keys),
                render_list(map(target, constraint.elements)),
                *fk_options(constraint),
            ],
        )
        for constraint in sorted(table.foreign_key_constraints, key=columns_of)
        if len(constraint.elements) > 1
    ]


def target(foreign_key: sa.ForeignKey) -> str:
    return f"{foreign_key.column.table.name}.{foreign_key.column.name}"


def fk_options(foreign_key: sa.ForeignKey | sa.ForeignKeyConstraint) -> list[str]:
    return [
        f"{option}={quote(value)}"
        for option in ("ondelete", "onupdate")
        if (value := getattr(foreign_key, option))
    ]


def unique_constraints(table: sa.Table) -> list[Call]:
    constraints = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    return [
        Call("sa.UniqueConstraint", [*map(quote, columns_of(c)), *name_of(c)])
        for c in sorted(constraints, key=columns_of)
    ]


def indexes(table: sa.Table) -> list[Call]:
    return [
        Call(
            "sa.Index",
            [
                quote(str(index.name)),
                *map(quote, columns_of(index)),
                *(["unique=True"] if index.unique else []),
            ],
        )
        for index in sorted(table.indexes, key=lambda index: str(index.name))
    ]


def columns_of(
    item: sa.UniqueConstraint | sa.ForeignKeyConstraint | sa.Index,
) -> list[str]:
    return [column.name for column in item.columns]


def name_of(constraint: sa.Constraint) -> list[str]:
    return [f"name={quote(str(constraint.name))}"] if constraint.name else []


def quote(text: str) -> str:
    """A string literal the way ruff format writes it: double quotes."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def render_list(items: Iterable[str]) -> str:
    return f"[{', '.join(map(quote, items))}]"


def render_tuple(head: str, items: list[Call]) -> str:
    """``__table_args__ = (...)``, one item a line unless a single one fits."""
    if len(items) == 1 and len(line := f"{head}({items[0]},)") <= LINE_LENGTH:
        return line
    rendered = "".join(item.render(INDENT * 2, suffix=",") + "\n" for item in items)
    return f"{head}(\n{rendered}{INDENT})"
