"""Batch and results commands: ``sweep``, ``montecarlo``, ``plot`` and ``export``."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click
import pandas as pd

from ..errors import InputError, OutputExistsError, Problem
from .common import EXIT_MODEL, Ctx, _lang_option, _set_option, reported

_out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Batch folder (default: outputs/<scenario name>_<sweep|montecarlo>/).",
)
_workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the local pool (default: the number of cores; 1 runs in this process).",
)
_scheduler_option = click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on a Dask distributed cluster instead, e.g. tcp://127.0.0.1:8786 (needs nationcap[dask]).",
)
_force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into a folder that holds other results of nationcap (they are replaced; matching cached "
    "runs are kept); a folder with files nationcap did not write is never replaced.",
)
_resume_option = click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Reuse finished runs cached in DIR/runs/ (keyed by a hash of the resolved configuration).",
)


@contextlib.contextmanager
def _progress(ctx: Ctx, n: int, label: str):
    """A click progress bar over members, only on a terminal and without --quiet."""
    if ctx.quiet or n == 0 or not sys.stdout.isatty():
        yield None
        return
    with click.progressbar(length=n, label=label, show_pos=True, show_eta=True) as bar:
        yield bar.update


def _batch_options(func):
    """The options every batch command shares: --out, --workers, --scheduler, --force,
    --resume/--no-resume and --set (applied in this order, as click lists them)."""
    for option in reversed(
        (_out_option, _workers_option, _scheduler_option, _force_option, _resume_option, _set_option)
    ):
        func = option(func)
    return func


def _engine_text(workers, scheduler) -> str:
    """Where a batch runs, as its first line says it."""
    return f"Dask scheduler {scheduler}" if scheduler else f"{workers or os.cpu_count() or 1} local worker(s)"


def _draws_text(batch) -> str:
    """``"200 draws, seed 1"``: a Monte Carlo batch's draws, as its first line says them."""
    n = len(batch.members)
    return f"{n} draw{'s' if n != 1 else ''}, seed {batch.seed}"


def _run(ctx: Ctx, batch, out_dir, workers, scheduler, force, resume):
    from ..batch.store import is_cached, run_batch

    n_valid = len(batch.jobs)
    cached = 0
    out = out_dir or batch.default_out()
    if resume and (out / "runs").is_dir():
        cached = sum(is_cached(out / "runs" / f"{k}.nc") for k in batch.jobs)
    engine = _engine_text(workers, scheduler)
    n = len(batch.members)
    members = _draws_text(batch) if batch.kind == "montecarlo" else f"{n} member{'s' if n != 1 else ''}"
    ctx.echo(f"{batch.kind} {batch.name!r}: {members} ({n_valid} distinct runs, {cached} cached) on {engine} -> {out}/")
    with _progress(ctx, n_valid - cached, "solving") as update:
        return run_batch(
            batch, out_dir, workers=workers, scheduler=scheduler, force=force, resume=resume, progress=update
        )


def _report(ctx: Ctx, res) -> None:
    ctx.echo(
        f"\nsolved {res.solved}, reused {res.cached} from the cache, {len(res.failed)} failed; "
        f"{res.engine}; wall time {res.wall_time_s:.1f} s"
    )
    ctx.echo(f"wrote {res.out_dir}/ (results.nc, summary.csv, iamc.csv, CSV tables, run.json; runs/, logs/)")
    for rec in res.failed:
        msg = rec["error"].strip().replace("\n", " ")
        click.secho(f"failed {rec['label']}: {msg[:300]}", fg="yellow", err=True)
    if res.failed and len(res.failed) == len(res.records):
        click.secho("error: every member failed", fg="red", err=True)
        sys.exit(EXIT_MODEL)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY",
    help="Dotted key to sweep, as for --set (repeat for several; each needs a --values).",
)
@click.option(
    "--values",
    "values",
    multiple=True,
    metavar="V1,V2,...",
    help="Comma-separated values (TOML) of the matching --param.",
)
@click.option("--zip", "zip_", is_flag=True, help="Pair the value lists (default: their cartesian product).")
@click.option(
    "--reuse/--no-reuse",
    default=True,
    show_default=True,
    help="Members that change only allocations (compliance factors, top-level multipliers) "
    "re-solve each worker's held Pyomo model with a warm-started simplex (re-certified against "
    "every column) instead of building one; --no-reuse builds every member afresh.",
)
@_batch_options
@click.pass_obj
def sweep(
    ctx: Ctx, scenario: Path, params, values, zip_, reuse, out_dir, workers, scheduler, force, resume, overrides
) -> None:
    """Solve SCENARIO for every combination of --param values (or its [sweep] table)."""
    from ..atomic import check_location, check_replaceable
    from ..batch.plan import plan_sweep
    from ..config import split_values

    with reported(ctx):
        if len(params) != len(values):
            raise InputError(
                [
                    Problem(
                        "--param/--values",
                        "",
                        "",
                        f"give one --values per --param (got {len(params)} --param, {len(values)} --values)",
                    )
                ],
                "arguments",
            )
        spec = None
        if params:
            spec = {}
            for k, v in zip(params, values):
                try:
                    spec[k] = split_values(v)
                except ValueError as exc:
                    raise InputError([Problem("--values", v, "", str(exc))], "arguments") from None
        if out_dir is not None:
            check_location(out_dir, "inside")  # before planning (which hashes the dataset) or solving
            check_replaceable(out_dir, force=True)  # a folder of files nationcap did not write: never
        batch = plan_sweep(scenario, spec, "zip" if zip_ else None, overrides, reuse=reuse)
        res = _run(ctx, batch, out_dir, workers, scheduler, force, resume)
        _print_sweep(ctx, res)
        _report(ctx, res)


