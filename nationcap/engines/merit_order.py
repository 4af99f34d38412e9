r"""An exact fast engine: the least-cost solution of the core LP without building it.

:class:`MeritOrderEngine` returns the same :class:`~nationcap.engines.base.SolveResult` as the
Pyomo engine (values ``abatement``, ``net_purchase``, ``bank``, ``expired`` in t; duals
``market_balance`` and ``entity_compliance`` in JPY/t, present value), so
:func:`nationcap.results.build.build_results` turns either into the same results. The Pyomo
engine stays the default and the reference.

Why it is exact
    The LP of :mod:`nationcap.model` separates by market. For a market with period
    requirements ``R[p] = BAU - cap`` (t) and abatement columns *j* with present-value cost
    ``w[j] = discount[year(j)] * cost[j]`` and size ``q[j]``, take the PV prices ``lam[p]`` as the
    duals of market clearing. Every entity row has the market's dual (``NetPurchase`` is free),
    so a column is used fully if ``w < lam``, not at all if ``w > lam``, and partly at ``w = lam``.
    The bank bounds of :func:`nationcap.model.data.bank_bounds` decide how periods interact
    (reduced cost of ``Bank[p]`` is ``lam[p] - lam[p+1]``; of ``Expire[p]`` it is ``lam[p]``):

    ============================  ==============================  ================================
    banking / borrowing            primal constraints              prices
    ============================  ==============================  ================================
    on / off (Tokyo)               every prefix of periods:        non-increasing, >= 0; constant
                                   abatement >= requirement        while the bank is positive
    on / on                        whole horizon only              one price for all periods
    off / off                      each period on its own          independent, surplus expires
    off / on                       every suffix of periods         non-decreasing, >= 0
    ============================  ==============================  ================================

    The dual is ``max sum_p g_p(lam[p])`` with the concave ``g_p(l) = l * R[p] - sum_{j in p}
    q[j] * max(0, l - w[j])`` under the chain constraints in the table, i.e. a separable concave
    maximisation over a chain, which the pool-adjacent-violators algorithm (PAVA) solves exactly.
    A pooled block's price is a merit-order clearing: sort the block's columns by ``w``, take the
    cumulative sum of ``q`` and ``searchsorted`` the block's requirement. These pooled blocks are
    "banking blocks" (a block runs while the bank is positive and the PV price is constant; the
    price can fall only where the bank hits zero); PAVA merges the blocks without having to
    resolve ties between candidate horizons by hand.

Primal recovery
    Columns strictly cheaper than their period's price are used fully, dearer ones not at all.
    In each group of consecutive periods with one price, the columns at exactly that price take
    the remainder of the group's requirement, filled in time order (earliest period first, for
    "off / on" latest first) so that every intermediate bank respects its bound; the first
    columns in (entity, year, step) order are filled completely and at most one is partly used,
    as at an LP vertex. With price 0 only what the bounds force is taken from zero-cost columns.
    ``NetPurchase[i, p] = sum_{y in p} BAU - alloc - abatement``; the bank is the cumulative
    balance; without banking a surplus that cannot repay earlier borrowing expires.

Non-unique answers
    When a requirement lands exactly on the boundary between two steps, every price between the
    two PV costs clears the market. This engine's dual is the *smallest* clearing price (for each
    period, the least optimal dual; it is therefore weakly increasing in every requirement).
    HiGHS may find another point of the interval. Such periods are counted in
    ``info["boundary_periods"]``. The whole interval is reported as ``dual_low`` / ``dual_high``
    (:func:`_price_interval`: the merit order cleared again with each period's requirement a
    sliver smaller and larger; ``info["nonunique_prices"]`` counts the periods where they
    differ). Tied columns (same PV cost, e.g. one step in every year of a
    period when the discount rate is 0) can share the marginal tonnes in many ways at equal
    cost; prices, total cost and every non-tied column are unique.

Monte Carlo draws
    An engine given ``cost_groups`` (:class:`MeritOrderEngine`; the session does this for a
    Monte Carlo batch) sorts each market's columns once into runs by (cost group, market, year,
    PV cost) (:class:`_Runs`). A draw multiplies each group's costs by one factor, which keeps
    every run sorted to the last bit, so a draw is cleared without a sort
    (:class:`_DrawMarket`): a block's price is searched on pivots taken every
    ``SAMPLE_STRIDE`` columns of each run, and only the few columns between the two pivots that
    bracket the requirement are sorted. The answer is the same column cost as with a full sort;
    the primal is recovered in column order with the same tie rule. Only the order in which
    quantities are added differs (rounding, about 1e-16 of the market's size).

Full link
    With ``[link] mode = "full"``, ``direction = "both"`` and the same banking / borrowing rules
    in both markets, the two markets are one market in national-allowance units: a regional step
    of q t at PV cost w frees q / ratio national allowances at w * ratio each, and the regional
    requirement counts R / ratio. The pooled price is the national price, the regional price is
    that / ratio. The split of the pooled bank between the markets is not unique; this engine
    keeps it in the national market and moves each period's regional surplus (or deficit) over
    the link.

Scope
    Caps from compliance factors (with top-level multipliers, base-year rules and benchmark
    allocation, which only change allocations; ``trading_from_year``, which cannot bind), either
    emissions basis (it only changes BAU, base emissions and step quantities), banking and borrowing in any
    combination, unlinked or fully linked markets. Any other market or scenario setting with a
    non-default value (offsets, shortfall, price floor/ceiling, auctions, limited or one-way
    links, ... and whatever is added later) is refused by :meth:`MeritOrderEngine.supports`,
    with an :class:`~nationcap.engines.base.UnsupportedError` (an
    :class:`~nationcap.errors.InputError`, exit code 2) naming it, so a new rule can never be
    silently ignored; use the Pyomo engine for those.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
from pydantic import BaseModel

from ..config import Scenario
from ..errors import ModelError
from ..model.data import ModelData
from ..model.registry import (
    ABATEMENT,
    BANK,
    ENTITY_COMPLIANCE,
    EXPIRED,
    MARKET_BALANCE,
    NET_PURCHASE,
)
from .base import Phase, SolveResult, Status
from .feasibility import check_feasible

#: MarketConfig fields this engine implements; any other field must keep its default value
SUPPORTED_MARKET_KEYS = frozenset(
    {
        "banking",
        "borrowing",
        "compliance_factor",
        "top_level_multiplier",
        "base_year",
        "trading_from_year",
        "fine_jpy",
        # these change only the arrays the engine is given (allocations, BAU, step quantities)
        "allocation",
        "emissions_basis",
    }
)
#: Scenario fields this engine implements (or that do not reach the LP). ``solver`` holds the
#: engine choice and HiGHS settings, which this engine does not need.
SUPPORTED_SCENARIO_KEYS = frozenset(
    {"name", "description", "inputs", "discount_rate", "periods", "markets", "solver", "source", "link", "foresight"}
)
SUPPORTED_PERIOD_KEYS = frozenset({"name", "first_year", "last_year"})

#: relative tolerance for "the requirement lands on a step boundary" (t, relative to the
#: requirement); well below HiGHS' feasibility tolerance of 1e-7 Mt = 0.1 t
REL_TOL = 1e-9

#: price intervals: a period's requirement is moved by this many REL_TOL tolerances up and down
INTERVAL_STEPS = 4.0

#: the solver label kept as the SolveResult's detail
DETAIL = "merit order: optimal"


# ------------------------------------------------------------------------------------------
# scope
# ------------------------------------------------------------------------------------------


def _non_default(obj: BaseModel, allowed: frozenset[str]) -> list[tuple[str, Any]]:
    """Fields of ``obj`` outside ``allowed`` whose value differs from the field's default."""
    out = []
    for name, field in type(obj).model_fields.items():
        if name in allowed:
            continue
        value = getattr(obj, name)
        if field.is_required():
            out.append((name, value))
            continue
        if value != field.get_default(call_default_factory=True):
            out.append((name, value))
    return out


