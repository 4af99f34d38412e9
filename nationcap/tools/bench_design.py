"""``nationcap bench --design``: the design questions against the runs they are made of.

- a target search on one factor of the shipped baseline on the exact engine, against one run
  of it (both opened from the file, solved in this process, nothing written): the search's
  wall time over the run's;
- a paired Monte Carlo of ``models/montecarlo.toml`` against ``models/montecarlo_linked.toml`` (two
  batches on the same draws, the deterministic pair and the paired tables), against one Monte
  Carlo of the first design, both with ``workers`` processes, written into a temporary folder and
  solved afresh (no cached runs).
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
    """Wall times (s) of one Monte Carlo of ``draws`` draws and of the paired one, and their ratio."""
    from ..batch.plan import plan_montecarlo
    from ..batch.store import run_batch
    from ..report.paired import paired_tables
    from ..session import Session

    a, b = pair
    with tempfile.TemporaryDirectory(prefix="nationcap-bench-") as tmp:
        t0 = time.perf_counter()
        run_batch(plan_montecarlo(a, draws), Path(tmp) / "one", workers=workers, resume=False)
        one_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        batches = [plan_montecarlo(p, draws) for p in (a, b)]
        res = [
            run_batch(batch, Path(tmp) / f"pair_{i}", workers=workers, resume=False).results
            for i, batch in enumerate(batches)
        ]
        det = [Session(batch.base).solve(detail="market", mac_curve=False).results for batch in batches]
        paired_tables(res[0], res[1], det[0], det[1])
        paired_s = time.perf_counter() - t0
    return {"draws": draws, "montecarlo_s": one_s, "paired_s": paired_s, "ratio": paired_s / one_s}
