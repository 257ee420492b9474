"""Refuse answers that would generate a broken project.

Cookiecutter renders this file before running it, so the answers arrive as JSON
literals (``tojson``): quotes or backslashes in a name cannot break the code.
On a bad answer we print one ``ERROR:`` line and exit 1; cookiecutter then
deletes the half-made output folder.
"""

import json
import keyword
import re
import sys

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
# Both names appear in import lines and docstrings, which must stay within
# ruff's 88 columns.
MAX_LENGTH = 40
# Names the generated project imports itself; a package with one of them would
# shadow the real thing.
TAKEN = {"alembic", "sqlalchemy", "migrations", "tests", "pytest", "hypothesis"}


def slug_error(slug: str) -> str | None:
    if len(slug) > MAX_LENGTH:
        return f"project_slug is {len(slug)} characters long: keep it to {MAX_LENGTH}."
    if SLUG.match(slug):
        return None
    return (
        f"project_slug {slug!r} is not a valid folder name: use lowercase letters, "
        "digits and single hyphens, starting with a letter (e.g. 'team-migrations')."
    )


def package_error(package: str) -> str | None:
    if len(package) > MAX_LENGTH:
        return (
            f"package_name is {len(package)} characters long: keep it to {MAX_LENGTH}."
        )
    if not PACKAGE.match(package):
        return (
            f"package_name {package!r} is not a Python identifier: use lowercase "
            "letters, digits and underscores, not starting with a digit "
            "(e.g. 'team_migrations')."
        )
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        return (
            f"package_name {package!r} is a Python keyword: "
            f"choose another, e.g. '{package}_db'."
        )
    if package in sys.stdlib_module_names or package in TAKEN:
        return (
            f"package_name {package!r} would shadow the module of that name: "
            f"choose another, e.g. '{package}_db'."
        )
    return None


def errors(answers: dict[str, str]) -> list[str]:
    found = [
        slug_error(answers["project_slug"]),
        package_error(answers["package_name"]),
    ]
    return [error for error in found if error]


def main(answers: dict[str, str]) -> int:
    for error in errors(answers)[:1]:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # Cookiecutter renders this file first; tojson twice gives a Python string
    # literal holding JSON, whatever characters the answers contain.
    ANSWERS = json.loads({{ {
        "project_slug": cookiecutter.project_slug,
        "package_name": cookiecutter.package_name,
    }|tojson|tojson }})  # noqa: E501  # fmt: skip
    sys.exit(main(ANSWERS))