def unsupported_features(scn: Scenario) -> list[str]:
    """The scenario settings this engine does not implement, in words (empty: supported).

    The one place where this engine's scope is decided: every scenario, period and market field
    outside the allow-lists above must keep its default value, so a rule added later is refused
    by name until this engine implements it.
    """
    found = [f"{k} = {v!r}" for k, v in _non_default(scn, SUPPORTED_SCENARIO_KEYS)]
    for i, per in enumerate(scn.periods):
        found += [f"periods.{i}.{k} = {v!r}" for k, v in _non_default(per, SUPPORTED_PERIOD_KEYS)]
    for m, cfg in scn.markets.items():
        found += [f"markets.{m}.{k} = {v!r}" for k, v in _non_default(cfg, SUPPORTED_MARKET_KEYS)]
    link = scn.link
    if link.mode == "limited" or (link.mode == "full" and link.direction != "both"):
        found.append(f"link.mode = {link.mode!r}, direction = {link.direction!r} (only a full two-way link)")
    elif link.mode == "full":
        a, b = (scn.markets.get(x) for x in link.markets)
        if a is not None and b is not None and (a.banking, a.borrowing) != (b.banking, b.borrowing):
            found.append("link.mode = 'full' between markets with different banking / borrowing rules")
    return found


def core_view(md: ModelData) -> ModelData:
    """``md`` with every setting this engine does not implement switched off (a full two-way
    link kept where the two markets' bank rules match), and the auctioned allowances back in the
    free allocation: the core problem, whose prices estimate those of ``md``."""
    scn = md.scenario
    markets = {}
    for name, cfg in scn.markets.items():
        defaults = {
            k: f.get_default(call_default_factory=True)
            for k, f in type(cfg).model_fields.items()
            if k not in SUPPORTED_MARKET_KEYS
        }
        markets[name] = cfg.model_copy(update=defaults)
    update: dict[str, Any] = {"markets": markets}
    for key in ("overlap",):
        update[key] = type(getattr(scn, key))()
    core = scn.model_copy(update=update)
    if unsupported_features(core):  # e.g. a limited or one-way link
        core = core.model_copy(update={"link": type(scn.link)()})
    return dataclasses.replace(
        md, scenario=core, alloc_t=md.alloc_full_t if md.alloc_full_t is not None else md.alloc_t
    )


# ------------------------------------------------------------------------------------------
# one market
# ------------------------------------------------------------------------------------------


class _Layout:
    """Where a market's columns are and their order by PV cost (reused between solves)."""

    def __init__(self, cols: np.ndarray | slice, w: np.ndarray, per: np.ndarray):
        self.cols = cols
        self.order = np.argsort(w)
        self.w = w[self.order]
        self.per = per[self.order].astype(np.int32)


@dataclasses.dataclass
class _DrawLayout:
    """Where a market's columns are (a slice when contiguous) and, after the first solve of an
    engine with cost groups, its presorted runs."""

    cols: np.ndarray | slice
    idx: np.ndarray
    runs: _Runs | None = None


class _Market:
    """The columns of one market sorted by PV cost, with per-period requirements."""

    def __init__(
        self,
        lay: _Layout,
        q: np.ndarray,
        req: np.ndarray,
        held: tuple[np.ndarray, float, dict[tuple[int, ...], np.ndarray]] | None = None,
    ):
        """``q``: the columns' sizes in ``lay``'s column order; ``held``: (sorted sizes, their
        sum, cumulative sums by block) of an earlier market on the same layout and sizes, reused
        (a variant that changes only requirements: caps, compliance factors)."""
        self.order = lay.order
        self.w = lay.w
        self.per = lay.per
        if held is None:
            self.q = q[lay.order]
            self.q_sum = float(self.q.sum())
            self._cum: dict[tuple[int, ...], np.ndarray] = {}
        else:
            self.q, self.q_sum, self._cum = held
        self.req = np.asarray(req, dtype=float)
        n_p = len(req)
        self.n_p = n_p
        self.scale = max(1.0, float(np.abs(self.req).max(initial=0.0)), self.q_sum)
        self.tol = REL_TOL * self.scale

    def held(self) -> tuple[np.ndarray, float, dict[tuple[int, ...], np.ndarray]]:
        """What a market on the same layout and sizes may reuse (see ``held`` of ``__init__``)."""
        return self.q, self.q_sum, self._cum

    def cumulative(self, periods: list[int]) -> np.ndarray:
        """Cumulative quantity, in PV-cost order, of the columns of ``periods``."""
        key = tuple(sorted(periods))
        if key not in self._cum:
            if len(key) == self.n_p:
                qs = self.q
            else:
                inside = np.zeros(self.n_p)
                inside[list(key)] = 1.0
                qs = self.q * inside[self.per]
            self._cum[key] = np.cumsum(qs)
        return self._cum[key]

    def clearing_price(self, periods: list[int]) -> tuple[float, bool]:
        """Smallest PV price >= 0 at which the block's columns cover its requirement.

        Returns (price, on_boundary); price is +inf if even every column is not enough.
        """
        need = float(self.req[periods].sum())
        cum = self.cumulative(periods)
        if need - self.tol <= 0.0:
            lam = 0.0
        else:
            k = int(np.searchsorted(cum, need - self.tol, side="left"))
            if k >= len(cum):
                return np.inf, False
            lam = max(0.0, float(self.w[k]))
        # on a boundary: the columns at or below lam, all used, cover the requirement exactly
        k_closed = int(np.searchsorted(self.w, lam, side="right"))
        closed = float(cum[k_closed - 1]) if k_closed > 0 else 0.0
        return lam, abs(closed - need) <= self.tol


