"""Performance commands: ``nationcap bench``."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import ENGINE_NAMES


@click.command()
@click.option(
    "--scale",
    "scales",
    type=click.FloatRange(min=0, min_open=True),
    multiple=True,
    help="Entity-count multiplier of the generated dataset (repeat; default 0.1 0.5 1 2 4; "
    "1 is the shipped inputs/japan).",
)
@click.option(
    "--engine",
    type=click.Choice([*ENGINE_NAMES, "both"]),
    default="both",
    show_default=True,
    help="Which engine(s) to time.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    default=Path("outputs") / "bench.csv",
    show_default=True,
    help="CSV file for the table.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing --out FILE (only a table nationcap bench wrote).",
)
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Scenario to run (default: models/baseline.toml); generated scales override its inputs.",
)
@click.option(
    "--mc-draws",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Fast engine: also time this many perturbed re-solves (Monte Carlo draws) per case.",
)
@click.option(
    "--targets",
    "target_draws",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Instead of the scale table: time a Monte Carlo of N draws (models/montecarlo.toml, 2 workers), "
    "20-point cap sweeps (exact engine; Pyomo with its held model), a held-session re-solve and full runs, "
    "each as a ratio to the direct HiGHS solve measured in the same call.",
)
@click.option(
    "--mc-scale",
    "mc_scale",
    type=click.IntRange(min=2),
    default=None,
    metavar="K",
    help="With --targets: also time a Monte Carlo of K x N draws and give its time and peak memory as ratios "
    "to the N-draw one (e.g. --targets 1000 --mc-scale 20: minutes).",
)
@click.option(
    "--design",
    "design_draws",
    type=click.IntRange(min=1),
    default=None,
    metavar="DRAWS",
    help="Instead: time a target search against one run (models/baseline.toml, exact engine) and a paired "
    "Monte Carlo of DRAWS draws against one Monte Carlo of each design (models/montecarlo.toml against models/"
    "montecarlo_linked.toml, full scale, exact engine), with the load average.",
)
@click.option(
    "--explore",
    "explore_only",
    is_flag=True,
    help="Instead: time one change in nationcap explore on the scenario (solve, server, updated page).",
)
@click.pass_obj
def bench(
    ctx,
    scales: tuple[float, ...],
    engine: str,
    out_file: Path,
    force: bool,
    scenario: Path | None,
    mc_draws: int,
    target_draws: int | None,
    mc_scale: int | None,
    explore_only: bool,
    design_draws: int | None,
) -> None:
    """Time each phase of a full run (load, build, solve, extract, write) and its peak memory.

    Every run is a fresh process on the baseline scenario (or --scenario) at each --scale.
    Benchmarks, not tests: a 4x Pyomo run takes minutes. With --targets, time batches and
    re-solves instead (nationcap/tools/targets.py). With --explore: the time of one change
    of a compliance factor in nationcap explore (needs the explore extra; the updated page is
    timed in the system's headless Chromium when it and Playwright are installed).
    """
    from ..tools import bench as b
    from .common import reported

    if explore_only:
        with reported(ctx):
            _bench_explore(ctx, scenario or b.DEFAULT_SCENARIO)
        return

    engines = ("fast", "pyomo") if engine == "both" else (engine,)
    info = b.machine()
    echo = ctx.echo if ctx is not None else click.echo
    if design_draws is not None:
        from ..tools import bench_design as d

        with reported(ctx):
            t = d.target_vs_run(scenario)
            echo(
                f"target on one factor (exact engine): {t['target_s']:.1f} s ({t['solves']} solves) vs one run "
                f"{t['run_s']:.1f} s: {t['ratio']:.2f}x"
            )
            p = d.paired_vs_montecarlo(design_draws)
            echo(
                f"paired Monte Carlo of {p['draws']} draws: {p['paired_s']:.1f} s vs one Monte Carlo "
                f"{p['montecarlo_s']:.1f} s: {p['ratio']:.2f}x; vs the two designs' Monte Carlo one after "
                f"the other ({p['montecarlo_s']:.1f} + {p['montecarlo_b_s']:.1f} s): {p['ratio_to_both']:.2f}x "
                f"(load average {p['load_before']:.2f} before, {p['load_after']:.2f} after)"
            )
        return
    with reported(ctx):
        from ..atomic import check_location

        if target_draws is None:  # the scale table is written to out_file: never over a file silently
            from ..atomic import check_file_replaceable

            check_file_replaceable(out_file, force, b.is_bench_csv)
        check_location(out_file, "file")  # before the first (long) case
        echo(f"machine: {info['cores']} cores, {info['cpu']}, {info['memory_gb']} GB")
        echo(f"versions: {info['versions']}")
        if target_draws is not None:
            _targets(echo, ctx, target_draws, mc_scale)
            return
        try:
            rows = b.run_bench(
                scales=scales or b.DEFAULT_SCALES,
                engines=engines,
                out_csv=out_file,
                scenario=scenario or b.DEFAULT_SCENARIO,
                mc_draws=mc_draws,
                progress=lambda s: click.echo(s, err=True) if not (ctx and ctx.quiet) else None,
            )
        except RuntimeError as exc:  # a case failed in its subprocess: show its error output
            raise click.ClickException(str(exc)) from None
        echo("")
        echo(b.format_table(rows))
        fast = [r for r in rows if r["engine"] == "fast" and r.get("mc_draw_bau_s") is not None]
        for r in fast:
            echo(
                f"fast x{r['scale']:g}: one Monte Carlo draw (arrays perturbed, re-solve, prices) "
                f"{r['mc_draw_bau_s'] * 1e3:.0f} ms with BAU draws, {r['mc_draw_bau_cost_s'] * 1e3:.0f} ms "
                f"with BAU and MAC cost draws -> 1,000 draws ~ {r['mc_draw_bau_s'] * 1e3:.0f} / "
                f"{r['mc_draw_bau_cost_s'] * 1e3:.0f} s in one process"
            )
        echo(f"\nwrote {out_file}")


def _targets(echo, ctx, draws: int, mc_scale: int | None = None) -> None:
    """``bench --targets``: the direct solve, then every target figure as a ratio to it."""
    import tempfile

    from ..tools import bench as b
    from ..tools import targets as tg

    say = lambda s: click.echo(s, err=True) if not (ctx and ctx.quiet) else None  # noqa: E731
    repo = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="nationcap-targets-") as tmp:
        workdir = Path(tmp)
        say("highspy (direct) ...")
        case = b.Case(1.0, (repo / b.DEFAULT_SCENARIO).resolve(), [], "inputs/japan (shipped)")
        direct_s = b.run_case(case, b.DIRECT, workdir)["end_to_end_s"]
        try:
            rows = tg.run_targets(repo, workdir, direct_s, mc_draws=draws, progress=say, mc_scale=mc_scale)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
    echo("")
    echo(tg.format_targets(rows, direct_s))


def _bench_explore(ctx, scenario: Path) -> None:
    from ..tools import bench as b

    t = b.explore_timings(scenario)
    page = "not measured (no /usr/bin/chromium or playwright)" if t["page_ms"] is None else f"{t['page_ms']:.0f} ms"
    click.echo(
        f"nationcap explore {scenario}, one change of {b.EXPLORE_KEY} (median of {len(b.EXPLORE_VALUES)}):\n"
        f"  solve {t['solve_ms']:.0f} ms; server (validate, prepare, solve, results, views) {t['server_ms']:.0f} ms; "
        f"updated page {page}"
    )


COMMANDS = (bench,)
