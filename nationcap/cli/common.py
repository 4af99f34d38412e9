"""What every command shares: the context object, error reporting and exit codes, options."""

from __future__ import annotations

import contextlib
import sys

import click

from ..config import ENGINE_NAMES
from ..errors import InputError, NationcapError, OutputExistsError

EXIT_INPUT = 2
EXIT_MODEL = 3
EXIT_OUTPUT = 4


class Ctx:
    def __init__(self, debug: bool, quiet: bool):
        self.debug = debug
        self.quiet = quiet

    def echo(self, text: str = "") -> None:
        if not self.quiet:
            click.echo(text)


@contextlib.contextmanager
def reported(ctx: Ctx):
    """Turn nationcap's own errors into a message and an exit code (traceback only with --debug)."""
    try:
        yield
    except NationcapError as exc:
        if ctx.debug:
            raise
        code = (
            EXIT_INPUT
            if isinstance(exc, InputError)
            else EXIT_OUTPUT
            if isinstance(exc, OutputExistsError)
            else EXIT_MODEL
        )
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(code)


_set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value by dotted path, e.g. markets.regional.compliance_factor.P1.general=0.1; "
    "repeat --set for several values. VALUE is read as TOML (a bare word is a string).",
)


_engine_option = click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    help="Override the scenario's [solver] engine (default pyomo): pyomo = the LP with HiGHS "
    "(every rule; the reference); fast = the exact merit-order engine (caps, banking, borrowing, full links).",
)


def engine_override(engine: str | None) -> tuple[str, ...]:
    """``--engine NAME`` as the ``--set`` override it stands for (recorded in the configuration)."""
    return (f'solver.engine="{engine}"',) if engine else ()
