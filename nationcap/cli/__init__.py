"""The ``nationcap`` command line (Click), the top layer: one module per command family.

- :mod:`.common`  the context object, error reporting, exit codes, shared options
- :mod:`.single`  ``validate``, ``run``, ``generate``, ``compare``
- :mod:`.batch`   ``sweep``, ``montecarlo``, ``plot``, ``export``
- :mod:`.outputs`  ``report``, ``template``
- :mod:`.perf`    ``bench``
- :mod:`.explore` ``explore`` (the live design explorer)

Every failure is printed as a short report and exits with the code of :mod:`.common` (2 bad
input, 3 model, 4 output location, 130 interrupted, 143 terminated by SIGTERM, 1 a bug), without a traceback unless
``--debug`` is given.
"""

from __future__ import annotations

import inspect
import logging

import click

from .. import __version__
from . import batch, design, explore, outputs, perf, single
from .common import _PASS_THROUGH, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_MODEL, EXIT_OUTPUT, EXIT_TERMINATED, Ctx, handle

__all__ = ["EXIT_INPUT", "EXIT_INTERRUPTED", "EXIT_MODEL", "EXIT_OUTPUT", "EXIT_TERMINATED", "cli", "main"]


class _Group(click.Group):
    """The command group; failures outside a command's ``reported`` block (an import, Ctrl-C
    before the work starts) get the same short message and exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            handle(exc, bool(ctx.params.get("debug")))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nationcap")
@click.option("--debug", is_flag=True, help="Show full tracebacks and debug logging.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.pass_context
def cli(click_ctx: click.Context, debug: bool, quiet: bool) -> None:
    """nationcap: least-cost two-tier cap-and-trade model for Japan (Pyomo + HiGHS)."""
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    click_ctx.obj = Ctx(debug, quiet)


def _short_help(command: click.Command) -> str:
    """The first paragraph of a command's help, whole: ``nationcap --help`` lists it as written
    instead of cutting it at 45 characters with "..."."""
    first = inspect.cleandoc(command.help or "").split("\n\n")[0]
    return " ".join(first.split())


for _command in (
    *single.COMMANDS,
    *batch.COMMANDS,
    *design.COMMANDS,
    *outputs.COMMANDS,
    *perf.COMMANDS,
    *explore.COMMANDS,
):
    if not _command.short_help:
        _command.short_help = _short_help(_command)
    cli.add_command(_command)


def main() -> None:  # pragma: no cover
    """Run the command line with SIGTERM handled as Ctrl-C (the ``nationcap`` command itself
    starts from :mod:`nationcap.__main__`, which does the same before importing this package)."""
    from ..atomic import raise_on_sigterm

    raise_on_sigterm()
    cli()
