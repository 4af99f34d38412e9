"""What every command shares: the context object, error reporting and exit codes, options.

Exit codes (the README's table "Exit codes" says the same):

====  =======================================================================================
0     success (a batch: at least one member solved)
1     internal error: a bug in nationcap (a short message; re-run with ``--debug`` and report it)
2     bad input or usage: scenario, dataset, options, a results file that cannot be read, a
      file or folder that cannot be read, a setting the chosen engine does not implement
3     the model: infeasible, unbounded, the solver failed (a batch: every member failed)
4     the output location: results exist there already (without ``--force``), or it cannot be
      written (read-only, a file in the way, disk full)
130   interrupted (Ctrl-C): nothing is left half-written
143   terminated (SIGTERM: a batch system's time limit, ``timeout``, a container stop): handled
      as Ctrl-C, nothing is left half-written
====  =======================================================================================

Without ``--debug`` no traceback is printed; with it every exception propagates (Ctrl-C prints
its traceback and still exits 130).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from typing import NoReturn

import click

from ..config import ENGINE_NAMES
from ..errors import InputError, NationcapError, OutputError, Terminated

EXIT_BUG = 1
EXIT_INPUT = 2
EXIT_MODEL = 3
EXIT_OUTPUT = 4
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Ctx:
    def __init__(self, debug: bool, quiet: bool):
        self.debug = debug
        self.quiet = quiet

    def echo(self, text: str = "") -> None:
        if not self.quiet:
            click.echo(text)


def exit_code(exc: BaseException) -> int:
    """The exit code of an exception that ended a command (see the module doc)."""
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, InputError):
        return EXIT_INPUT
    if isinstance(exc, OutputError):
        return EXIT_OUTPUT
    if isinstance(exc, NationcapError):
        return EXIT_MODEL
    if isinstance(exc, OSError):  # writes become OutputError where they happen: this is a read
        return EXIT_INPUT
    return EXIT_BUG


def report_exit(exc: BaseException) -> NoReturn:
    """Print ``exc`` as a short message (no traceback) and exit with its code."""
    code = exit_code(exc)
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        click.secho(
            ("terminated (SIGTERM)" if code == EXIT_TERMINATED else "interrupted")
            + ": stopped before finishing; nothing was left half-written (complete outputs are kept)",
            fg="yellow",
            err=True,
        )
    elif isinstance(exc, NationcapError):
        click.secho(f"error: {exc}", fg="red", err=True)
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        click.secho(f"error: cannot read {where}{exc.strerror or exc}", fg="red", err=True)
    else:
        click.secho(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in nationcap. Re-run the command with --debug (nationcap --debug ...) for the "
            "traceback and report it, with the command and its inputs.",
            fg="red",
            err=True,
        )
    sys.exit(code)


#: exceptions that are not failures of the command's work: Click's own (usage errors, --help,
#: exits) and sys.exit; they pass through unchanged
_PASS_THROUGH = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort)


@contextlib.contextmanager
def reported(ctx: Ctx | None):
    """Turn every exception into a message and an exit code (a traceback only with --debug)."""
    try:
        yield
    except _PASS_THROUGH:
        raise
    except (Exception, KeyboardInterrupt) as exc:
        handle(exc, ctx is not None and ctx.debug)


def handle(exc: BaseException, debug: bool) -> NoReturn:
    """With ``debug`` let ``exc`` propagate (Ctrl-C, SIGTERM: print its traceback and exit 130 or
    143, since Click would turn it into "Aborted!" and exit 1); else :func:`report_exit`."""
    if debug and not isinstance(exc, KeyboardInterrupt):
        raise exc
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    report_exit(exc)


_set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value by dotted path, e.g. markets.regional.compliance_factor.P1.general=0.1; "
    "repeat --set for several values. VALUE is read as TOML (a bare word is a string).",
)


_lang_option = click.option(
    "--lang",
    type=click.Choice(["en", "ja"]),
    default="en",
    show_default=True,
    help="Language of labels: en = English; ja = Japanese (variables, units, markets, sectors, "
    "prefectures in kanji), drawn in the packaged Japanese font.",
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


# ---------------------------------------------------------------------------------------
# progress of long work: the phases of a run, on a terminal
# ---------------------------------------------------------------------------------------

#: what each phase of a run does, as printed
PHASE_LABELS = {
    "load": "reading the scenario and the dataset",
    "build": "building the model",
    "solve": "solving",
    "extract": "extracting the results",
    "write": "writing the outputs",
}


def stderr_is_tty() -> bool:
    """Whether progress may be shown (standard error is a terminal); tests monkeypatch this."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def format_phase_start(phase: str) -> str:
    """The start of a phase's line: ``"  solve    solving ..."`` (completed by :func:`format_phase_end`)."""
    return f"  {phase:<8} {PHASE_LABELS.get(phase, phase)} ..."


def format_phase_end(duration_s: float) -> str:
    """The end of a phase's line: its duration, ``" 12.3 s"``."""
    return f" {max(duration_s, 0.0):.1f} s"


class PhaseReporter:
    """A ``progress(event, elapsed_s)`` callback (:mod:`nationcap.pipeline`) that prints one line per
    phase to standard error: the phase and what it does when it starts, its duration when it ends."""

    def __init__(self, write=None):
        self.write = write or (lambda text: click.echo(text, nl=False, err=True))
        self.open: tuple[str, float] | None = None

    def __call__(self, event: str, elapsed_s: float) -> None:
        phase, _, what = event.partition(" ")
        if what == "done":
            if self.open is not None and self.open[0] == phase:
                self.write(format_phase_end(elapsed_s - self.open[1]) + "\n")
                self.open = None
            return
        self.close()
        self.write(format_phase_start(phase))
        self.open = (phase, elapsed_s)

    def close(self) -> None:
        """End an unfinished line (a phase that failed)."""
        if self.open is not None:
            self.write("\n")
            self.open = None


def phase_reporter(ctx: Ctx) -> PhaseReporter | None:
    """A :class:`PhaseReporter` on a terminal without ``--quiet``, else None (no progress)."""
    if ctx.quiet or not stderr_is_tty():
        return None
    return PhaseReporter()
