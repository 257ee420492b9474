"""``make lint-migrations``: lint every revision's PostgreSQL SQL with squawk.

Each revision is rendered on its own in offline mode, as
``alembic upgrade <down>:<revision> --sql`` would (no server needed), and
squawk flags statements that lock or rewrite busy tables. An online-only
revision is linted too: its steps that need the database are left out as SQL
comments, its schema operations are not (offline.py). ``.squawk.toml``
holds the project-wide settings. A revision that breaks a rule on purpose
calls ``squawk_ignore`` with a comment saying why.

squawk only sees the rendered SQL, in temporary files: its findings (read as
JSON) are reported against the revision instead, at the line of the revision
that emitted the statement, as plain text that a log or an editor can read.
"""

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from alembic import op
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from .offline import LINTING, render, render_failure

# Offline mode only needs the dialect: nothing ever connects to this.
LINT_URL = "postgresql+psycopg://lint@localhost/lint"
LINT_DIALECT = "postgresql"


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


@dataclass
class Rendered:
    """One revision's SQL file, and the revision line behind each SQL line."""

    revision: Path
    sql: Path
    origins: dict[int, int] = field(default_factory=dict)

    def origin(self, sql_line: int) -> int | None:
        """The revision line that wrote SQL line ``sql_line`` (0-based)."""
        return self.origins.get(sql_line)


class Traced:
    """A file Alembic writes SQL to that notes which revision line wrote it.

    The innermost frame of the revision's own file on the stack is the line
    that called ``op`` (or the helper that emitted the statement).
    """

    def __init__(self, output: TextIO, rendered: Rendered) -> None:
        self.output, self.rendered = output, rendered
        self.source = str(rendered.revision)
        self.sql_line = 0

    def write(self, text: str) -> int:
        line = self._revision_line()
        if line is not None:
            for index in range(self.sql_line, self.sql_line + text.count("\n") + 1):
                self.rendered.origins.setdefault(index, line)
        self.sql_line += text.count("\n")
        return self.output.write(text)

    def flush(self) -> None:
        self.output.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.output, name)

    def _revision_line(self) -> int | None:
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename != self.source:
            frame = frame.f_back
        return frame.f_lineno if frame is not None else None


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
        rendered = [file for file in files if file is not None]
        if not rendered:
            return 0
        return lint(rendered, Path(directory))


def lint(rendered: list[Rendered], directory: Path) -> int:
    """Run squawk on the SQL files; report its findings against the revisions."""
    paths = [str(file.sql) for file in rendered]
    if not any(file.sql.parent.name == "versions" for file in rendered):
        # Only revisions in subfolders, which .squawk.toml may exclude
        # (docs/adopting.md); squawk fails when it has no file.
        nothing = directory / "nothing.sql"
        nothing.write_text("-- no statement\n")
        paths.append(str(nothing))
    squawk = Path(sysconfig.get_path("scripts")) / "squawk"
    result = subprocess.run(
        [str(squawk), "--reporter", "json", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        findings = json.loads(result.stdout)
    except json.JSONDecodeError:
        # Not a report (a bad .squawk.toml, say): squawk's own words.
        print(result.stdout + result.stderr, end="", file=sys.stderr)
        return result.returncode or 1
    by_sql = {str(file.sql): file for file in rendered}
    for finding in findings:
        print(describe(finding, by_sql[finding["file"]]))
    print(summary(findings, len(rendered)))
    return 1 if findings else 0


def describe(finding: dict[str, Any], rendered: Rendered) -> str:
    """``migrations/versions/x.py:12: warning: rule: message``, then the SQL."""
    line = rendered.origin(finding["line"])
    where = f"{display(rendered.revision)}{f':{line}' if line else ''}"
    rule = finding["rule_name"]
    statement = rendered.sql.read_text().splitlines()[finding["line"]].strip()
    lines = [
        f"{where}: {finding['level'].lower()}: {rule}: {finding['message']}",
        f"    {statement}",
    ]
    if finding.get("help"):
        lines.append(f"    help: {finding['help']}")
    lines.append(f"    https://squawkhq.com/docs/{rule}")
    return "\n".join(lines)


def display(path: Path) -> str:
    """The revision's path relative to the project, as the user names it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def summary(findings: list[dict[str, Any]], checked: int) -> str:
    files = len({finding["file"] for finding in findings})
    issues = f"{len(findings)} issue{'' if len(findings) == 1 else 's'}"
    if not findings:
        return f"Found {issues} in {checked} files"
    return (
        f"Found {issues} in {files} file{'' if files == 1 else 's'} "
        f"(checked {checked} revisions)"
    )


def render_file(
    config: Config, scripts: ScriptDirectory, revision: Script, directory: Path
) -> Rendered | None:
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
    rendered = Rendered(source, path)
    try:
        with path.open("w") as output:
            render(config, scripts, revision, Traced(output, rendered))
    # Whatever the revision raised (CompileError, NotImplementedError, ...):
    # one line, and the other revisions are still linted.
    except Exception as error:
        cause = render_failure(revision, error, LINT_DIALECT).cause
        print(f"not linted: {source.name}: {cause}", file=sys.stderr)
        return None
    return rendered


if __name__ == "__main__":
    sys.exit(main())
