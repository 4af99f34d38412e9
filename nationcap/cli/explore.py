"""``nationcap explore``: the live design explorer (needs the ``explore`` extra)."""

from __future__ import annotations

import socket
from pathlib import Path

import click

from ..errors import InputError, Problem
from .common import Ctx, reported

#: the loopback address: the page is served to this machine only unless --host says otherwise
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8050


def _check_port(host: str, port: int) -> None:
    """Refuse a port that is taken (before loading anything)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError(
                [
                    Problem(
                        "--port",
                        str(port),
                        "",
                        f"cannot listen on {host}:{port} ({exc.strerror or exc}); give a free --port",
                    )
                ],
                "arguments",
            ) from None


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--host",
    default=LOOPBACK,
    show_default=True,
    help="Address to listen on (the loopback address: this machine only).",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True, help="Port to listen on."
)
@click.option("--no-open", is_flag=True, help="Do not open the page in the web browser.")
@click.pass_obj
def explore(ctx: Ctx, scenario: Path, host: str, port: int, no_open: bool) -> None:
    """Explore SCENARIO in the web browser: change compliance factors, price floors and ceilings,
    the link, size thresholds and the discount rate, and see both markets clear again at once.

    Each change re-solves the scenario held in memory (on the exact engine where it implements the
    scenario's rules); "Save scenario" writes a scenario file that nationcap run reproduces.
    Needs the explore extra: pip install 'nationcap[explore]'. Stop it with Ctrl-C.
    """
    with reported(ctx):
        try:
            from ..explore.app import default_paths, serve
        except ImportError as exc:
            raise InputError(
                [
                    Problem(
                        "nationcap explore",
                        "",
                        "",
                        f"needs the explore extra ({exc.name} is missing): pip install 'nationcap[explore]'",
                    )
                ],
                "installation",
            ) from None
        from ..explore.state import Explorer

        _check_port(host, port)
        ex = Explorer.open(scenario)
        ex.after_export = _workbook_and_report
        first = ex.solve({})
        if first.exception is not None:
            raise first.exception
        save, export = default_paths(scenario, ex.session.scenario.name)
        ctx.echo(
            f"nationcap explore: {scenario} on the {ex.session.engine.name} engine at http://{host}:{port}/ (Ctrl-C stops)"
        )
        serve(ex, host, port, not no_open, save, export)


def _workbook_and_report(folder: Path) -> None:
    """Add the Excel workbook and the HTML report (as nationcap export --format xlsx and
    nationcap report make them) to a results folder the explorer exported."""
    from ..atomic import atomic_file
    from ..report.html import build_report
    from ..report.workbook import build_sheets, write_workbook
    from ..results.io import load_results

    res = load_results(folder)
    label = str(res.attrs.get("scenario", folder.name))
    write_workbook(build_sheets([res], [label]), folder / "results.xlsx")
    text = build_report([res], [label])
    with atomic_file(folder / "report.html") as tmp:
        tmp.write_text(text, encoding="utf-8")


COMMANDS = (explore,)