#: presorted runs: every SAMPLE_STRIDE-th column of each run is a pivot of the clearing search
SAMPLE_STRIDE = 1024


class _Runs:
    """Columns (of one market, or a linked pair's pooled columns) presorted once by (cost group,
    market, year, PV cost): each (group, market, year) is a *run*. A Monte Carlo draw multiplies
    every step cost of a group by one factor ``k >= 0`` (:func:`nationcap.model.prepare.perturb`),
    and a run's PV costs ``discount[year] * (cost * k)`` (x the link ratio when pooled) keep
    their order to the last bit, since rounding is monotone and the run shares one discount
    factor and one ratio; a draw is then cleared on the runs (:class:`_DrawMarket`) without
    sorting its columns. (Runs by period instead of year could swap two columns of different
    years whose PV costs tie.)

    ``cols``: the columns (global positions, in market order); ``factor``: pooled units per t of
    each (None: 1); ``part``: which market of the pool each column is in; ``groups``: cost group
    of every column; ``w``, ``per``, ``year``: PV cost, period and year of every column.
    """

    def __init__(
        self,
        cols: np.ndarray,
        factor: np.ndarray | None,
        part: np.ndarray,
        groups: np.ndarray,
        w: np.ndarray,
        per: np.ndarray,
        year: np.ndarray,
    ):
        wc = w[cols] if factor is None else w[cols] * factor
        gc, yc = groups[cols], year[cols]
        order = np.lexsort((wc, yc, part, gc))
        self.n = len(cols)
        #: global column of each presorted position, its t per pooled unit, its run
        self.glob = cols[order]
        self.loc = order
        self.fac = None if factor is None else factor[order]
        new_run = np.zeros(self.n, dtype=bool)
        new_run[:1] = True
        for k in (gc, part, yc):
            ko = k[order]
            new_run[1:] |= ko[1:] != ko[:-1]
        self.starts = np.flatnonzero(new_run)
        self.ends = np.append(self.starts[1:], self.n)
        self.run_period = per[self.glob[self.starts]].astype(np.int64)
        #: adjacent positions inside one run (where a draw's costs must not decrease)
        self.inner = ~new_run[1:]
        self.run_id = np.cumsum(new_run) - 1
        samples = [np.append(np.arange(a, b, SAMPLE_STRIDE), b - 1) for a, b in zip(self.starts, self.ends)]
        self.samples = np.concatenate(samples) if samples else np.zeros(0, dtype=np.int64)
        #: scratch arrays of a solve (cost, quantity, cumulative quantity, order check), reused:
        #: fresh large arrays cost page faults on every solve
        self.scratch = (
            np.empty(self.n),
            np.empty(self.n),
            np.empty(self.n + 1),
            np.empty(max(self.n - 1, 0), dtype=bool),
        )


