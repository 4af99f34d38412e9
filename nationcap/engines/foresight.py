r"""Rolling-horizon foresight: the market plans its banking k periods ahead, not over the horizon.

With ``[foresight] horizon_periods = k`` (less than the number of periods P) the scenario is solved
window by window. Window w covers periods w .. min(w + k, P) - 1 and is the scenario's own LP with

- every period outside the window emptied: its free allocation (and cap) set to its BAU, so it
  requires nothing, its abatement steps given zero size, so it offers nothing, and every program
  rule's supply there switched off (below); a bank carried into the empty periods after the
  window is therefore worth nothing (their price is 0) and one cannot borrow from them (Bank at
  the end of the horizon is >= 0 and nothing there repays it), exactly as at the end of a horizon
  that ended with the window;
- the bank carried in: each market's bank at the end of period w - 1 on the rolling path (zero
  for the first window) added to the free allocation of period w (of the market's first entity:
  compliance rows hold a free NetPurchase, so only the market's total counts). The caps that
  program rules read (import and link limits, the auctioned volume) are the scenario's own in
  the window's periods, without the carried bank, and zero outside it (:class:`WindowData`).

Period w's decisions of window w are kept: its abatement columns, its prices (the market
balance duals and their intervals), its bank (which counts the carried bank, so it is the bank
the kept period really ends with: allowances left at a window's end are banked, not lost),
expiry, and every variable and row of a program rule that belongs to period w (or to one of its
years). The kept periods together form one :class:`~nationcap.engines.base.SolveResult` of the
scenario's own model data, so the results are built, written and compared like any run's (costs
and ``_pv`` prices in first-model-year money, as the windows keep the scenario's discounting).
The objective is the sum of the cost account's items in the objective over the kept periods.

Program rules. A rule works under foresight when nothing it decides in one period changes what
another period may do; then windowing it needs only its supply outside the window switched off.
Each rule says so in its own module: ``period_keys(md)`` (the entries of its concepts with their
periods, which are kept window by window), ``window(md, inside_year)`` when its supply outside the
window must be switched off (its rule data for the window), or ``FORESIGHT_REFUSED`` (why it
cannot be windowed). The shipped rules:

==============  =====================================================================================
offsets         credits count in the period of the year they are offered in, limits are per entity,
                type and period, credits are not banked: no state crosses periods. Outside the window
                the supply steps are given zero size.
price band      floor and ceiling per year: no state. Outside the window no floor or ceiling.
reserve         tranches are volumes per year, nothing unreleased carries over (no reserve stock):
                no state. Outside the window no tranche.
external        import limits per period, a share of the cap: no state. Outside the window the
                limit is 0 (a zero cap).
link            transfers and limits per period: no state. A limited link's limits are 0 outside
                the window; a full link's transfers there move only allowances that are worth
                nothing.
auction         a share of each period's cap: no state (the empty periods auction nothing).
overlap         electricity saved per year by the user market's abatement: no state (no abatement
                outside the window, so nothing saved there).
shortfall       **refused**: a shortfall in period p is owed k times in period p + 1, so a window's
                last period would fall short against an obligation in a period the window empties
                (where it could only be met from the window's own bank), and the make-up owed by
                the kept period would have to be carried into the next window per entity.
==============  =====================================================================================

With banking off the periods are independent and the result equals perfect foresight.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from ..errors import InputError, Problem
from ..model.data import ModelData
from ..model.registry import ABATEMENT, BANK, ENTITY_COMPLIANCE, EXPIRED, MARKET_BALANCE, NET_PURCHASE
from ..model.rules import RULES
from ..model.rules.base import ReportContext
from .base import Engine, Phase, SolveResult, Status


def rolling(md: ModelData) -> int | None:
    """The window length if ``md``'s scenario asks for a rolling horizon shorter than its periods."""
    k = md.scenario.foresight.horizon_periods
    return k if k is not None and k < len(md.periods) else None


def supported(rule: Any) -> bool:
    """Whether a rolling horizon windows and keeps ``rule``: it declares the entries of its
    concepts by period (its ``period_keys`` hook, and ``window`` when its supply outside the
    window must be switched off); a rule without them (a new one) is refused."""
    return hasattr(rule, "period_keys")


