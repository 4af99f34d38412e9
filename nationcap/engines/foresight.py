r"""Rolling-horizon foresight: the market plans its banking k periods ahead, not over the horizon.

With ``[foresight] horizon_periods = k`` (less than the number of periods P) the scenario is solved
window by window. Window w covers periods w .. min(w + k, P) - 1 and is the scenario's own LP with

- every period outside the window emptied: its free allocation (and cap) set to its BAU, so it
  requires nothing, and its abatement steps given zero size, so it offers nothing; a bank carried
  into the empty periods after the window is therefore worth nothing (their price is 0) and one
  cannot borrow from them (Bank at the end of the horizon is >= 0 and nothing there repays it),
  exactly as at the end of a horizon that ended with the window;
- the bank carried in: each market's bank at the end of period w - 1 on the rolling path (zero
  for the first window) added to the free allocation of period w (of the market's first entity:
  compliance rows hold a free NetPurchase, so only the market's total counts).

Period w's decisions of window w are kept: its abatement columns, its prices (the market
balance duals and their intervals), its bank (which counts the carried bank, so it is the bank
the kept period really ends with: allowances left at a window's end are banked, not lost) and
expiry. The kept periods together form one :class:`~nationcap.engines.base.SolveResult` of the
scenario's own model data, so the results are built, written and compared like any run's (costs
and ``_pv`` prices in first-model-year money, as the windows keep the scenario's discounting).
Net purchases are each entity's period requirement less its kept abatement.

Scope: the core model (caps, banking, borrowing); a scenario with a program rule on is refused.
With banking off the periods are independent and the result equals perfect foresight.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ..errors import InputError, Problem
from ..model.data import ModelData
from ..model.registry import ABATEMENT, BANK, ENTITY_COMPLIANCE, EXPIRED, MARKET_BALANCE, NET_PURCHASE
from ..model.rules import RULES
from .base import Engine, Phase, SolveResult, Status


def rolling(md: ModelData) -> int | None:
    """The window length if ``md``'s scenario asks for a rolling horizon shorter than its periods."""
    k = md.scenario.foresight.horizon_periods
    return k if k is not None and k < len(md.periods) else None


def check_rolling(md: ModelData) -> None:
    """Refuse program rules under a rolling horizon (one problem per rule switched on)."""
    on = [rule.NAME for rule in RULES if rule.active(md.scenario)]
    if on:
        raise InputError(
            [
                Problem(
                    md.scenario.source or "scenario",
                    "key 'foresight.horizon_periods'",
                    "",
                    f"a rolling horizon is implemented for the core model only; the rule {name!r} is on",
                )
                for name in on
            ],
            "scenario",
        )


def window(md: ModelData, first: int, k: int, carried_t: np.ndarray) -> ModelData:
    """The model data of the window of ``k`` periods from period ``first`` (module doc)."""
    n_p = len(md.periods)
    inside = np.zeros(n_p, dtype=bool)
    inside[first : min(first + k, n_p)] = True
    bau_p = np.stack([md.bau_t[:, md.period_years(p)].sum(axis=1) for p in range(n_p)], axis=1)
    alloc = np.where(inside[None, :], md.alloc_t, bau_p)
    full_src = md.alloc_full_t if md.alloc_full_t is not None else md.alloc_t
    full = np.where(inside[None, :], full_src, bau_p)
    for a in range(len(md.markets)):
        members = np.flatnonzero(md.entity_market == a)
        if len(members) and carried_t[a] != 0.0:
            alloc[members[0], first] += carried_t[a]
            full[members[0], first] += carried_t[a]
    qty = np.where(inside[md.col_period], md.col_qty_t, 0.0)
    return dataclasses.replace(md, alloc_t=alloc, alloc_full_t=full, col_qty_t=qty)


def solve_rolling(
    engine: Engine,
    md: ModelData,
    k: int,
    on_phase: Phase | None = None,
    check: Callable[[ModelData], object] | None = None,
) -> SolveResult:
    """Solve ``md`` with a rolling horizon of ``k`` periods on ``engine`` (module doc); ``check``
    (the pre-solve feasibility check) is applied to every window."""
    check_rolling(md)
    if getattr(engine, "hold", False):  # a held model re-solves only new caps, not emptied columns
        from . import get_engine

        engine = get_engine(engine.name, log_file=getattr(engine, "log_file", None))
    n_m, n_p, n_e = len(md.markets), len(md.periods), md.n_entities
    col_period = md.col_period
    abate = np.zeros(len(md.col_cost))
    bank = np.zeros((n_m, n_p))
    price = np.zeros((n_m, n_p))
    low = np.zeros((n_m, n_p))
    high = np.zeros((n_m, n_p))
    entity_dual = np.zeros((n_e, n_p))
    expire_pairs = md.expire_index()
    expire = np.zeros(len(expire_pairs))
    carried = np.zeros(n_m)
    t0 = time.perf_counter()
    solve_s = 0.0
    for p in range(n_p):
        mdw = window(md, p, k, carried)
        if check is not None:
            check(mdw)
        sr = engine.solve(mdw, on_phase=on_phase if p == 0 else None)
        solve_s += sr.timings.get("solve", sr.solve_time_s)
        cols = col_period == p
        abate[cols] = sr.values[ABATEMENT][cols]
        bank_w = np.asarray(sr.values[BANK], dtype=float).reshape(n_m, n_p)
        bank[:, p] = bank_w[:, p]
        carried = bank_w[:, p].copy()
        point = np.asarray(sr.duals[MARKET_BALANCE], dtype=float).reshape(n_m, n_p)
        price[:, p] = point[:, p]
        low[:, p] = np.asarray(sr.dual_low.get(MARKET_BALANCE, point), dtype=float).reshape(n_m, n_p)[:, p]
        high[:, p] = np.asarray(sr.dual_high.get(MARKET_BALANCE, point), dtype=float).reshape(n_m, n_p)[:, p]
        entity_dual[:, p] = np.asarray(sr.duals[ENTITY_COMPLIANCE], dtype=float).reshape(n_e, n_p)[:, p]
        exp_w = np.asarray(sr.values[EXPIRED], dtype=float)
        for i, (_, q) in enumerate(expire_pairs):
            if q == p:
                expire[i] = exp_w[i]
    row = md.col_entity * n_p + col_period
    abate_ep = np.bincount(row, weights=abate, minlength=n_e * n_p)
    w = md.discount[md.col_year] * md.col_cost
    elapsed = time.perf_counter() - t0
    return SolveResult(
        status=Status.OPTIMAL,
        detail=f"rolling horizon of {k} period{'s' if k != 1 else ''}: {n_p} windows solved",
        objective_jpy=float((w * abate).sum()),
        solve_time_s=elapsed,
        values={ABATEMENT: abate, NET_PURCHASE: md.need_t().ravel() - abate_ep, BANK: bank.ravel(), EXPIRED: expire},
        duals={MARKET_BALANCE: price.ravel(), ENTITY_COMPLIANCE: entity_dual.ravel()},
        dual_low={MARKET_BALANCE: low.ravel()},
        dual_high={MARKET_BALANCE: high.ravel()},
        timings={"build": max(0.0, elapsed - solve_s), "solve": solve_s},
        info={"engine": engine.name, "foresight_horizon_periods": k, "windows": n_p},
        engine=engine.name,
    )
