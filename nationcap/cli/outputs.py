"""Outputs for readers: ``report`` (one self-contained HTML file) and ``template`` (an empty
dataset folder to fill with one's own data)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import OutputExistsError
from .common import Ctx, _lang_option, reported


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    metavar="FILE.html",
    default=None,
    help="HTML file to write (default: report.html beside results.nc; report.html in the current "
    "folder for several RESULTS).",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
@_lang_option
@click.pass_obj
def report(ctx: Ctx, results: tuple[Path, ...], out_file: Path | None, force: bool, lang: str) -> None:
    """Write one self-contained HTML report of RESULTS: a run, a batch, or several runs compared
    (a batch member as FOLDER::LABEL).

    Figures and fonts are embedded; the page makes no network request and prints cleanly to PDF
    from a browser.
    """
    from ..report.compare import compare, load_runs
    from ..report.html import build_report
    from ..results.io import atomic_file, batch_dim, check_location, load_results
    from ..vocab import SWEEP_DIM

    with reported(ctx):
        t = time.perf_counter()
        first = results[0] if results[0].is_dir() else results[0].parent
        out_file = out_file or (first / "report.html" if len(results) == 1 else Path("report.html"))
        if out_file.exists() and not force:
            raise OutputExistsError(f"{out_file} exists; pass --force to replace it or --out to write elsewhere")
        check_location(out_file, "file")  # before reading anything
        summary = tables = None
        if len(results) == 1 and "::" not in str(results[0]):
            runs = [load_results(results[0])]
            labels = [str(runs[0].attrs.get("scenario", results[0].stem))]
            dim = batch_dim(runs[0])
            if dim is not None:
                from ..batch.summaries import montecarlo_summary, sweep_summary

                summary = sweep_summary(runs[0]) if dim == SWEEP_DIM else montecarlo_summary(runs[0])
        else:
            args: list[str | Path] = [str(p) for p in results]
            runs, labels = load_runs(args)
            if len(runs) > 1:
                tables = compare(args)
        text = build_report(runs, labels, lang, compare_tables=tables, summary=summary)
        with atomic_file(out_file) as tmp:
            tmp.write_text(text, encoding="utf-8")
        size = out_file.stat().st_size
        ctx.echo(f"wrote {out_file} ({size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    required=True,
    help="Folder to create (it must not exist or be empty, unless --force).",
)
@click.option("--force", is_flag=True, help="Replace a folder that holds other files.")
@click.pass_obj
def template(ctx: Ctx, out_dir: Path, force: bool) -> None:
    """Write an empty dataset folder to fill with one's own facility data: every file of the
    input contract (header lines), dataset.toml, a scenario that points at the folder, and a
    README of what each column means and where such data come from."""
    from ..results.io import atomic_folder
    from ..tools.template import write_template

    with reported(ctx):
        with atomic_folder(out_dir, force) as tmp:
            names = write_template(tmp)
        ctx.echo(f"wrote {out_dir}/: {', '.join(names)}")
        ctx.echo(f"fill in the CSV files, then: nationcap validate {out_dir / 'scenario.toml'}")


COMMANDS = (report, template)
