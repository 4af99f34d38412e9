"""Pre-solve diagnosis: is there a cap that no abatement can meet?

Run by the engines before they build or solve anything (a failure costs milliseconds, not a
solve) and again by the Pyomo engine when HiGHS reports infeasibility, to name the market and
period. Markets with extra supply (a price ceiling, offsets, imports, shortfalls) are left to the
solver's verdict.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..model.data import ModelData, bank_bounds


def check_feasible(md: ModelData) -> None:
    """Raise :class:`ModelError` naming the market and period if no abatement can meet a cap.

    With every step used, the best reachable bank is ``s_p = min(hi_p, s_{p-1} - gap_p)`` where
    ``gap_p = BAU - cap - max abatement`` (t) and ``hi_p`` is 0 without banking, +inf with it.
    The scenario is feasible iff ``s_p >= lo_p`` in every period (``lo_p`` = 0, or -inf before
    the last period with borrowing). Keeping the bank as high as possible is never worse later,
    so this greedy pass is exact.
    """
    gap = md.bau_by_market_period_t() - md.cap_t() - md.max_abatement_t()
    n_p = len(md.periods)
    problems = []
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        if (
            cfg.price_ceiling is not None
            or cfg.use_offsets
            or cfg.external is not None
            or cfg.penalty_multiplier is not None
        ):
            continue  # extra supply: leave the diagnosis to the solver
        s = 0.0
        for p, pname in enumerate(md.periods):
            lo, hi = bank_bounds(cfg.banking, cfg.borrowing, p == n_p - 1)
            s = s - gap[a, p]
            if hi is not None:
                s = min(hi, s)
            tol = 1e-7 * max(1.0, float(np.abs(gap[a]).max()))
            if lo is not None and s < lo - tol:
                problems.append(
                    f"market {name!r}, period {pname}: the cap cannot be met even with every "
                    f"abatement step used ({(lo - s) / 1e6:,.4f} Mt short"
                    f"{'' if cfg.banking else '; banking is off'}); loosen the compliance factor, "
                    f"turn banking on or add abatement steps"
                )
                s = lo
    if problems:
        raise ModelError("infeasible scenario:\n  - " + "\n  - ".join(problems))