class _DrawMarket:
    """One market (or a linked pair) of one solve, cleared on its presorted runs (:class:`_Runs`).

    The least clearing price of a block of periods is the smallest PV cost ``v`` of the block's
    columns at which the columns costing ``<= v`` cover the requirement. The pivots (every
    ``SAMPLE_STRIDE``-th column of each run, and each run's last) are sorted, and the block's
    cumulative quantity at each pivot is the sum over its runs of a ``searchsorted``; between
    the last pivot short of the requirement and the first one reaching it, each run has fewer
    than ``SAMPLE_STRIDE`` columns (ties aside), and only those are sorted. The answer is the
    same column cost as a merit order sorted in full (the same ``searchsorted`` on a cumulative
    sum); only the order in which the quantities are added differs (rounding, 1e-16 relative).
    """

    def __init__(self, runs: _Runs, w: np.ndarray, q: np.ndarray, req: np.ndarray):
        ws, qs, cum, down = runs.scratch  # (only this solve uses them)
        glob, fac, loc = runs.glob, runs.fac, runs.loc
        np.take(w, glob, out=ws)
        if fac is not None:
            np.multiply(ws, fac, out=ws)
        np.less(ws[1:], ws[:-1], out=down)
        np.logical_and(down, runs.inner, out=down)
        if down.any():  # costs not scaled by group (not a draw): sort each run
            o = np.lexsort((ws, runs.run_id))
            ws, glob, loc = ws[o], glob[o], loc[o]
            fac = None if fac is None else fac[o]
        self.runs = runs
        self.ws = ws
        #: position of each sorted column among the market's (or the pool's) columns
        self.loc = loc
        np.take(q, glob, out=qs)
        if fac is not None:
            np.divide(qs, fac, out=qs)
        self.qs = qs
        self.req = np.asarray(req, dtype=float)
        self.n_p = len(req)
        cum[0] = 0.0
        np.cumsum(qs, out=cum[1:])
        self.cum = cum
        self.scale = max(1.0, float(np.abs(self.req).max(initial=0.0)), float(cum[-1]))
        self.tol = REL_TOL * self.scale
        sv = ws[runs.samples]
        self.pivots = np.sort(sv)
        #: (runs, pivots) position after each run's columns costing at most each pivot, and the
        #: run's quantity there
        self.at = np.empty((len(runs.starts), len(self.pivots)), dtype=np.int64)
        for r, (a, b) in enumerate(zip(runs.starts.tolist(), runs.ends.tolist())):
            self.at[r] = ws[a:b].searchsorted(self.pivots, side="right")
            self.at[r] += a
        self.cum_at = cum[self.at] - cum[runs.starts][:, None]
        self._block: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._windows: dict[tuple[tuple[int, ...], int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _runs_of(self, key: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(runs of the block's periods, cumulative quantity of the block at each pivot)."""
        if key not in self._block:
            mine = np.flatnonzero(np.isin(self.runs.run_period, key))
            self._block[key] = (mine, self.cum_at[mine].sum(axis=0))
        return self._block[key]

    def _window(self, key: tuple[int, ...], i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The block's columns costing more than pivot ``i - 1`` and at most pivot ``i``, sorted
        by cost: (cost, cumulative quantity of the block up to each, sorted positions)."""
        got = self._windows.get((key, i))
        if got is None:
            mine, at_pivot = self._runs_of(key)
            lo = self.at[mine, i - 1] if i > 0 else self.runs.starts[mine]
            hi = self.at[mine, i]
            lens = hi - lo  # the positions lo[r] .. hi[r] - 1 of each run, one after the other
            idx = np.arange(int(lens.sum())) + np.repeat(lo - (np.cumsum(lens) - lens), lens)
            idx = idx[np.argsort(self.ws[idx], kind="stable")]
            base = float(at_pivot[i - 1]) if i > 0 else 0.0
            got = (self.ws[idx], base + np.cumsum(self.qs[idx]), idx)
            self._windows[(key, i)] = got
        return got

    def _upto(self, key: tuple[int, ...], v: float) -> float:
        """Quantity of the block's columns costing ``<= v``."""
        _, at_pivot = self._runs_of(key)
        i = int(self.pivots.searchsorted(v, side="left"))  # pivot i - 1 < v <= pivot i
        if i >= len(self.pivots):  # the last pivot is the dearest column
            return float(at_pivot[-1]) if len(at_pivot) else 0.0
        wv, cv, _ = self._window(key, i)
        k = int(wv.searchsorted(v, side="right"))
        if k > 0:
            return float(cv[k - 1])
        return float(at_pivot[i - 1]) if i > 0 else 0.0

    def at_price(self, price: np.ndarray) -> Any:
        """A function giving the columns that cost exactly ``lam`` in the periods whose price is
        ``lam``, as positions among the market's columns, in column order."""

        def at_price(lam: float) -> np.ndarray:
            found = [np.zeros(0, dtype=np.int64)]
            i = int(self.pivots.searchsorted(lam, side="left"))  # pivot i - 1 < lam <= pivot i
            for p in range(self.n_p):
                if price[p] != lam or i >= len(self.pivots):
                    continue
                wv, _, idx = self._window((p,), i)
                found.append(self.loc[idx[wv.searchsorted(lam, side="left") : wv.searchsorted(lam, side="right")]])
            return np.sort(np.concatenate(found))

        return at_price

    def clearing_price(self, periods: list[int]) -> tuple[float, bool]:
        """Smallest PV price >= 0 at which the block's columns cover its requirement (as
        :meth:`_Market.clearing_price`). Returns (price, on_boundary); +inf if infeasible."""
        need = float(self.req[periods].sum())
        key = tuple(sorted(periods))
        _, at_pivot = self._runs_of(key)
        if need - self.tol <= 0.0:
            return 0.0, abs(self._upto(key, 0.0) - need) <= self.tol
        target = need - self.tol
        i = int(at_pivot.searchsorted(target, side="left"))
        if i >= len(at_pivot):
            return np.inf, False
        wv, cv, _ = self._window(key, i)
        k = min(int(cv.searchsorted(target, side="left")), len(cv) - 1)
        lam = max(0.0, float(wv[k]))
        if lam == wv[k]:
            closed = float(cv[int(wv.searchsorted(lam, side="right")) - 1])
        else:  # the column is below 0: price 0
            closed = self._upto(key, lam)
        return lam, abs(closed - need) <= self.tol


def _pava(mk: _Market | _DrawMarket, order: list[int]) -> list[tuple[list[int], float, bool]]:
    """Blocks of periods (in ``order``) with non-increasing prices along ``order``."""
    blocks: list[list] = []
    for p in order:
        lam, bnd = mk.clearing_price([p])
        blocks.append([[p], lam, bnd])
        while len(blocks) > 1 and blocks[-2][1] < blocks[-1][1]:
            top = blocks.pop()
            prev = blocks[-1]
            prev[0] = prev[0] + top[0]
            prev[1], prev[2] = mk.clearing_price(prev[0])
    return [(b[0], b[1], b[2]) for b in blocks]


def _solve_market(
    mk: _Market, banking: bool, borrowing: bool, prices_only: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """PV price per period, abatement per sorted column, which periods' prices sit on a step
    boundary (not unique), and the blocks that cannot be met (empty if feasible); with
    ``prices_only`` the abatement and the boundary flags are not computed (empty arrays)."""
    price, boundary, bad, blocks = _blocks(mk, banking, borrowing)
    if prices_only:
        return price, np.zeros(0), boundary, bad
    if bad:
        return price, np.zeros(len(mk.w)), boundary, bad
    x = np.where(mk.w < price[mk.per], mk.q, 0.0)
    _fill_ties(x, mk.w, mk.per, mk.q, mk.order, mk.req, mk.tol, price, boundary, blocks, banking, borrowing)
    return price, x, boundary, []


def _blocks(
    mk: _Market | _DrawMarket, banking: bool, borrowing: bool
) -> tuple[np.ndarray, np.ndarray, list, list[tuple[list[int], float, bool]]]:
    """PV price per period, which periods' block prices sit on a step boundary, the blocks that
    cannot be met, and the blocks (periods, price, on boundary) of the bank rule."""
    n_p = mk.n_p
    fwd = list(range(n_p))
    if banking and borrowing:  # Bank free before the last period: one budget
        blocks = [(fwd, *mk.clearing_price(fwd))]
    elif banking:  # Bank >= 0: prefix constraints, prices non-increasing
        blocks = _pava(mk, fwd)
    elif borrowing:  # Bank <= 0, last = 0, Expire >= 0: suffix constraints, non-decreasing
        blocks = _pava(mk, fwd[::-1])
    else:  # Bank = 0, Expire >= 0: periods on their own
        blocks = [([p], *mk.clearing_price([p])) for p in fwd]
    price = np.zeros(n_p)
    boundary = np.zeros(n_p, dtype=bool)
    for periods, lam, bnd in blocks:
        price[periods] = lam
        boundary[periods] |= bnd
    bad = [b[0] for b in blocks if not np.isfinite(b[1])]
    return price, boundary, bad, blocks


def _fill_ties(
    x: np.ndarray,
    w: np.ndarray,
    per: np.ndarray,
    q: np.ndarray,
    order: np.ndarray | None,
    req: np.ndarray,
    tol: float,
    price: np.ndarray,
    boundary: np.ndarray,
    blocks: list[tuple[list[int], float, bool]],
    banking: bool,
    borrowing: bool,
    at_price: Any = None,
) -> np.ndarray:
    """Fill ``x`` (the columns strictly below their period's price already used fully) with the
    columns at exactly their group's price, flag the periods whose price is not unique in
    ``boundary`` and return the abatement of each period. The columns may be in any order:
    ``order`` gives each one's position in the market's column order (None: they are in that
    order), which decides, after the period, which tied column is filled first.
    ``at_price(lam)``: the columns (in column order) costing exactly ``lam`` in the periods of
    that price, if known (else found in ``w``)."""
    n_p = len(req)
    chain = banking != borrowing
    # groups: consecutive blocks with the same price share their marginal columns
    groups: list[tuple[list[int], float]] = []
    for periods, lam, _ in blocks:
        if groups and groups[-1][1] == lam and (banking or borrowing):
            groups[-1] = (groups[-1][0] + list(periods), lam)
        else:
            groups.append((list(periods), lam))

    strict = np.bincount(per, weights=x, minlength=n_p)
    used = strict.copy()
    for periods, lam in groups:
        # columns at exactly the group's price, in the group's time order, then column order
        rank = np.full(n_p, -1)
        rank[periods] = np.arange(len(periods))
        if at_price is not None:
            idx = at_price(lam)
        elif order is None:  # columns in market order: a mask
            idx = np.flatnonzero(w == lam)
        else:  # sorted by PV cost: a range
            idx = np.arange(int(np.searchsorted(w, lam, side="left")), int(np.searchsorted(w, lam, side="right")))
        idx = idx[rank[per[idx]] >= 0]
        tied = np.bincount(rank[per[idx]], weights=q[idx], minlength=len(periods))
        s_req = np.cumsum(req[periods])
        s_strict = np.cumsum(strict[periods])
        if chain:
            # the price of a leading part of the group could be higher if, with its tied
            # columns all used, it exactly meets its requirement (the bank there can be 0);
            # the price of a trailing part could be lower if it is met without its tied columns
            closed = s_strict + np.cumsum(tied)
            tail_req = s_req[-1] - s_req[:-1]
            tail_strict = s_strict[-1] - s_strict[:-1]
            up = np.abs(closed - s_req) <= tol
            down = np.abs(tail_strict - tail_req) <= tol
            for e in np.flatnonzero(up):
                boundary[periods[: e + 1]] = True
            for e in np.flatnonzero(down):
                boundary[periods[e + 1 :]] = True
        else:
            boundary[periods] |= abs(s_strict[-1] + tied.sum() - s_req[-1]) <= tol
        # requirement left after the strictly cheaper columns, for each prefix of the group
        rest = s_req - s_strict
        if lam > 0.0 or not chain:
            budget = float(rest[-1])
        else:  # price 0 with a bank bound: take only what the prefixes need
            budget = float(rest.max())
        if budget <= tol or len(idx) == 0:
            continue
        if order is None:  # idx is in column order already
            idx = idx[np.argsort(rank[per[idx]], kind="stable")]
        else:
            idx = idx[np.lexsort((order[idx], rank[per[idx]]))]
        qs = q[idx]
        before = np.cumsum(qs) - qs
        x[idx] = np.clip(budget - before, 0.0, qs)
        used += np.bincount(per[idx], weights=x[idx], minlength=n_p)
    return used


# ------------------------------------------------------------------------------------------
# the engine
# ------------------------------------------------------------------------------------------


class MeritOrderEngine:
    """The exact merit-order engine, with a memory: re-solves reuse each market's cost order.

    Sorting the columns by PV cost is the largest single cost. When only requirements and step
    sizes change between solves (caps, BAU, compliance factors: a sweep or a Monte Carlo draw
    of BAU), the order is unchanged and is reused; a change of the PV costs (discount rate,
    step costs), of the columns' periods or of their markets sorts again. Results are identical
    either way. The arrays of a :class:`ModelData` are taken to be immutable: make a changed
    copy with ``dataclasses.replace(md, alloc_t=...)`` rather than editing an array in place.
    """

    _STRUCTURE = ("col_cost", "discount", "col_year", "col_entity", "year_period", "entity_market")
    #: what the presorted runs of a Monte Carlo engine depend on (not the costs: a draw scales them)
    _DRAW_STRUCTURE = ("discount", "col_year", "col_entity", "year_period", "entity_market")

    name = "fast"

    def __init__(self, log_file: str | None = None, cost_groups: np.ndarray | None = None) -> None:  # noqa: ARG002
        """``cost_groups`` (optional, per abatement column): groups whose costs change between
        solves only by one common factor ``k >= 0`` each, as a Monte Carlo draw of MAC costs by
        sector does (:func:`nationcap.model.prepare.perturb`). The first solve then sorts, per
        market (and a full link's pooled columns), the columns once into runs by (group,
        market, year, PV cost) (:class:`_Runs`), and every later solve clears on those runs
        without sorting its columns (:class:`_DrawMarket`): the same prices and price intervals
        as a full sort, quantities equal to rounding (1e-16 of the market's size), tied columns
        filled in the same order. Costs that do not keep the runs sorted are found out and each
        run sorted again, so any model data is solved exactly."""
        self._arrays: tuple[np.ndarray, ...] = ()
        self._derived: tuple[np.ndarray, ...] = ()
        self._layouts: list[_Layout] = []
        self._cost_groups = cost_groups
        #: bumped whenever the market layouts are sorted again (the pooled layout follows them)
        self._generation = 0
        #: a full link's pooled layout: ((generation, markets, ratio), layout)
        self._pooled: tuple[tuple, _Layout] | None = None
        #: with cost groups: (PV discount, period and row of each column, layouts, groups)
        self._draw: tuple[np.ndarray, np.ndarray, np.ndarray, list[_DrawLayout], np.ndarray] | None = None
        #: and a full link's pooled runs: ((markets, ratio), columns, t per pooled unit, runs)
        self._pooled_runs: tuple[tuple, np.ndarray, np.ndarray, _Runs] | None = None
        self._buffers: dict[str, np.ndarray] = {}
        #: per market (index, or "pooled"): (layout, sizes array, ratio, what _Market.held gives)
        #: of the last solve; reused while the layout and the model data's sizes array are the same
        #: objects (arrays of a ModelData are immutable), so a variant that changes only
        #: requirements neither gathers the sizes again nor recomputes their cumulative sums
        self._held_markets: dict[Any, tuple[Any, np.ndarray, float, tuple]] = {}

    def _structure(self, md: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[_Layout]]:
        """(PV cost, period and row of each column, market layouts), reused when unchanged."""
        arrays = tuple(getattr(md, k) for k in self._STRUCTURE)
        if self._arrays and all(a is b for a, b in zip(arrays, self._arrays)):
            w, col_period, _, row = self._derived
            return w, col_period, row, self._layouts
        n_m, n_p = len(md.markets), len(md.periods)
        w = md.discount[md.col_year] * md.col_cost  # PV cost, JPY/t (as in the Pyomo objective)
        col_period = md.year_period[md.col_year]
        col_market = md.entity_market[md.col_entity]
        row = md.col_entity * n_p + col_period
        old = self._derived
        same = (
            len(old) == 4
            and len(self._layouts) == n_m
            and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip((w, col_period, col_market), old[:3]))
        )
        if not same:  # new costs or columns: sort again
            self._generation += 1
            layouts = []
            for a in range(n_m):
                idx = np.flatnonzero(col_market == a)
                # entities are usually grouped by market: a slice avoids copies
                cols = slice(int(idx[0]), int(idx[-1]) + 1) if len(idx) and idx[-1] - idx[0] + 1 == len(idx) else idx
                layouts.append(_Layout(cols, w[cols], col_period[cols]))
            self._layouts = layouts
        self._arrays = arrays
        self._derived = (w, col_period, col_market, row)
        return w, col_period, row, self._layouts

    def _market(
        self,
        key: Any,
        lay: _Layout,
        sizes: np.ndarray,
        ratio: float,
        req: np.ndarray,
        cols: np.ndarray | slice,
        factor: np.ndarray | None = None,
    ) -> _Market:
        """The :class:`_Market` of ``lay`` with requirements ``req`` and the sizes ``sizes[cols]``
        (divided by ``factor``, t per pooled unit, when given); the sorted sizes and their
        cumulative sums of the last solve of ``key`` are reused while ``lay``, ``sizes`` (the
        model data's array, the same object) and ``ratio`` are the same."""
        last = self._held_markets.get(key)
        if last is not None and last[0] is lay and last[1] is sizes and last[2] == ratio:
            return _Market(lay, sizes, req, held=last[3])
        mk = _Market(lay, sizes[cols] if factor is None else sizes[cols] / factor, req)
        self._held_markets[key] = (lay, sizes, ratio, mk.held())
        return mk

    def supports(self, md: ModelData) -> list[str]:
        return unsupported_features(md.scenario)

    def solve(self, md: ModelData, on_phase: Phase | None = None) -> SolveResult:
        """Solve the core LP of ``md`` exactly (see the module docstring); ``md`` must be one that
        :meth:`supports` accepts (the session checks it once per variant)."""
        if on_phase is not None:
            on_phase("solve")
        t0 = time.perf_counter()
        n_m, n_p, n_e = len(md.markets), len(md.periods), md.n_entities
        draws = self._cost_groups is not None
        layouts: list[Any]
        if draws:  # presorted runs, no sort per solve
            w, col_period, row, layouts = self._draw_structure(md)
        else:
            w, col_period, row, layouts = self._structure(md)
        need = np.zeros((n_e, n_p))  # sum_{y in p} BAU - allocation, t
        for p in range(n_p):
            need[:, p] = md.bau_t[:, md.period_years(p)].sum(axis=1) - md.alloc_t[:, p]
        req = np.zeros((n_m, n_p))
        np.add.at(req, md.entity_market, need)

        abate = np.zeros(len(w))
        price = np.zeros((n_m, n_p))
        bank = np.zeros((n_m, n_p))
        expire_mp = np.zeros((n_m, n_p))
        boundary = np.zeros((n_m, n_p), dtype=bool)
        low = np.zeros((n_m, n_p))
        high = np.zeros((n_m, n_p))
        problems: list[str] = []
        link_values: dict[str, np.ndarray] = {}
        linked: tuple[int, ...] | None = None
        if md.scenario.link.mode == "full":
            linked = tuple(md.markets.index(x) for x in md.scenario.link.markets)
            link_values = self._solve_linked(
                md, w, col_period, layouts, req, linked, abate, price, bank, expire_mp, boundary, problems, low, high
            )
        for a, lay in enumerate(layouts):
            if linked and a in linked:
                continue
            name = md.markets[a]
            cfg = md.scenario.markets[name]
            if isinstance(lay, _DrawLayout):
                lam, nb, bad, used, mk_tol = self._solve_runs(
                    md, w, col_period, lay, req[a], cfg.banking, cfg.borrowing, abate, low[a], high[a]
                )
                problems += _unmet(md, name, bad)
                boundary[a] = nb
                price[a] = lam
                bank[a], expire_mp[a] = _bank(used - req[a], cfg.banking, cfg.borrowing, mk_tol)
                continue
            assert isinstance(lay, _Layout)
            mk = self._market(a, lay, md.col_qty_t, 1.0, req[a], lay.cols)
            lam, x_sorted, nb, bad = _solve_market(mk, cfg.banking, cfg.borrowing)
            problems += _unmet(md, name, bad)
            boundary[a] = nb
            price[a] = lam
            if not bad:
                low[a], high[a] = _price_interval(mk, cfg.banking, cfg.borrowing)
            abate[lay.cols][mk.order] = x_sorted  # abate[slice] is a view; index arrays copy
            if not isinstance(lay.cols, slice):
                x = np.empty_like(x_sorted)
                x[mk.order] = x_sorted
                abate[lay.cols] = x
            used = np.bincount(mk.per, weights=x_sorted, minlength=n_p)
            bank[a], expire_mp[a] = _bank(used - req[a], cfg.banking, cfg.borrowing, mk.tol)
        if problems:
            check_feasible(md)  # the model's own diagnosis (market, period, tonnes short)
            raise ModelError("infeasible scenario:\n  - " + "\n  - ".join(problems))

        abate_ep = np.bincount(row, weights=abate, minlength=n_e * n_p)
        net_purchase = need.ravel() - abate_ep
        expire = np.array([expire_mp[a, p] for a, p in md.expire_index()], dtype=float)
        # (np.dot goes through BLAS threads: slower here)
        objective = float(np.multiply(w, abate, out=self._scratch("cost", len(w))).sum())
        elapsed = time.perf_counter() - t0
        return SolveResult(
            status=Status.OPTIMAL,
            detail=DETAIL,
            objective_jpy=objective,
            solve_time_s=elapsed,
            values={
                ABATEMENT: abate,
                NET_PURCHASE: net_purchase,
                BANK: bank.ravel(),
                EXPIRED: expire,
                **link_values,
            },
            duals={MARKET_BALANCE: price.ravel(), ENTITY_COMPLIANCE: price[md.entity_market].ravel()},
            dual_low={MARKET_BALANCE: np.minimum(low, price).ravel()},
            dual_high={MARKET_BALANCE: np.maximum(high, price).ravel()},
            timings={"build": 0.0, "solve": elapsed},
            info={
                "engine": "fast",
                "columns": int(len(w)),
                "boundary_periods": int(boundary.sum()),
                "nonunique_prices": int((high > low).sum()),
                "boundary": [[md.markets[a], md.periods[p]] for a, p in zip(*np.nonzero(boundary))],
            },
            engine="fast",
        )

    def _scratch(self, name: str, n: int, dtype: type = float) -> np.ndarray:
        """A scratch array of a solve, kept for the next (fresh large arrays cost page faults);
        only with cost groups (an engine solving many draws)."""
        if self._cost_groups is None:
            return np.empty(n, dtype=dtype)
        buf = self._buffers.get(name)
        if buf is None or len(buf) != n or buf.dtype != dtype:
            buf = self._buffers[name] = np.empty(n, dtype=dtype)
        return buf

    def _draw_structure(self, md: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[_DrawLayout]]:
        """(PV cost, period and row of each column, per market its columns and presorted runs),
        the runs kept while the columns stay the same (:class:`_Runs`)."""
        arrays = tuple(getattr(md, k) for k in self._DRAW_STRUCTURE)
        if not (self._arrays and all(a is b for a, b in zip(arrays, self._arrays))):
            same = len(self._arrays) == len(arrays) and all(
                a.shape == b.shape and np.array_equal(a, b) for a, b in zip(arrays, self._arrays)
            )
            if not same:
                n_p = len(md.periods)
                col_period = md.year_period[md.col_year]
                col_market = md.entity_market[md.col_entity]
                groups = self._cost_groups
                if groups is None or len(groups) != len(md.col_year):  # a hint for other columns
                    groups = np.zeros(len(md.col_year), dtype=np.int64)
                layouts = []
                for a in range(len(md.markets)):
                    idx = np.flatnonzero(col_market == a)
                    contiguous = len(idx) and idx[-1] - idx[0] + 1 == len(idx)
                    cols = slice(int(idx[0]), int(idx[-1]) + 1) if contiguous else idx
                    layouts.append(_DrawLayout(cols, idx))
                self._draw = (
                    md.discount[md.col_year],
                    col_period,
                    md.col_entity * n_p + col_period,
                    layouts,
                    np.asarray(groups),
                )
                self._pooled_runs = None
            self._arrays = arrays
        assert self._draw is not None
        dcol, col_period, row, layouts, groups = self._draw
        w = np.multiply(
            dcol, md.col_cost, out=self._scratch("w", len(dcol))
        )  # PV cost, JPY/t (as in the Pyomo objective)
        for lay in layouts:
            if lay.runs is None:  # sorted once, by the first solve's costs
                lay.runs = _Runs(
                    lay.idx, None, np.zeros(len(lay.idx), dtype=np.int64), groups, w, col_period, md.col_year
                )
        return w, col_period, row, layouts

    def _solve_runs(
        self,
        md: ModelData,
        w: np.ndarray,
        col_period: np.ndarray,
        lay: _DrawLayout,
        req: np.ndarray,
        banking: bool,
        borrowing: bool,
        abate: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, list, np.ndarray, float]:
        """One market on its presorted runs: (PV price, boundary flags, blocks that cannot be met,
        abatement per period, tolerance); its abatement written into ``abate``, its price
        interval into ``low`` and ``high``."""
        assert lay.runs is not None
        mk = _DrawMarket(lay.runs, w, md.col_qty_t, req)
        price, boundary, bad, blocks = _blocks(mk, banking, borrowing)
        n_p = len(req)
        if bad:
            return price, boundary, bad, np.zeros(n_p), mk.tol
        low[:], high[:] = _price_interval(mk, banking, borrowing)
        wm, per, q = w[lay.cols], col_period[lay.cols], md.col_qty_t[lay.cols]
        x = abate[lay.cols] if isinstance(lay.cols, slice) else np.zeros(len(lay.idx))  # a view, or a copy
        n = len(q)
        cheaper = np.less(wm, price.take(per, out=self._scratch("price", n)), out=self._scratch("cheaper", n, bool))
        np.multiply(q, cheaper, out=x)  # q where cheaper than the price, else 0 (branch-free)
        # (the abatement below the price summed in column order, not from the runs' cumulative
        # sums: closer to a full sort's sum in cost order, 1e-16 instead of 1e-15 of the market)
        used = _fill_ties(
            x, wm, per, q, None, mk.req, mk.tol, price, boundary, blocks, banking, borrowing, mk.at_price(price)
        )
        if not isinstance(lay.cols, slice):
            abate[lay.cols] = x
        return price, boundary, [], used, mk.tol

    def _pooled_layout(
        self, w: np.ndarray, col_period: np.ndarray, layouts: list[_Layout], linked: tuple[int, ...], ratio: float
    ) -> tuple[_Layout, list[np.ndarray], np.ndarray]:
        """(layout, columns of each market, t per pooled unit) of a fully linked pair, kept while
        the market layouts are."""
        n, r = linked
        cols = [np.arange(len(w))[layouts[a].cols] for a in (n, r)]
        factor = np.concatenate([np.ones(len(cols[0])), np.full(len(cols[1]), ratio)])
        key = (self._generation, linked, ratio)
        if self._pooled is not None and self._pooled[0] == key:
            return self._pooled[1], cols, factor
        idx = np.concatenate(cols)
        lay = _Layout(idx, w[idx] * factor, col_period[idx])
        self._pooled = (key, lay)
        return lay, cols, factor

    def _solve_linked(
        self, md, w, col_period, layouts, req, linked, abate, price, bank, expire_mp, boundary, problems, low, high
    ):
        """Solve a fully linked (national, regional) pair as one market in national units."""
        n, r = linked
        ratio = float(md.scenario.link.ratio)
        n_p = len(md.periods)
        cfg = md.scenario.markets[md.markets[n]]
        pooled_req = req[n] + req[r] / ratio
        mk: _Market | _DrawMarket
        if self._cost_groups is not None:  # presorted runs
            key = (linked, ratio)
            if self._pooled_runs is None or self._pooled_runs[0] != key:
                cols = [layouts[a].idx for a in (n, r)]
                idx = np.concatenate(cols)
                factor = np.concatenate([np.ones(len(cols[0])), np.full(len(cols[1]), ratio)])
                assert self._draw is not None
                part = np.repeat(np.arange(2), [len(c) for c in cols])
                runs = _Runs(idx, factor, part, self._draw[4], w, col_period, md.col_year)
                self._pooled_runs = (key, idx, factor, runs)
            _, idx, factor, runs = self._pooled_runs
            cols = [layouts[a].cols for a in (n, r)]  # (slices where contiguous: views, no gathers)
            mk = _DrawMarket(runs, w, md.col_qty_t, pooled_req)
            lam, nb, bad, blocks = _blocks(mk, cfg.banking, cfg.borrowing)
            if not bad:
                self._pooled_abatement(md, w, col_period, cols, ratio, cfg, mk, lam, nb, blocks, abate)
        else:
            lay, cols, factor = self._pooled_layout(w, col_period, layouts, linked, ratio)  # factor: t per pooled unit
            assert isinstance(lay.cols, np.ndarray)  # the pooled columns: an index array
            idx = lay.cols
            mk = self._market("pooled", lay, md.col_qty_t, ratio, pooled_req, idx, factor)
            lam, x_sorted, nb, bad = _solve_market(mk, cfg.banking, cfg.borrowing)
            x = np.empty_like(x_sorted)
            x[mk.order] = x_sorted
            abate[idx] = x * factor
        for periods in bad:
            names = ", ".join(md.periods[p] for p in sorted(periods))
            problems.append(
                f"linked markets {md.markets[n]!r} and {md.markets[r]!r}, period {names}: "
                "the caps cannot be met even with every abatement step used"
            )
        price[n], price[r] = lam, lam / ratio
        boundary[n] = boundary[r] = nb
        if not bad:
            lo, hi = _price_interval(mk, cfg.banking, cfg.borrowing)
            low[n], high[n], low[r], high[r] = lo, hi, lo / ratio, hi / ratio
        used = [np.bincount(col_period[c], weights=abate[c], minlength=n_p) for c in cols]
        surplus_r = used[1] - req[r]  # regional allowances freed (+) or needed (-) per period
        bank[n], expire_mp[n] = _bank(used[0] - req[n] + surplus_r / ratio, cfg.banking, cfg.borrowing, mk.tol)
        return {
            "link_regional_to_national": np.where(surplus_r > 0, surplus_r, 0.0),
            "link_national_to_regional": np.where(surplus_r < 0, -surplus_r / ratio, 0.0),
        }

    def _pooled_abatement(self, md, w, col_period, cols, ratio, cfg, mk, lam, nb, blocks, abate) -> None:
        """A linked pair's abatement on its presorted runs, written into ``abate`` (t): the pooled
        columns (the first market's, then the second's, in pooled units: a step of the second of
        q t at PV cost w is q / ratio units at w * ratio) used below the price, and the tied
        columns filled (:func:`_fill_ties`), as :meth:`_solve_runs` does for one market. The
        pooled arrays are views of the model's arrays when the two markets' columns are adjacent
        slices and the ratio is 1, else filled into scratch arrays; the numbers are the same
        either way (the first market's factor is 1, and x * 1.0 and x / 1.0 are x exactly)."""
        first, second = cols
        k = _length(first)
        n_pool = k + _length(second)
        view = ratio == 1.0 and isinstance(first, slice) and isinstance(second, slice) and first.stop == second.start
        if view:
            pooled = slice(first.start, second.stop)
            wp, perp, qp = w[pooled], col_period[pooled], md.col_qty_t[pooled]
            x = abate[pooled]  # a view of abate (zeros): filled in place
        else:
            wp, qp = self._scratch("pooled_w", n_pool), self._scratch("pooled_q", n_pool)
            perp = self._scratch("pooled_per", n_pool, col_period.dtype.type)
            for part, c, f in ((slice(0, k), first, 1.0), (slice(k, n_pool), second, ratio)):
                _gather(col_period, c, perp[part])
                if f == 1.0:  # (x * 1.0 and x / 1.0 are x: skipped)
                    _gather(w, c, wp[part])
                    _gather(md.col_qty_t, c, qp[part])
                else:
                    np.multiply(w[c], f, out=wp[part])
                    np.divide(md.col_qty_t[c], f, out=qp[part])
            x = self._scratch("pooled_x", n_pool)
        at = lam.take(perp, out=self._scratch("pooled_price", n_pool))
        cheaper = np.less(wp, at, out=self._scratch("pooled_cheaper", n_pool, bool))
        x.fill(0.0)
        np.copyto(x, qp, where=cheaper)  # q where cheaper than the price, else 0
        _fill_ties(x, wp, perp, qp, None, mk.req, mk.tol, lam, nb, blocks, cfg.banking, cfg.borrowing, mk.at_price(lam))
        if not view:
            abate[first] = x[:k]
            abate[second] = x[k:] if ratio == 1.0 else x[k:] * ratio


def _length(cols: np.ndarray | slice) -> int:
    """How many columns a market has (its columns: a slice with a step of 1, or positions)."""
    return cols.stop - cols.start if isinstance(cols, slice) else len(cols)


def _gather(values: np.ndarray, cols: np.ndarray | slice, out: np.ndarray) -> None:
    """``out[:] = values[cols]`` without a temporary array."""
    if isinstance(cols, slice):
        out[...] = values[cols]
    else:
        np.take(values, cols, out=out)


def _unmet(md: ModelData, market: str, bad: list) -> list[str]:
    """One problem per block of periods of ``market`` that even every abatement step cannot meet."""
    out = []
    for periods in bad:
        names = ", ".join(md.periods[p] for p in sorted(periods))
        out.append(f"market {market!r}, period {names}: the cap cannot be met even with every abatement step used")
    return out


def _price_interval(mk: _Market | _DrawMarket, banking: bool, borrowing: bool) -> tuple[np.ndarray, np.ndarray]:
    """(P,) least and greatest PV clearing price of each period over the optimal duals.

    From the merit order itself: the greatest price of period p is the least clearing price when
    p's requirement is larger by a sliver (``INTERVAL_STEPS`` tolerances, far below any step),
    the least price the one when it is smaller by that much. On a step boundary of a single
    period these are the cost of the last step used and the cost of the next step; with banking
    or borrowing the pooled periods share one merit order and the same re-clearing moves their
    block (the chain of PAVA blocks), with a full link the pooled market of both. The clearing
    price is a directional derivative of the least cost, so these are exactly the ends of the
    interval of optimal duals (:mod:`nationcap.engines.intervals` has the argument). ``inf``
    where not a sliver more can be met.
    """
    low = np.zeros(mk.n_p)
    high = np.zeros(mk.n_p)
    base_req = mk.req
    eps = INTERVAL_STEPS * mk.tol
    try:
        for p in range(mk.n_p):
            for side, out in ((-1.0, low), (1.0, high)):
                req = base_req.copy()
                req[p] += side * eps
                mk.req = req
                lam, _, _, _ = _blocks(mk, banking, borrowing)
                out[p] = lam[p]
    finally:
        mk.req = base_req
    return low, high


def _bank(balance: np.ndarray, banking: bool, borrowing: bool, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Bank and expiry per period from each period's surplus (abatement - requirement), t."""
    n_p = len(balance)
    bank = np.zeros(n_p)
    expire = np.zeros(n_p)
    if banking:
        bank = np.cumsum(balance)
    else:
        b = 0.0
        for p in range(n_p):
            v = b + balance[p]
            b = min(0.0, v) if (borrowing and p < n_p - 1) else 0.0
            bank[p] = b
            expire[p] = v - b
    bank[np.abs(bank) <= tol] = 0.0
    expire[np.abs(expire) <= tol] = 0.0
    return bank, expire
