"""``migration-kit``: the package's commands, one entry for all of them.

    migration-kit baseline [--exclude TABLE ...] [-m MESSAGE]
    migration-kit lint
    migration-kit version

The project's Makefile wraps each one (``make baseline``, ``make
lint-migrations``); run them from the project's folder.
"""

import sys
from collections.abc import Callable, Sequence

from . import __version__, baseline, lint

COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "baseline": baseline.main,
    "lint": lambda arguments: lint.main(),
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
    return COMMANDS[arguments[0]](arguments[1:])


if __name__ == "__main__":
    sys.exit(main())
