r"""Price intervals of the Pyomo engine: the least and the greatest optimal dual of each market row.

Why an interval
    When a market's requirement lands exactly on the boundary between two abatement steps (the
    cheaper one used fully, the dearer one not at all), every price between the two PV costs
    clears the market: the LP has a whole face of optimal duals and HiGHS returns one vertex of
    it, either end. The engine therefore reports, for every market row ``MarketClearing[m, p]``,
    the least and the greatest value of its dual over the set of optimal duals
    (``SolveResult.dual_low`` / ``dual_high``); :mod:`nationcap.results.prices` turns them into
    ``price_low`` / ``price_high`` and reports the lower end as ``price``.

How: one-sided perturbation
    Let ``V(b)`` be the optimal objective as a function of the right-hand sides. It is convex
    and piecewise linear, and its subdifferential at ``b`` is the set of optimal duals. For a
    small enough ``delta > 0``, every optimal dual of the LP with row i's right-hand side raised
    to ``b_i + delta`` lies on the face of that set where ``y_i`` is greatest, and with
    ``b_i - delta`` on the face where it is least (directional derivatives of ``V``). So the
    engine moves row i's right-hand side by ``+/- INTERVAL_STEP`` LP units (``md.scale_t`` t),
    re-solves with the dual simplex from the current basis (hot start: usually a pivot or none)
    and reads row i's dual: ``dual_high`` and ``dual_low``. It never differences objective
    values (cancellation). The market row is raised in both formulations: in the compact one its
    right-hand side is the market's requirement, in the full one it is minus the pool's constant
    terms; either way one LP unit more takes one LP unit of allowances out of market m in period
    p. Linked markets (a full link ties the rows of the two markets) need nothing special: the
    interval of each row is its own range over the optimal duals, which perturbing that row
    gives. A price ceiling, floor, fine or import price bounds the interval by itself (the
    perturbed LP issues, withdraws or imports at that price). When one more LP unit of
    requirement cannot be met at all, ``dual_high`` is ``inf``.

    A requirement within ``INTERVAL_STEP`` LP units of a step boundary counts as on it (ten
    HiGHS feasibility tolerances; quantities that small are below the LP's resolution anyway,
    see ``SMALLEST_LP_QUANTITY`` in :mod:`nationcap.model.data`).

Which rows are skipped (sound, not a heuristic)
    Complementary slackness holds between *any* optimal primal and *any* optimal dual solution.
    So a column strictly between its bounds at the solution found (by more than ``INTERVAL_STEP``)
    has reduced cost zero for every optimal dual: ``sum_i a[i, j] y_i = c_j``. A row whose
    activity is strictly between its bounds has dual zero for every optimal dual. Starting from
    those rows and the columns with one row, every equation with only one row still unknown
    fixes that row (a partly used abatement step fixes its market row at the step's PV cost,
    a free ``NetPurchase`` ties an entity row to its market row, a bank strictly between its
    bounds ties consecutive periods). Market rows fixed this way have a unique dual (low = high
    = the dual found) and are not re-solved; only the others are perturbed.

Sifting
    A sifting model holds only some columns (the others fixed at a bound), so its optimal duals
    form a *larger* set than the full LP's: a column fixed at zero could let the restricted LP's
    dual rise past the cost of that very column, a fake breakpoint. Every perturbed solution of
    a sifting model is therefore certified against every column with the same reduced-cost check
    as sifting itself (:func:`nationcap.engines.pyomo_highs.uncertified`); a certified dual is a
    dual of the full LP at the perturbed requirement, hence the true end of the interval. A
    perturbed solve that fails the check (or that the held columns cannot meet) is reported
    back, and :func:`nationcap.engines.pyomo_highs.sifting_intervals` solves that row again on a
    model that also holds the columns that priced out. Fixing a row by complementary slackness
    is sound on the restricted model too: its optimal duals contain the full LP's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ModelError
from ..model.registry import MARKET_BALANCE

#: LP units (``md.scale_t`` t) by which a market row's right-hand side is moved up and down
INTERVAL_STEP = 1e-6


@dataclass
class Intervals:
    """Least and greatest optimal dual of each market row (JPY/t, PV), and what could not be
    certified: ``failed`` lists (row, side, columns) with side -1 (low) or +1 (high) and the
    mask of columns that priced out (None: the held columns could not meet the requirement)."""

    low: np.ndarray
    high: np.ndarray
    perturbed: int = 0
    failed: list[tuple[int, int, np.ndarray | None]] = field(default_factory=list)


def concept_rows(m: Any, opt: Any) -> dict[str, np.ndarray]:
    """HiGHS row index of every row of each named constraint of ``m`` (concept -> (n,) ints)."""
    import pyomo.environ as pyo

    cmap = opt._pyomo_con_to_solver_con_map
    out = {}
    for local, concept in m.concept_names.items():
        comp = m.component(local)
        if comp is not None and comp.ctype is pyo.Constraint:
            out[concept] = np.fromiter((cmap[c] for c in comp.values()), dtype=np.int64, count=len(comp))
    return out


def pinned_rows(highs: Any, tol: float = INTERVAL_STEP) -> np.ndarray:
    """(rows,) True for every row of the HiGHS model whose dual is the same in every optimal
    dual solution, by complementary slackness with the current solution (module doc)."""
    lp = highs.getLp()
    sol = highs.getSolution()
    a = lp.a_matrix_
    n_col, n_row = int(lp.num_col_), int(lp.num_row_)
    start = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    value = np.asarray(a.value_, dtype=float)
    if len(start) != n_col + 1:  # a row-wise matrix: never what Pyomo passes; decide nothing
        return np.zeros(n_row, dtype=bool)
    x = np.asarray(sol.col_value, dtype=float)
    lo, up = np.asarray(lp.col_lower_, dtype=float), np.asarray(lp.col_upper_, dtype=float)
    interior = (x - lo > tol) & (up - x > tol)  # infinite bounds compare as interior
    r = np.asarray(sol.row_value, dtype=float)
    rlo, rup = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    pinned = (r - rlo > tol) & (rup - r > tol)  # slack rows: dual 0
    col_of = np.repeat(np.arange(n_col), np.diff(start))
    keep = interior[col_of] & (value != 0.0)
    ec, er = col_of[keep], index[keep]
    while len(ec):
        unknown = ~pinned[er]
        n_unknown = np.bincount(ec, weights=unknown, minlength=n_col)
        solved = unknown & (n_unknown[ec] == 1)
        if not solved.any():
            break
        pinned[er[solved]] = True
        done = n_unknown[ec] <= 1
        ec, er = ec[~done], er[~done]
    return pinned


def market_intervals(
    m: Any,
    opt: Any,
    market_dual: np.ndarray,
    rows: np.ndarray | None = None,
    certify: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None,
) -> Intervals:
    """The interval of every market row's dual of the solved model ``m`` held by the persistent
    HiGHS ``opt`` (module doc); ``market_dual`` (M*P,) is the solution's own, ``rows`` the flat
    market rows to consider (default: all). With ``certify`` (sifting: columns -> mask of those
    that price out at the given duals), perturbed duals are checked against every column and the
    rows that fail are listed in ``failed`` instead (their ends are left at ``market_dual``).

    The right-hand sides are restored afterwards; HiGHS keeps the basis of the last re-solve,
    from which the next (persistent) solve starts as well as from any other."""
    import highspy

    highs = opt._solver_model
    crow = concept_rows(m, opt)
    mrows = crow[MARKET_BALANCE]
    low, high = market_dual.astype(float).copy(), market_dual.astype(float).copy()
    out = Intervals(low, high)
    todo = np.arange(len(mrows)) if rows is None else np.asarray(rows, dtype=np.int64)
    pinned = pinned_rows(highs)
    todo = todo[~pinned[mrows[todo]]]
    if not len(todo):
        return out
    lp = highs.getLp()
    row_lo, row_up = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    saved = {k: highs.getOptionValue(k)[1] for k in ("solver", "output_flag", "presolve")}
    highs.setOptionValue("solver", "simplex")
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("presolve", "off")
    status = highspy.HighsModelStatus
    try:
        for k in todo.tolist():
            r = int(mrows[k])
            try:
                for side in (-1, 1):
                    value = _perturbed(highs, status, r, k, side, row_lo[r], row_up[r], crow, certify, out)
                    if value is None:
                        continue
                    if side < 0:
                        low[k] = min(value, market_dual[k])
                    else:
                        high[k] = max(value, market_dual[k])
            finally:
                highs.changeRowBounds(r, row_lo[r], row_up[r])
    finally:
        for key, v in saved.items():
            highs.setOptionValue(key, v)
    return out


def _perturbed(
    highs: Any,
    status: Any,
    r: int,
    k: int,
    side: int,
    lo: float,
    up: float,
    crow: dict[str, np.ndarray],
    certify: Callable[[dict[str, np.ndarray]], np.ndarray] | None,
    out: Intervals,
) -> float | None:
    """Row r's dual with its right-hand side moved by ``side * INTERVAL_STEP``; None (and an entry
    in ``out.failed``) where a sifting model's answer is not certified for the full LP."""
    shift = side * INTERVAL_STEP
    highs.changeRowBounds(r, lo + shift, up + shift)
    highs.run()
    out.perturbed += 1
    st = highs.getModelStatus()
    if st == status.kOptimal:
        duals = np.asarray(highs.getSolution().row_dual, dtype=float)
        if certify is not None:
            bad = certify({c: duals[idx] for c, idx in crow.items()})
            if bad.any():
                out.failed.append((k, side, bad))
                return None
        return float(duals[r])
    if st == status.kInfeasible and side > 0:
        if certify is not None:  # the held columns cannot; the full LP might
            out.failed.append((k, side, None))
            return None
        return float(np.inf)  # not one more unit of requirement can be met
    raise ModelError(
        f"HiGHS could not re-solve with market row {k}'s requirement moved by {shift:g} LP units "
        f"(model status {highs.modelStatusToString(st)}): the price interval is unknown"
    )
