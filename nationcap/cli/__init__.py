"""The ``nationcap`` command line (Click), the top layer: one module per command family.

- :mod:`.common`  the context object, error reporting, exit codes, shared options
- :mod:`.single`  ``validate``, ``run``, ``generate``, ``compare``
- :mod:`.batch`   ``sweep``, ``montecarlo``, ``plot``, ``export``
- :mod:`.perf`    ``bench``

Errors that nationcap raises on purpose (bad input, infeasible scenarios, existing outputs) are
printed as a short report and exit non-zero, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import logging

import click

from .. import __version__
from . import batch, perf, single
from .common import EXIT_INPUT, EXIT_MODEL, EXIT_OUTPUT, Ctx

__all__ = ["EXIT_INPUT", "EXIT_MODEL", "EXIT_OUTPUT", "cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nationcap")
@click.option("--debug", is_flag=True, help="Show full tracebacks and debug logging.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.pass_context
def cli(click_ctx: click.Context, debug: bool, quiet: bool) -> None:
    """nationcap: least-cost two-tier cap-and-trade model for Japan (Pyomo + HiGHS)."""
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    click_ctx.obj = Ctx(debug, quiet)


for _command in (*single.COMMANDS, *batch.COMMANDS, *perf.COMMANDS):
    cli.add_command(_command)


def main() -> None:  # pragma: no cover
    cli()