def check_rolling(md: ModelData) -> None:
    """Refuse, under a rolling horizon, every rule that is on and not :func:`supported` (one
    problem per rule, with the reason its module gives as ``FORESIGHT_REFUSED``)."""
    on = [rule for rule in RULES if not supported(rule) and rule.active(md.scenario)]
    if on:
        raise InputError(
            [
                Problem(
                    md.scenario.source or "scenario",
                    "key 'foresight.horizon_periods'",
                    "",
                    f"the rule {rule.NAME!r} is on and does not work with a rolling horizon: "
                    + getattr(
                        rule, "FORESIGHT_REFUSED", "its state across periods is not carried from window to window"
                    ),
                )
                for rule in on
            ],
            "scenario",
        )


@dataclasses.dataclass
class WindowData(ModelData):
    """The model data of one window: caps as the rules read them are ``window_caps_t`` (the
    scenario's own in the window's periods, without the carried bank; 0 outside)."""

    window_caps_t: np.ndarray | None = None

    def cap_t(self) -> np.ndarray:
        return ModelData.cap_t(self) if self.window_caps_t is None else self.window_caps_t

    def auction_t(self) -> np.ndarray:
        """Allocation before auction less free allocation: the carried bank is in both."""
        free = np.zeros((len(self.markets), len(self.periods)))
        np.add.at(free, self.entity_market, self.alloc_t)
        return ModelData.cap_t(self) - free


def _window_rule_data(md: ModelData, inside_year: np.ndarray) -> dict[str, Any]:
    """Each rule's data with its supply outside the window switched off: what the rule's
    ``window(md, inside_year)`` hook gives (module doc)."""
    rd = dict(md.rule_data)
    for rule in RULES:
        hook = getattr(rule, "window", None)
        if hook is not None and rule.active(md.scenario):
            entry = hook(md, inside_year)
            if entry is not None:
                rd[rule.NAME] = entry
    return rd


def window(md: ModelData, first: int, k: int, carried_t: np.ndarray) -> WindowData:
    """The model data of the window of ``k`` periods from period ``first`` (module doc)."""
    n_p = len(md.periods)
    inside = np.zeros(n_p, dtype=bool)
    inside[first : min(first + k, n_p)] = True
    bau_p = np.stack([md.bau_t[:, md.period_years(p)].sum(axis=1) for p in range(n_p)], axis=1)
    alloc = np.where(inside[None, :], md.alloc_t, bau_p)
    full_src = md.alloc_full_t if md.alloc_full_t is not None else md.alloc_t
    full = np.where(inside[None, :], full_src, bau_p)
    caps = np.where(inside[None, :], md.cap_t(), 0.0)
    for a in range(len(md.markets)):
        members = np.flatnonzero(md.entity_market == a)
        if len(members) and carried_t[a] != 0.0:
            alloc[members[0], first] += carried_t[a]
            full[members[0], first] += carried_t[a]
    qty = np.where(inside[md.col_period], md.col_qty_t, 0.0)
    fields = {f.name: getattr(md, f.name) for f in dataclasses.fields(ModelData)}
    fields.update(
        alloc_t=alloc,
        alloc_full_t=full,
        col_qty_t=qty,
        rule_data=_window_rule_data(md, inside[md.year_period]),
        window_caps_t=caps,
    )
    return WindowData(**fields)


#: where each entry of a rule's concept lies: (a key naming the entry, its period); entries with
#: the same key in a window and in the scenario are the same variable or row
Keys = dict[str, list[tuple[Hashable, int]]]


def _rule_keys(md: ModelData) -> Keys:
    """The entries of every active rule's concepts with their periods (the rules'
    ``period_keys`` hooks)."""
    out: Keys = {}
    for rule in RULES:
        if rule.active(md.scenario) and supported(rule):
            out.update(getattr(rule, "period_keys")(md))  # noqa: B009  (an optional hook)
    return out


