"""What a user types for a new revision, written into it as data, never as code.

``make revision m="..."`` puts the message in the new file's docstring.
Written as typed, a backslash (``C:\\xampp``) can make the file unreadable,
and three double quotes end the docstring early, so that the rest of the
message runs as code each time alembic reads the history. script.py.mako
writes it through ``docstring`` (environment.py hands it over), so the
docstring reads back exactly as typed.
"""


def docstring(text: str) -> str:
    """``text`` escaped to sit between triple double quotes and read back as is."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return "".join(map(printable, escaped))


def printable(character: str) -> str:
    """A control character as repr escapes it (a tab as \\t); the rest as is."""
    if character.isprintable() or character == "\n":
        return character
    return repr(character)[1:-1]
