"""``nationcap bench --design``: the design questions against the runs they are made of.

- a target search on one factor of the shipped baseline on the exact engine, against one run
  of it (both opened from the file, solved in this process, nothing written): the search's
  wall time over the run's;
- a paired Monte Carlo of ``models/montecarlo.toml`` against ``models/montecarlo_linked.toml`` (both
  designs solved together on the same draws, the deterministic pair and the paired tables),
  against one Monte Carlo of each design alone, all with ``workers`` processes, written into a
  temporary folder and solved afresh (no cached runs).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

#: the README's worked examples (section "Design questions")
TARGET_SCENARIO = Path("models") / "baseline.toml"
TARGET_KEY = "markets.regional.compliance_factor.P1.general"
TARGET_GOAL = "price[regional,2030]<=4840"
TARGET_RANGE = (0.0, 0.3)
#: the acceptance's pair at full scale: the shipped Monte Carlo against the same design with the
#: tiers fully linked, on the same [montecarlo] table (both on the exact engine)
PAIR = (Path("models") / "montecarlo.toml", Path("models") / "montecarlo_linked.toml")


def target_vs_run(scenario: Path | None = None) -> dict[str, Any]:
    """Wall times (s) of one run and of the target search, and their ratio."""
    from ..design.target import Search, parse_goals
    from ..session import Session

    path = scenario or TARGET_SCENARIO
    t0 = time.perf_counter()
    Session.open(path, engine="fast").solve()
    run_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    session = Session.open(path, engine="fast")
    md = session.model_data
    goals = parse_goals([TARGET_GOAL], md.markets, md.years, md.periods)
    lo, hi = TARGET_RANGE
    out = Search(session, TARGET_KEY, goals, lo, hi, tol=1e-6 * (hi - lo)).run()
    target_s = time.perf_counter() - t0
    return {"run_s": run_s, "target_s": target_s, "ratio": target_s / run_s, "solves": out["solves"]}


def paired_vs_montecarlo(draws: int, workers: int | None = None, pair: tuple[Path, Path] = PAIR) -> dict[str, Any]:
    """Wall times (s) of one Monte Carlo of ``draws`` draws of each design alone and of the paired
    one (as ``nationcap montecarlo A --paired B`` runs it: both designs together when they share
    their draws, then the deterministic pair and the paired tables), the ratios of the paired
    time to the first design's and to the sum of both, and the load average (1 minute) before and
    after (the machine may be shared)."""
    import os

    from ..batch.plan import plan_montecarlo
    from ..batch.store import run_batch, run_paired, shares_draws
    from ..report.paired import paired_tables
    from ..session import Session

    a, b = pair
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="nationcap-bench-") as tmp:
        alone = []
        for i, path in enumerate((a, b)):
            t0 = time.perf_counter()
            run_batch(plan_montecarlo(path, draws), Path(tmp) / f"one_{i}", workers=workers, resume=False)
            alone.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        batches = [plan_montecarlo(p, draws, keep_tables=True) for p in (a, b)]
        outs = [Path(tmp) / f"pair_{i}" for i in range(2)]
        if shares_draws(*batches):
            res = [r.results for r in run_paired(batches[0], batches[1], outs[0], outs[1], workers=workers)]
        else:
            res = [run_batch(x, o, workers=workers, resume=False).results for x, o in zip(batches, outs)]
        det = [Session(x.base, x.dataset).solve(detail="market", mac_curve=False).results for x in batches]
        paired_tables(res[0], res[1], det[0], det[1])
        paired_s = time.perf_counter() - t0
    return {
        "draws": draws,
        "montecarlo_s": alone[0],
        "montecarlo_b_s": alone[1],
        "paired_s": paired_s,
        "ratio": paired_s / alone[0],
        "ratio_to_both": paired_s / (alone[0] + alone[1]),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
