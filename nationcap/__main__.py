"""The ``nationcap`` command (and ``python -m nationcap``): the command line's entry point.

A Ctrl-C or SIGTERM before the command has started never prints a traceback:

- as this module starts (before it imports anything of nationcap's but the package's own,
  import-free ``__init__``), a first handler of both signals ends the process at once with the
  one-line message and the exit code of an interruption (nothing has been read or written yet);
- :func:`main` then turns SIGTERM into an interruption like Ctrl-C
  (:func:`nationcap.atomic.raise_on_sigterm`) and gives Ctrl-C back its ``KeyboardInterrupt``
  before the command line's modules are imported, so that a signal during that import (a second
  or two) and from then on ends with the one-line message and the exit code of an interruption
  (:mod:`nationcap.cli.common`).

What is left is the interpreter's own start, before any of nationcap's code runs (about 20 ms
with a regular install; an editable install adds its import finder, about 60 ms).
"""

from __future__ import annotations

import os
import signal
import sys

#: exit codes of an interruption (the same as :mod:`nationcap.cli.common`'s)
_EXIT_INTERRUPTED, _EXIT_TERMINATED = 130, 143
_BEFORE_START = "interrupted: stopped before starting; nothing was written"


def _stop_before_start(signum: int, frame) -> None:  # noqa: ARG001
    os.write(2, (_BEFORE_START + "\n").encode())
    os._exit(_EXIT_TERMINATED if signum == signal.SIGTERM else _EXIT_INTERRUPTED)


signal.signal(signal.SIGINT, _stop_before_start)
signal.signal(signal.SIGTERM, _stop_before_start)

from .atomic import raise_on_sigterm  # noqa: E402  (after the first handlers, on purpose)
from .errors import Terminated  # noqa: E402


def main() -> None:
    raise_on_sigterm()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from .cli import cli
    except KeyboardInterrupt as exc:
        print(_BEFORE_START, file=sys.stderr)
        sys.exit(_EXIT_TERMINATED if isinstance(exc, Terminated) else _EXIT_INTERRUPTED)
    cli()


if __name__ == "__main__":
    main()
