"""``nationcap bench --targets``: batch and re-solve timings as ratios to a direct HiGHS solve.

Every figure is measured in the same call as the direct highspy solve of the shipped baseline's
core LP (:func:`nationcap.tools.bench.direct_core_lp`, a fresh process from start to prices), and
reported as a ratio to it, so that a busy or slow machine moves both alike:

``montecarlo``      ``nationcap montecarlo models/montecarlo.toml --draws N --workers 2``, process
                    start to results written (exact engine)
``montecarlo xK``   with ``--mc-scale K``: the same with K x N draws, its time and peak memory also
                    as ratios to the N-draw one (targets for K = 20: time <= 20x, peak <= 1.5x)
``sweep fast``      a 20-point cap sweep of ``models/baseline.toml`` on the exact engine, one process
``sweep pyomo``     the same on the Pyomo engine with its held sifting model (``--reuse``)
``held re-solve``   one design change (a compliance factor) re-solved in a held session of the
                    baseline on the exact engine with market-level results (median of 5; in this
                    process, the session opened beforehand)
``run``             ``nationcap run models/baseline.toml`` (default engine) and ``--engine fast``

Commands run as fresh processes; their peak memory is that of the largest process
(``ru_maxrss`` of ``os.wait4``). Benchmarks, not tests.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the swept key and its 20 values (compliance factor of the regional market's second period)
SWEEP_KEY = "markets.regional.compliance_factor.P2.general"
SWEEP_VALUES = [round(0.12 + 0.005 * k, 3) for k in range(20)]
CLI = [sys.executable, "-c", "from nationcap.cli import cli; cli()"]


def _timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one command run as a fresh process."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[3:])} failed:\n{err.decode(errors='replace')[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0


def held_resolve_s(scenario: Path, n: int = 5) -> float:
    """Median seconds of a compliance-factor change re-solved in a held exact-engine session
    (market-level results, no MAC curve)."""
    from ..session import Session

    session = Session.open(scenario, engine="fast")
    session.solve(detail="market", mac_curve=False)
    times = []
    for k in range(n):
        t = time.perf_counter()
        session.solve([f"{SWEEP_KEY}={SWEEP_VALUES[2 * k + 1]}"], detail="market", mac_curve=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_targets(
    repo: Path,
    workdir: Path,
    direct_s: float,
    mc_draws: int = 1000,
    progress: Callable[[str], None] | None = None,
    mc_scale: int | None = None,
) -> list[dict[str, Any]]:
    """The figures of the module doc, each with its ratio to ``direct_s`` (seconds); with
    ``mc_scale``, the Monte Carlo of ``mc_scale`` x ``mc_draws`` draws as well."""
    base, mc = repo / "models" / "baseline.toml", repo / "models" / "montecarlo.toml"
    values = ",".join(str(v) for v in SWEEP_VALUES)
    sweep = [*CLI, "-q", "sweep", str(base), "--param", SWEEP_KEY, "--values", values, "--workers", "1", "--force"]
    commands = [
        (
            f"montecarlo {mc_draws} draws, 2 workers",
            [*CLI, "-q", "montecarlo", str(mc), "--draws", str(mc_draws), "--workers", "2", "--out"],
            "mc",
        ),
        *(
            [
                (
                    f"montecarlo {mc_scale * mc_draws} draws, 2 workers",
                    [*CLI, "-q", "montecarlo", str(mc), "--draws", str(mc_scale * mc_draws), "--workers", "2", "--out"],
                    "mc_scaled",
                )
            ]
            if mc_scale
            else []
        ),
        ("sweep 20 points, fast, 1 process", [*sweep, "--set", 'solver.engine="fast"', "--out"], "sweep_fast"),
        ("sweep 20 points, pyomo held, 1 process", [*sweep, "--reuse", "--out"], "sweep_pyomo"),
        ("run baseline (default engine)", [*CLI, "-q", "run", str(base), "--force", "--out"], "run"),
        ("run baseline --engine fast", [*CLI, "-q", "run", str(base), "--engine", "fast", "--force", "--out"], "runf"),
        ("run tokyo_rules", [*CLI, "-q", "run", str(repo / "models" / "tokyo_rules.toml"), "--force", "--out"], "tk"),
    ]
    rows: list[dict[str, Any]] = []
    for label, args, out in commands:
        if progress:
            progress(f"{label} ...")
        wall, peak = _timed([*args, str(workdir / out)], repo)
        row = {"target": label, "seconds": wall, "ratio_to_direct": wall / direct_s, "peak_rss_mb": peak}
        if out == "mc_scaled":  # against the Monte Carlo of mc_draws, measured just before
            row.update(
                scale=mc_scale,
                time_ratio_to_mc=wall / rows[0]["seconds"],
                peak_ratio_to_mc=peak / rows[0]["peak_rss_mb"],
            )
        rows.append(row)
    if progress:
        progress("held re-solve ...")
    s = held_resolve_s(base)
    rows.append(
        {
            "target": "held session re-solve, fast, market level",
            "seconds": s,
            "ratio_to_direct": s / direct_s,
            "peak_rss_mb": None,
        }
    )
    return rows


def format_targets(rows: list[dict[str, Any]], direct_s: float) -> str:
    lines = [f"direct highspy solve of the baseline core LP (fresh process): {direct_s:.2f} s"]
    width = max(len(r["target"]) for r in rows)
    for r in rows:
        peak = f"{r['peak_rss_mb']:7.0f} MB" if r["peak_rss_mb"] is not None else ""
        lines.append(f"{r['target']:<{width}}  {r['seconds']:8.3f} s  {r['ratio_to_direct']:6.3f} x direct  {peak}")
        if "time_ratio_to_mc" in r:
            lines.append(
                f"{'':<{width}}  {r['time_ratio_to_mc']:.2f} x the time and {r['peak_ratio_to_mc']:.2f} x the peak "
                f"of the {r['scale']}x smaller Monte Carlo (targets: <= {r['scale']} x, <= 1.5 x)"
            )
    return "\n".join(lines)
