"""Design questions: ``target`` (the values of a scenario key that meet goals on the results)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from ..errors import InputError, Problem
from .common import Ctx, _engine_option, _set_option, engine_override, reported


def parse_range(text: str) -> tuple[float, float]:
    """``"0,0.5"`` -> (0.0, 0.5); an :class:`InputError` unless two finite numbers LO < HI."""
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        lo = hi = math.nan
    if len(parts) != 2 or not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError([Problem("--range", text, "", "expected LO,HI with two numbers, LO < HI")], "arguments")
    return lo, hi


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--param", "key", required=True, metavar="KEY", help="Dotted scenario key to vary, as for --set.")
@click.option(
    "--goal",
    "goals",
    multiple=True,
    required=True,
    metavar="GOAL",
    help="VARIABLE[MARKET,YEAR_OR_PERIOD] OP VALUE, OP one of <=, >=, == (VALUE may be another "
    "VARIABLE[MARKET,COORD]); repeat for several goals, all of which must hold.",
)
@click.option(
    "--range",
    "range_text",
    default=None,
    metavar="LO,HI",
    help="The values of KEY to search (default: KEY's natural domain: the schema's bounds, e.g. [0, 1) for a "
    "factor; [0, the largest base emissions] for a size threshold; [0, the dearest abatement step] for a price "
    "band level; a key without one asks for --range).",
)
@click.option(
    "--tol",
    type=float,
    default=None,
    help="Bisection tolerance on KEY (default: 1e-6 of the range); the exact method needs none.",
)
@click.option(
    "--samples",
    type=click.IntRange(2, 1000),
    default=9,
    show_default=True,
    help="Evenly spaced values of KEY solved first; switches are searched between them.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Folder for target.json (default: outputs/target_<scenario name>/).",
)
@click.option("--force", is_flag=True, help="Replace an existing target.json folder.")
@_set_option
@_engine_option
@click.pass_obj
def target(
    ctx: Ctx,
    scenario: Path,
    key: str,
    goals: tuple[str, ...],
    range_text: str | None,
    tol: float | None,
    samples: int,
    out_dir: Path | None,
    force: bool,
    overrides: tuple[str, ...],
    engine: str | None,
) -> None:
    """Find every interval of KEY within --range (or KEY's natural domain) where all goals hold, with open or closed ends
    and the goals' values at each end; or, when none does, the value that comes closest.

    On the merit-order engine (--engine fast) price goals on a key that moves the caps (a
    compliance factor, a top-level multiplier) get exact intervals from the merit order's
    breakpoints; otherwise (the Pyomo engine, goals on quantities) the switches are bisected to
    --tol. The method used is printed and written to target.json.
    """
    from ..atomic import TARGET, atomic_file, check_writable
    from ..design.domain import NoDomain, natural_domain
    from ..design.target import Search, parse_goals
    from ..results.build import provenance, versions
    from ..session import Session

    with reported(ctx):
        if out_dir is not None:
            check_writable(out_dir, force, (TARGET,))
        problems: list[Problem] = []
        lo = hi = math.nan
        source = "--range"
        if range_text is not None:
            try:
                lo, hi = parse_range(range_text)
            except InputError as exc:
                problems += exc.problems
        if tol is not None and not tol > 0:
            problems.append(Problem("--tol", str(tol), "", "must be > 0"))
        all_overrides = (*overrides, *engine_override(engine))
        session = Session.open(scenario, all_overrides, None, hold=True)
        scn = session.scenario
        out_dir = out_dir or Path("outputs") / f"target_{scn.name}"
        check_writable(out_dir, force, (TARGET,))
        md = session.model_data
        if range_text is None:
            try:
                domain = natural_domain(session, key)
            except NoDomain as exc:
                problems.append(Problem("--range", key, "", str(exc)))
            else:
                lo, hi, source = domain.lo, domain.hi, domain.source
        try:
            parsed = parse_goals(goals, md.markets, md.years, md.periods)
        except InputError as exc:
            problems += exc.problems
        for x in (lo, hi):
            if math.isfinite(x):
                try:
                    session.variant([f"{key}={x!r}"])
                except (InputError, ValueError) as exc:
                    for p in getattr(exc, "problems", [Problem("--param", key, "", str(exc))]):
                        problems.append(Problem("--param/--range", f"{key}={x!r}", "", p.message))
        if problems:
            raise InputError(problems, "arguments")
        search = Search(session, key, parsed, lo, hi, tol=tol or 1e-6 * (hi - lo), samples=samples, range_source=source)
        out = search.run()
        md = session.model_data
        out["config"] = json.loads((md.scope.source if md.scope is not None else md.scenario).resolved_json())
        out["versions"] = versions()
        out["provenance"] = {k: json.loads(v) if k == "inputs_sha256" else v for k, v in provenance(md).items()}
        with atomic_file(out_dir / "target.json") as tmp:
            tmp.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        ctx.echo(render(out))
        ctx.echo(f"\nwrote {out_dir}/target.json")


def render(out: dict) -> str:
    """The answer of a target search in words."""
    lines = [
        f"{out['parameter']} in [{out['range'][0]!r}, {out['range'][1]!r}] (from {out['range_source']}), "
        f"engine {out['engine']}, method: {out['method']} ({out['solves']} solves)",
        "goals: " + "; ".join(out["goals"]),
    ]
    if out["intervals"]:
        lines.append("the goals hold on:")
        for iv in out["intervals"]:
            left = "[" if iv["low_closed"] else "("
            right = "]" if iv["high_closed"] else ")"
            lines.append(f"  {left}{iv['low']:.12g}, {iv['high']:.12g}{right}")
            for end in ("low", "high"):
                at = iv[f"at_{end}"]
                vals = ", ".join(f"{k} = {v:,.6g}" for k, v in at.get("results", {}).items()) or at.get("error", "")
                closed = "closed" if iv[f"{end}_closed"] else "open: the goals fail at the end itself"
                lines.append(f"    at {iv[end]:.12g} ({closed}): {vals}")
    else:
        c = out["closest"]
        if c is None:
            lines.append("no value in the range could be solved")
        else:
            short = ", ".join(f"{g}: short by {v:,.6g}" for g, v in c["shortfall"].items() if v > 0)
            vals = ", ".join(f"{k} = {v:,.6g}" for k, v in c.get("results", {}).items())
            lines.append(f"no value in the range meets every goal; the closest is {c['value']:.12g} ({short}): {vals}")
    return "\n".join(lines)


COMMANDS = (target,)