def _print_sweep(ctx: Ctx, res) -> None:
    r = res.results
    if "price_pv" not in r:
        return
    df = r["price_pv"].to_series().unstack(["market", "period"]).round(0)
    df.columns = [f"{m}/{p}" for m, p in df.columns]
    head = pd.DataFrame({k: r[k].values for k in res.batch.params}, index=r["scenario"].values)
    head["status"] = r["status"].values
    ctx.echo(f"\nAllowance price by scenario (JPY/t, present value at FY{r.attrs.get('first_year')}; market/period):")
    ctx.echo(head.join(df).to_string())


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--draws", type=click.IntRange(min=1), default=None, help="Number of draws (default: montecarlo.draws).")
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="Random seed (default: montecarlo.seed, else 0)."
)
@click.option(
    "--paired",
    "paired",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="B.toml",
    help="Solve the same draws under a second design B (same [montecarlo] table and seed) and write the "
    "gain of each market (cost under SCENARIO - cost under B) per draw and its summary.",
)
@_batch_options
@click.pass_obj
def montecarlo(
    ctx: Ctx, scenario: Path, draws, seed, paired, out_dir, workers, scheduler, force, resume, overrides
) -> None:
    """Solve SCENARIO for N draws of the uncertain inputs in its [montecarlo] table; with --paired,
    under two designs on the same draws."""
    from ..atomic import check_location, check_replaceable
    from ..batch.plan import plan_montecarlo
    from ..batch.summaries import montecarlo_summary

    with reported(ctx):
        if out_dir is not None:
            check_location(out_dir, "inside")  # before planning (which hashes the dataset) or solving
            if paired is None:
                check_replaceable(out_dir, force=True)  # a folder of files nationcap did not write: never
        batch = plan_montecarlo(scenario, draws, seed, overrides, keep_tables=paired is not None)
        if paired is not None:
            batch_b = plan_montecarlo(paired, draws, seed, overrides, keep_tables=True)
            _paired(ctx, batch, batch_b, out_dir, workers, scheduler, force, resume)
            return
        res = _run(ctx, batch, out_dir, workers, scheduler, force, resume)
        s = montecarlo_summary(res.results)
        if len(s):
            last = s[s["year"].isin(_period_last_years(res.results))]
            stats = ["p05", "p50", "p95", "mean"]
            cols = ["market", "year", "n_draws", *(f"price_{q}_jpy_per_t" for q in stats)]
            ctx.echo("\nAllowance price distribution in the last year of each period (JPY/t, each year's money):")
            ctx.echo(last[cols].round(0).to_string(index=False))
        _report(ctx, res)


