"""``make lint-migrations``: lint every revision's PostgreSQL SQL with squawk.

Each revision is rendered on its own in offline mode, as
``alembic upgrade <down>:<revision> --sql`` would (no server needed), and
squawk flags statements that lock or rewrite busy tables. An online-only
revision is linted too: its steps that need the database are left out as SQL
comments, its schema operations are not (offline.py). ``.squawk.toml``
holds the project-wide settings. A revision that breaks a rule on purpose
calls ``squawk_ignore`` with a comment saying why.
"""

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from alembic import op
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from .offline import LINTING, render, render_failure

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
    # Steps that need a database leave a comment instead (offline.py).
    config.attributes[LINTING] = True
    os.environ["DATABASE_URL"] = LINT_URL
    scripts = ScriptDirectory.from_config(config)
    revisions = list(scripts.walk_revisions())
    with tempfile.TemporaryDirectory() as directory:
        files = [render_file(config, scripts, r, Path(directory)) for r in revisions]
        rendered = [str(path) for path in files if path is not None]
        if not rendered:
            return 0
        if not any(Path(path).parent.name == "versions" for path in rendered):
            # Only revisions in subfolders, which .squawk.toml may exclude
            # (docs/adopting.md); squawk fails when it has no file.
            nothing = Path(directory) / "nothing.sql"
            nothing.write_text("-- no statement\n")
            rendered.append(str(nothing))
        squawk = Path(sysconfig.get_path("scripts")) / "squawk"
        return subprocess.run([str(squawk), *rendered], check=False).returncode


def render_file(
    config: Config, scripts: ScriptDirectory, revision: Script, directory: Path
) -> Path | None:
    """Write the SQL of this one revision's upgrade to a file named after it.

    A revision that still cannot render (an online-only one that needs the
    database for more than a helper's step) is named in one line and left
    out: squawk only reads SQL.
    """
    # The revision's folder stays in the path, so that .squawk.toml can leave
    # out a whole folder (excluded_paths = ["*/legacy/*"]).
    source = Path(revision.path)
    path = directory / source.parent.name / f"{source.stem}.sql"
    path.parent.mkdir(exist_ok=True)
    try:
        with path.open("w") as output:
            render(config, scripts, revision, output)
    # Whatever the revision raised (CompileError, NotImplementedError, ...):
    # one line, and the other revisions are still linted.
    except Exception as error:
        cause = render_failure(revision, error).cause
        print(f"not linted: {source.name}: {cause}", file=sys.stderr)
        return None
    return path


if __name__ == "__main__":
    sys.exit(main())
