"""The ``nationcap`` command (and ``python -m nationcap``): the command line's entry point.

It turns SIGTERM into an interruption like Ctrl-C (:func:`nationcap.atomic.raise_on_sigterm`)
before the command line's modules are imported, so that a Ctrl-C or SIGTERM during that import
(a second or two) also ends with the one-line message and the exit code of an interruption
(:mod:`nationcap.cli.common`), not a traceback.
"""

from __future__ import annotations

import sys

from .atomic import raise_on_sigterm
from .errors import Terminated

#: exit codes of an interruption (the same as :mod:`nationcap.cli.common`'s)
_EXIT_INTERRUPTED, _EXIT_TERMINATED = 130, 143


def main() -> None:
    raise_on_sigterm()
    try:
        from .cli import cli
    except KeyboardInterrupt as exc:
        print("interrupted: stopped before starting; nothing was written", file=sys.stderr)
        sys.exit(_EXIT_TERMINATED if isinstance(exc, Terminated) else _EXIT_INTERRUPTED)
    cli()


if __name__ == "__main__":
    main()
