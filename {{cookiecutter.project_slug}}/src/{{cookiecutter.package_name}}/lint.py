"""``make lint-migrations``: lint every revision's PostgreSQL SQL with squawk.

Each revision is rendered on its own in offline mode, as
``alembic upgrade <down>:<revision> --sql`` would (no server needed), and
squawk flags statements that lock or rewrite busy tables. ``.squawk.toml``
holds the project-wide settings. A revision that breaks a rule on purpose
calls ``squawk_ignore`` with a comment saying why.
"""

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

# Offline mode only needs the dialect: nothing ever connects to this.
LINT_URL = "postgresql+psycopg://lint@localhost/lint"


def squawk_ignore(*rules: str) -> None:
    """Let this revision break squawk's ``rules`` on purpose; say why next to it.

    Only the SQL rendered for review carries the ignore, and only for the
    revision that calls it.
    """
    # The migration context, not alembic.context: revisions also run under a
    # bare Operations context (tests, benchmarks), where only op exists.
    migration = op.get_context()
    if migration.as_sql:
        migration.impl.static_output(f"-- squawk-ignore-file {', '.join(rules)}")


def main() -> int:
    config = Config("alembic.ini")
    config.attributes["configure_logger"] = False
    os.environ["DATABASE_URL"] = LINT_URL
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    if not revisions:
        return 0
    with tempfile.TemporaryDirectory() as directory:
        files = [render(config, revision, Path(directory)) for revision in revisions]
        rendered = [str(path) for path in files if path is not None]
        if not rendered:
            return 0
        squawk = Path(sysconfig.get_path("scripts")) / "squawk"
        return subprocess.run([str(squawk), *rendered], check=False).returncode


def render(config: Config, revision: Script, directory: Path) -> Path | None:
    """Write the SQL of this one revision's upgrade to a file named after it.

    A revision that cannot render offline (its data step loads rows through a
    Session) is reported and left out: squawk only reads SQL.
    """
    down = revision.down_revision
    if isinstance(down, tuple):
        # A merge: starting from its first parent lints the other branches too.
        down = down[0]
    target = f"{down}:{revision.revision}" if down else revision.revision
    path = directory / f"{Path(revision.path).stem}.sql"
    try:
        with path.open("w") as output:
            config.output_buffer = output
            command.upgrade(config, target, sql=True)
    except CommandError as error:
        print(f"not linted: {Path(revision.path).name}: {error}", file=sys.stderr)
        return None
    return path


if __name__ == "__main__":
    sys.exit(main())