def _paired(ctx: Ctx, batch_a, batch_b, out_dir, workers, scheduler, force, resume) -> None:
    """Both designs' batches into DIR/a/ and DIR/b/, the deterministic pair, and the paired tables
    and figure (:mod:`nationcap.report.paired`)."""
    import xarray as xr

    from ..atomic import atomic_file, check_location
    from ..batch.store import shares_draws
    from ..report.paired import check_pair, gains_figure, paired_tables
    from ..results.io import write_csv
    from ..session import Session

    def draws_of(b):
        return {"montecarlo": b.montecarlo, "seed": b.seed, "draws": len(b.members)}

    check_pair(draws_of(batch_a), draws_of(batch_b), str(batch_a.source), str(batch_b.source))
    out = out_dir or Path("outputs") / f"{batch_a.name}_vs_{batch_b.name}_paired"
    check_location(out, "inside")
    names = ("paired_draws.csv", "paired_summary.csv", "paired_prices.csv", "paired_gains.png")
    if not force and any((out / n).exists() for n in names):
        raise OutputExistsError(f"{out} already holds paired results; pass --force to replace them or --out")
    if shares_draws(batch_a, batch_b):  # one pool for both designs, each draw made once
        for res in _run_pair(ctx, batch_a, batch_b, out, workers, scheduler, force):
            _report(ctx, res)
    else:  # (members cached in runs/: each design's batch on its own)
        for sub, batch in (("a", batch_a), ("b", batch_b)):
            ctx.echo(f"design {sub.upper()}: {batch.source}")
            _report(ctx, _run(ctx, batch, out / sub, workers, scheduler, force, resume))
    # read from results.nc: a large batch keeps its sums by administrator there only
    results = [xr.open_dataset(out / sub / "results.nc", engine="netcdf4") for sub in ("a", "b")]
    # the deterministic pair on the tables the plans read
    det = [Session(b.base, b.dataset).solve(detail="market", mac_curve=False).results for b in (batch_a, batch_b)]
    with results[0], results[1]:
        tables = paired_tables(results[0], results[1], det[0], det[1])
    for name, key in zip(names[:3], ("draws", "summary", "prices")):
        with atomic_file(out / name) as tmp:
            write_csv(tables[key], tmp)
    with atomic_file(out / names[3]) as tmp:
        gains_figure(tables["draws"], tmp, batch_a.name, batch_b.name)
    ctx.echo(
        f"\nGain per market: cost under {batch_a.name} - cost under {batch_b.name} (billion JPY, present value; "
        "> 0: the market pays less under the second design); cc_ = the same for the compliance cost, with "
        "allowance trade counted"
    )
    summ = tables["summary"].copy()
    for c in summ.columns:
        if c.endswith("_jpy"):
            summ[c] = summ[c] / 1e9
    summ = summ.rename(columns=lambda c: c.replace("_jpy", "_bn").replace("_sharing", "").replace("compliance_", "cc_"))
    with pd.option_context("display.width", 160):
        ctx.echo(summ.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
        ctx.echo("\nChange in the standard deviation of the price over the draws (JPY/t, present value):")
        ctx.echo(tables["prices"].to_string(index=False, float_format=lambda v: f"{v:,.0f}"))
    ctx.echo(f"\nwrote {out}/ (a/, b/, {', '.join(names)})")


def _run_pair(ctx: Ctx, batch_a, batch_b, out: Path, workers, scheduler, force):
    """Both designs' batches solved together into ``out``/a/ and ``out``/b/
    (:func:`nationcap.batch.store.run_paired`); (result of A, result of B)."""
    from ..batch.store import run_paired

    for sub, batch in (("a", batch_a), ("b", batch_b)):
        ctx.echo(
            f"design {sub.upper()}: {batch.source}\nmontecarlo {batch.name!r}: {_draws_text(batch)} -> {out / sub}/"
        )
    ctx.echo(f"both designs on the same draws, each draw made once, on {_engine_text(workers, scheduler)}")
    total = len(batch_a.jobs) + len(batch_b.jobs)
    with _progress(ctx, total, "solving") as update:
        return run_paired(
            batch_a, batch_b, out / "a", out / "b", workers=workers, scheduler=scheduler, force=force, progress=update
        )


def _period_last_years(r) -> list[int]:
    import json

    return [p["last_year"] for p in json.loads(r.attrs["config"])["periods"]]


#: the kinds of ``nationcap plot`` (the keys of nationcap.report.plots.PLOTTERS, which a test checks;
#: written out so that the command line starts without loading matplotlib)
PLOT_KINDS = ("mac", "prices", "emissions", "sector", "prefecture", "administrators", "sweep", "distribution")


@click.command()
@click.argument("results", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    default=("all",),
    show_default=True,
    type=click.Choice([*PLOT_KINDS, "all"]),
    help="Plot kind (repeat for several); 'all' = every kind that applies to RESULTS.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Folder for the PNG and PDF files (default: RESULTS folder/plots/).",
)
@click.option(
    "--member",
    default=None,
    metavar="LABEL",
    help="Batch member for the single-run kinds (sweep point s002 or draw number; default: the first successful).",
)
@click.option("--period", default=None, help="Period of the MAC curve (default: the last).")
@click.option(
    "--market",
    "market",
    default=None,
    help="Market of the prefecture plot (default: regional if present), or the one split market "
    "(e.g. regional/Tokyo) the MAC plot draws (default: every market that is not split).",
)
@_lang_option
@click.pass_obj
def plot(ctx: Ctx, results: Path, kinds, out_dir, member, period, market, lang) -> None:
    """Draw plots of RESULTS (a results folder or .nc file) as PNG and PDF."""
    from ..atomic import check_location
    from ..report.plots import applicable_kinds, save_plots
    from ..results.io import load_results

    with reported(ctx):
        folder = results if results.is_dir() else results.parent
        out_dir = out_dir or folder / "plots"
        check_location(out_dir, "inside")  # before reading anything
        res = load_results(results)
        wanted = applicable_kinds(res) if "all" in kinds else list(dict.fromkeys(kinds))
        files = save_plots(res, wanted, out_dir, lang=lang, member=member, period=period, market=market)
        for f in files:
            ctx.echo(f"wrote {f}")


@click.command(name="export")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["iamc", "xlsx"]),
    default="iamc",
    show_default=True,
    help="iamc = IAMC-format CSV; xlsx = Excel workbook (a run, a batch, or several runs side by side).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    default=None,
    help="File to write (default: iamc.csv or results.xlsx beside results.nc; compare.xlsx in the "
    "current folder for several RESULTS).",
)
@click.option("--force", is_flag=True, help="Replace an IAMC table or workbook that nationcap wrote.")
@_lang_option
@click.pass_obj
def export(ctx: Ctx, results: tuple[Path, ...], fmt: str, out_file: Path | None, force: bool, lang: str) -> None:
    """Export RESULTS (a results folder or .nc file) as an IAMC-format CSV or an Excel workbook.

    With --format xlsx, give several RESULTS to put runs side by side (a batch member as
    FOLDER::LABEL, e.g. outputs/p2_sweep::s002).
    """
    from ..atomic import check_file_replaceable, check_location
    from ..report.workbook import is_workbook_file
    from ..results.iamc import is_iamc_file
    from ..results.io import load_results

    def written_export(path: Path) -> bool:
        return is_iamc_file(path) or is_workbook_file(path)

    with reported(ctx):
        t = time.perf_counter()
        if len(results) > 1 and fmt != "xlsx":
            raise InputError(
                [
                    Problem(
                        "RESULTS", "", "", "the IAMC export takes one RESULTS; several are compared with --format xlsx"
                    )
                ],
                "arguments",
            )
        first = results[0] if results[0].is_dir() else results[0].parent
        default = "iamc.csv" if fmt == "iamc" else "results.xlsx"
        out_file = out_file or (first / default if len(results) == 1 else Path("compare.xlsx"))
        check_file_replaceable(out_file, force, written_export)  # only a table or workbook nationcap wrote
        check_location(out_file, "file")  # before reading anything
        if fmt == "xlsx":
            sheets = _xlsx(list(results), out_file, lang)
            ctx.echo(
                f"wrote {out_file} ({len(sheets)} sheets: {', '.join(s.name for s in sheets)}) "
                f"in {time.perf_counter() - t:.1f} s"
            )
            return
        from ..results.iamc import write_iamc

        res = load_results(results[0])
        df = write_iamc(res, out_file)
        ctx.echo(
            f"wrote {out_file} ({len(df)} rows, {df['scenario'].nunique() if len(df) else 0} scenario(s)) "
            f"in {time.perf_counter() - t:.1f} s"
        )


