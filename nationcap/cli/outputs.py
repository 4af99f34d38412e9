"""Outputs for readers: ``report`` (one self-contained HTML file) and ``template`` (an empty
dataset folder to fill with one's own data)."""

from __future__ import annotations

import time
from pathlib import Path

import click

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
@click.option("--force", is_flag=True, help="Replace an HTML report that nationcap wrote.")
@_lang_option
@click.pass_obj
def report(ctx: Ctx, results: tuple[Path, ...], out_file: Path | None, force: bool, lang: str) -> None:
    """Write one self-contained HTML report of RESULTS: a run, a batch, or several runs compared
    (a batch member as FOLDER::LABEL).

    Figures and fonts are embedded; the page makes no network request and prints cleanly to PDF
    from a browser.
    """
    from ..atomic import atomic_file, check_file_replaceable, check_location
    from ..report.compare import compare, load_runs
    from ..report.html import build_report, is_report_file
    from ..results.io import batch_dim, load_results
    from ..vocab import SWEEP_DIM

    with reported(ctx):
        t = time.perf_counter()
        first = results[0] if results[0].is_dir() else results[0].parent
        out_file = out_file or (first / "report.html" if len(results) == 1 else Path("report.html"))
        check_file_replaceable(out_file, force, is_report_file)  # only a report nationcap wrote
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
    help="Folder to create (it must not exist or be empty).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a dataset that nationcap generated (never other files, nor a filled template).",
)
@click.pass_obj
def template(ctx: Ctx, out_dir: Path, force: bool) -> None:
    """Write an empty dataset folder to fill with one's own facility data: every file of the
    input contract (header lines), dataset.toml, a scenario that points at the folder, and a
    README of what each column means and where such data come from."""
    from ..atomic import DATASET, atomic_folder
    from ..tools.template import write_template

    with reported(ctx):
        with atomic_folder(out_dir, force, kinds=(DATASET,)) as tmp:
            names = write_template(tmp)
        ctx.echo(f"wrote {out_dir}/: {', '.join(names)}")
        ctx.echo(f"fill in the CSV files, then: nationcap validate {out_dir / 'scenario.toml'}")


COMMANDS = (report, template)
