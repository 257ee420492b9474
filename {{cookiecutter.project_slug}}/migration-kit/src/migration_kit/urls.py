"""Database URLs from the environment: checked, and shown without secrets.

A URL is read from a variable (DATABASE_URL, TEST_POSTGRES_URL, ...), and a
mistake in it is reported as one line that names the variable and the fix.
No message shows a password: ``shown`` masks it in the userinfo and in query
options such as ``?password=`` or ``?sslpassword=``, and a URL whose password
cannot be told apart from the rest of the URL is refused without echoing it.
"""

import difflib
import re
from urllib.parse import urlencode

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

MASK = "***"
MIN_MASKED = 3
# Query options that carry a secret: password, sslpassword, passwd, pwd, ...
SECRET_OPTION = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)
# A percent sign that does not start an escape such as %40.
STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# SQLAlchemy's own dialects, and the driver each is installed with here.
DIALECTS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite",
    "mssql": "mssql+pyodbc",
    "oracle": "oracle+oracledb",
}
ENCODE_PASSWORD = (
    "python3 -c 'import getpass, urllib.parse; "
    'print(urllib.parse.quote(getpass.getpass(), safe=""))\''
)


class BadURL(ValueError):
    """A URL that cannot work, with one line saying why and what to do."""


def parse_url(raw: str, variable: str) -> URL:
    """The URL in ``raw``, read from ``variable``, or BadURL saying what is wrong."""
    if unencoded_password(raw):
        raise BadURL(
            f"{variable}: the password holds an unencoded @, :, / or %, so the "
            "URL cannot be read: percent-encode the password, e.g. with "
            f"{ENCODE_PASSWORD} (it asks for the password and prints it encoded)."
        )
    try:
        url = make_url(raw)
    # ValueError: a port that is not a number.
    except (ArgumentError, ValueError):
        raise BadURL(
            f"{variable} is not a database URL: use the form "
            "dialect+driver://user:password@host:port/database, "
            "e.g. postgresql+psycopg://app@localhost:5432/app."
        ) from None
    check_dialect(url, variable)
    check_sqlite_form(url, variable)
    return url


def unencoded_password(raw: str) -> bool:
    """Whether the password in ``raw`` holds a character that must be encoded.

    SQLAlchemy ends the password at its first "@", so "pa@ss" would connect
    to host "ss@..." as password "pa". ":", "/" and a stray "%" are read
    differently by other tools; all four must be written as %40, %3A, %2F, %25.
    """
    _scheme, separator, rest = raw.partition("://")
    before_query = rest.split("?", 1)[0]
    if not separator or "@" not in before_query or before_query.startswith("/"):
        return False
    userinfo = before_query.rsplit("@", 1)[0]
    _user, has_password, password = userinfo.partition(":")
    if not has_password:
        return False
    return any(c in password for c in "@:/") or bool(STRAY_PERCENT.search(password))


def check_dialect(url: URL, variable: str) -> None:
    """Refuse a dialect name that no installed SQLAlchemy dialect answers to.

    A known dialect with a missing driver passes: creating the engine names
    the driver to install.
    """
    backend = url.get_backend_name()
    if backend in DIALECTS:
        return
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise BadURL(f"{variable}: {unknown_dialect(url)}") from None


def unknown_dialect(url: URL) -> str:
    # Not url.get_driver_name(): it loads the dialect that does not exist.
    backend, _, driver = url.drivername.partition("+")
    close = difflib.get_close_matches(backend, DIALECTS, n=1)
    if not close:
        known = ", ".join(f"{name}://" for name in DIALECTS.values())
        return f"there is no database dialect {backend!r}: use one of {known}."
    meant = f"{close[0]}+{driver}" if driver else DIALECTS[close[0]]
    return f"there is no database dialect {backend!r}: did you mean {meant}://?"


def check_sqlite_form(url: URL, variable: str) -> None:
    """sqlite://x.db reads x.db as a host name: a file path needs three slashes."""
    if url.get_backend_name() != "sqlite" or not (url.host or url.port):
        return
    path = "/".join(part for part in (url.host, url.database) if part)
    raise BadURL(
        f"{variable}: a SQLite URL has no host: write sqlite:///{path} for a "
        f"path relative to this folder, or sqlite:////absolute/{path}."
    )


def shown(url: URL) -> str:
    """The URL as text for messages, with every password masked."""
    text = url.set(query={}).render_as_string(hide_password=True)
    options = [
        (name, MASK if SECRET_OPTION.search(name) else value)
        for name, values in sorted(url.query.items())
        for value in ((values,) if isinstance(values, str) else values)
    ]
    return f"{text}?{urlencode(options, safe='*')}" if options else text


def secrets(url: URL) -> list[str]:
    """The password and every secret query option of ``url``."""
    values = [url.password or ""]
    for name, value in url.query.items():
        if SECRET_OPTION.search(name):
            values.extend((value,) if isinstance(value, str) else value)
    # Shorter ones would mask unrelated words; a driver rarely echoes any.
    return [str(value) for value in values if len(str(value)) >= MIN_MASKED]


def redacted(text: str, url: URL) -> str:
    """``text`` (a driver's error message, say) with the URL's secrets masked."""
    for secret in secrets(url):
        text = text.replace(secret, MASK)
    return text