class _Kept:
    """The kept entries of the rules' concepts, gathered window by window."""

    def __init__(self, md: ModelData):
        self.keys = _rule_keys(md)
        self.pos = {c: {key: i for i, (key, _) in enumerate(entries)} for c, entries in self.keys.items()}
        self.values: dict[str, np.ndarray] = {}
        self.duals: dict[str, np.ndarray] = {}

    def keep(self, mdw: ModelData, sr: SolveResult, p: int) -> None:
        wkeys = _rule_keys(mdw)
        for store, source in ((self.values, sr.values), (self.duals, sr.duals)):
            for concept, arr in source.items():
                if concept not in self.keys:
                    continue
                arr = np.asarray(arr, dtype=float)
                out = store.setdefault(concept, np.zeros(len(self.keys[concept])))
                for (key, per), v in zip(wkeys[concept], arr):
                    if per == p:
                        out[self.pos[concept][key]] = v


def _objective(md: ModelData, sr: SolveResult, price_pv: np.ndarray) -> float:
    """Abatement cost plus every rule's items of the cost account that the objective holds."""
    w = md.discount[md.col_year] * md.col_cost
    total = float((w * sr.values[ABATEMENT]).sum())
    coords = {
        "entity": np.asarray(md.entities).astype(str),
        "market": np.array(md.markets, dtype=str),
        "year": np.array(md.years, dtype=np.int64),
        "period": np.array(md.periods, dtype=str),
    }
    ctx = ReportContext(md, sr, coords, price_pv)
    for rule in RULES:
        if not rule.active(md.scenario):
            continue
        rep = rule.report(ctx)
        for item in rule.ACCOUNT:
            if item.in_objective and item.key in rep.account_pv:
                total += item.sign * float(np.sum(rep.account_pv[item.key]))
    return total


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
    net = np.zeros((n_e, n_p))
    bank = np.zeros((n_m, n_p))
    price = np.zeros((n_m, n_p))
    low = np.zeros((n_m, n_p))
    high = np.zeros((n_m, n_p))
    entity_dual = np.zeros((n_e, n_p))
    expire_pairs = md.expire_index()
    expire = np.zeros(len(expire_pairs))
    carried = np.zeros(n_m)
    kept = _Kept(md)
    t0 = time.perf_counter()
    solve_s = 0.0
    for p in range(n_p):
        mdw = window(md, p, k, carried)
        if check is not None:  # on the window's pool: the carried bank and the emptied periods' BAU count
            check(ModelData(**{f.name: getattr(mdw, f.name) for f in dataclasses.fields(ModelData)}))
        sr = engine.solve(mdw, on_phase=on_phase if p == 0 else None)
        solve_s += sr.timings.get("solve", sr.solve_time_s)
        cols = col_period == p
        abate[cols] = sr.values[ABATEMENT][cols]
        # the window's first entity of each market holds the carried bank as free allocation
        net[:, p] = np.asarray(sr.values[NET_PURCHASE], dtype=float).reshape(n_e, n_p)[:, p]
        for a in range(n_m):
            members = np.flatnonzero(md.entity_market == a)
            if len(members):
                net[members[0], p] += carried[a]
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
        kept.keep(mdw, sr, p)
    elapsed = time.perf_counter() - t0
    out = SolveResult(
        status=Status.OPTIMAL,
        detail=f"rolling horizon of {k} period{'s' if k != 1 else ''}: {n_p} windows solved",
        objective_jpy=0.0,
        solve_time_s=elapsed,
        values={ABATEMENT: abate, NET_PURCHASE: net.ravel(), BANK: bank.ravel(), EXPIRED: expire, **kept.values},
        duals={MARKET_BALANCE: price.ravel(), ENTITY_COMPLIANCE: entity_dual.ravel(), **kept.duals},
        dual_low={MARKET_BALANCE: low.ravel()},
        dual_high={MARKET_BALANCE: high.ravel()},
        timings={"build": max(0.0, elapsed - solve_s), "solve": solve_s},
        info={"engine": engine.name, "foresight_horizon_periods": k, "windows": n_p},
        engine=engine.name,
    )
    out.objective_jpy = _objective(md, out, low)
    return out