def _xlsx(paths: list[Path], out_file: Path, lang: str):
    """The workbook of one results (a run or a batch, with its summary) or of several runs
    compared (with the comparison's summary and gains)."""
    from ..report.compare import compare, load_runs
    from ..report.workbook import build_sheets, write_workbook
    from ..results.io import batch_dim, load_results
    from ..vocab import SWEEP_DIM

    extra = {}
    if len(paths) == 1 and "::" not in str(paths[0]):
        runs = [load_results(paths[0])]
        labels = [str(runs[0].attrs.get("scenario", paths[0].stem))]
        dim = batch_dim(runs[0])
        if dim is not None:
            from ..batch.summaries import montecarlo_summary, sweep_summary

            extra["summary"] = sweep_summary(runs[0]) if dim == SWEEP_DIM else montecarlo_summary(runs[0])
    else:
        args: list[str | Path] = [str(p) for p in paths]
        runs, labels = load_runs(args)
        if len(runs) > 1:
            tables = compare(args)
            extra["summary"] = tables["summary"]
            if len(tables["administrators"]):
                extra["administrators_compared"] = tables["administrators"]
            if len(tables["sectors"]):
                extra["sectors_compared"] = tables["sectors"]
    sheets = build_sheets(runs, labels, lang, extra)
    write_workbook(sheets, out_file)
    return sheets


COMMANDS = (sweep, montecarlo, plot, export)
