"""Single-run commands: ``validate``, ``run``, ``generate`` and ``compare``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..config.schema import is_split
from ..errors import InputError, Problem
from .common import Ctx, _engine_option, _set_option, engine_override, phase_reporter, reported


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@_set_option
@click.pass_obj
def validate(ctx: Ctx, scenario: Path, overrides: tuple[str, ...]) -> None:
    """Check a scenario and its dataset; print entity counts, BAU and caps, coverage.

    Then notes (entities without MAC rows, categories no covered entity has) and the pre-solve
    feasibility diagnosis of `run`: a cap that cannot be met exits 3, as `run` would."""
    from ..config.loading import blame_overrides
    from ..engines.highs_options import check_highs_options
    from ..pipeline import load
    from ..report.checks import feasibility, notes
    from ..report.summary import dataset_summary

    with reported(ctx):
        with blame_overrides(overrides):  # a name from the data that a --set misspells
            scn, ds = load(scenario, overrides)
            check_highs_options(scn)
            summary = dataset_summary(scn, ds)  # (resolves the market selections)
        ctx.echo(summary)
        for line in notes(scn, ds):
            ctx.echo(line)
        checked = feasibility(scn, ds)  # an infeasible cap: the ModelError of `run` (exit 3)
        ctx.echo("")
        for line in checked:
            ctx.echo(line)
        ctx.echo("\nOK: scenario and dataset are valid.")


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Results folder (default: outputs/<scenario name>/).",
)
@_set_option
@click.option("--force", is_flag=True, help="Replace results nationcap wrote in the output folder (never other files).")
@_engine_option
@click.pass_obj
def run(
    ctx: Ctx, scenario: Path, out_dir: Path | None, overrides: tuple[str, ...], force: bool, engine: str | None
) -> None:
    """Solve SCENARIO and write results.nc, CSV tables and run.json.

    On a terminal (and without --quiet) the phases are shown as they run, on standard error.
    """
    from ..atomic import check_writable
    from ..config import load_scenario
    from ..config.loading import blame_overrides
    from ..engines.highs_options import check_highs_options
    from ..pipeline import run_scenario
    from ..report.summary import run_summary
    from ..results.io import write_results

    progress = phase_reporter(ctx)
    with reported(ctx):
        t0 = time.perf_counter()
        try:
            if out_dir is not None:
                check_writable(out_dir, force)  # fail before reading or solving anything
            scn = load_scenario(scenario, (*overrides, *engine_override(engine)))
            out_dir = out_dir or Path("outputs") / scn.name
            check_writable(out_dir, force)  # fail before loading the dataset and solving
            with blame_overrides(overrides):  # a name from the data that a --set misspells
                check_highs_options(scn)
                res = run_scenario(scn, progress=progress)
            t = time.perf_counter()
            if progress is not None:
                progress("write", t - t0)
            write_results(res, out_dir, force=force)
            if progress is not None:
                progress("write done", time.perf_counter() - t0)
        finally:
            if progress is not None:
                progress.close()  # a failed phase's line ends before the error is printed
        ctx.echo(run_summary(res))
        ctx.echo(
            f"\nwrote {out_dir}/ (results.nc, CSV tables, run.json) in {time.perf_counter() - t:.1f} s; "
            f"wall time {time.perf_counter() - t0:.1f} s"
        )


@click.command()
@click.option(
    "--kind",
    type=click.Choice(["japan", "tiny"]),
    default="japan",
    show_default=True,
    help="Which dataset to generate.",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: the seed of the shipped dataset).")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Multiply the entity counts (benchmarks).")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), metavar="DIR", required=True, help="Dataset folder to write."
)
@click.option("--force", is_flag=True, help="Replace a dataset nationcap generated in the folder (never other files).")
@click.pass_obj
def generate(ctx: Ctx, kind: str, seed: int | None, scale: float, out_dir: Path, force: bool) -> None:
    """Generate a synthetic dataset deterministically (the shipped inputs/japan is seed 2026)."""
    from ..atomic import DATASET, check_writable
    from ..tools import generate as gen

    with reported(ctx):
        check_writable(out_dir, force, (DATASET,))  # before generating anything
        seed = gen.SHIPPED_SEED if seed is None else seed
        try:
            files = gen.generate(kind, seed=seed, scale=scale)
            gen.write_dataset(files, out_dir, force=force)
        except ValueError as exc:
            raise InputError([Problem("--scale/--kind", "", "", str(exc))], "arguments") from None
        ctx.echo(f"wrote {kind} dataset (seed {seed}, scale {scale:g}) to {out_dir}/: {', '.join(sorted(files))}")


@click.command()
@click.argument("results", nargs=-1, required=True, metavar="RESULTS...")
@click.option(
    "--member",
    default=None,
    metavar="LABEL",
    help="Member of every batch folder given without '::LABEL' (sweep point s002 or draw number).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Folder for compare_*.csv and compare.png (default: outputs/compare_<first>_vs_<second>/).",
)
@click.option("--force", is_flag=True, help="Replace results nationcap wrote in the folder (never other files).")
@click.pass_obj
def compare(ctx: Ctx, results: tuple[str, ...], member: str | None, out_dir: Path | None, force: bool) -> None:
    """Compare two or more runs (results folders or .nc files): prices, emissions, costs (total_cost
    and net_cost_covered of the cost account), transfers and the gains from linking (cost of the
    first run minus each run's cost).

    A run inside a batch folder is given as PATH::LABEL (outputs/p2_sweep::s002), or with
    --member for every batch. Runs on other data than the first get no gain, and a note.
    """
    from ..report.compare import split_member, write_compare

    with reported(ctx):
        if out_dir is None:
            stems = [
                split_member(r)[0].stem + (f"_{split_member(r)[1]}" if split_member(r)[1] else "") for r in results
            ]
            out_dir = Path("outputs") / f"compare_{'_vs_'.join(stems[:2])}"
        tables = write_compare(list(results), out_dir, force=force, member=member)
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 30):
            prices = tables["prices"]
            whole = ~prices.index.get_level_values("market").map(is_split).to_numpy(dtype=bool)
            ctx.echo(
                "Allowance prices (JPY/t, each year's money"
                + ("; split markets: see below" if not whole.all() else "")
                + "):"
            )
            ctx.echo(prices[whole].round(0).to_string())
            spread = tables["spread"]
            if len(spread) and int(spread["markets"].max()) > 1:
                ctx.echo("\nPrice spread per market table (JPY/t, present value; markets = markets of the table):")
                ctx.echo(spread.to_string(float_format=lambda v: f"{v:,.0f}"))
            ctx.echo(
                "\nTotals (JPY present value, t over the horizon; total_cost = resource cost, net_cost_covered = with "
                "the payments to and from the administrator);\ngain_vs_first = total cost of the first run - that of "
                "the run (net_cost_covered_gain_vs_first: the same for net_cost_covered):"
            )
            ctx.echo(tables["summary"].T.to_string(float_format=_number))
            sectors = tables["sectors"]
            if len(sectors):
                cost = sectors[[c for c in sectors.columns if c.startswith("compliance_cost_")]]
                ctx.echo(
                    "\nCompliance cost by sector (billion JPY present value: abatement plus allowances bought "
                    "minus sold; summed over markets and periods):"
                )
                ctx.echo((cost / 1e9).to_string(float_format=lambda v: f"{v:,.1f}"))
            admin = tables["administrators"]
            if len(admin.columns) > 1 and int(spread["markets"].max() if len(spread) else 1) > 1:
                change = admin.columns[-1]
                order = admin[change].sort_values()
                ctx.echo(f"\nAdministrators' compliance cost (JPY present value), {change}:")
                less = ", ".join(f"{a} {v / 1e9:+,.2f} bn" for a, v in order.head(5).items() if v < 0)
                more = ", ".join(f"{a} {v / 1e9:+,.2f} bn" for a, v in order[::-1].head(5).items() if v > 0)
                ctx.echo(f"  pay less: {less or 'none'}")
                ctx.echo(f"  pay more: {more or 'none'}")
        for note in tables["notes"]["note"]:
            click.secho(f"note: {note}", fg="yellow", err=True)
        notes = ", compare_notes.txt" if len(tables["notes"]) else ""
        ctx.echo(
            f"\nwrote {out_dir}/ (compare_prices.csv, compare_summary.csv, compare_periods.csv, compare_spread.csv, "
            f"compare_administrators.csv, compare_sectors.csv, compare_coverage.csv, compare.png{notes})"
        )


def _number(v: float) -> str:
    """A compared total: money and tonnes to the unit, shares (below 10) to three decimals."""
    return f"{v:,.3f}" if abs(v) < 10 and v != 0 else f"{v:,.0f}"


COMMANDS = (validate, run, generate, compare)
