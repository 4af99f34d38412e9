r"""The values of one scenario key at which every goal on the results holds (``nationcap target``).

Goals
    ``VARIABLE[MARKET,COORD] OP RHS`` with ``OP`` one of ``<=``, ``>=``, ``==`` and ``RHS`` a
    number or another term ``VARIABLE[MARKET,COORD]`` (``price[national,2030]==price[regional,2030]``).
    ``VARIABLE`` is a results variable over (market, year) or (market, period): ``COORD`` is a
    fiscal year or a period name accordingly. ``price`` is the reported price, the lower end of
    the clearing interval (:mod:`nationcap.results.prices`); ``price_low`` / ``price_high`` name
    an end. ``==`` holds within a relative 1e-9 (prices are step costs, so they meet exactly).

Exact method (the merit-order engine, price goals, a key that moves the caps affinely)
    When the variants at the two ends of the range have the same abatement columns and the
    market requirements ``R[m, p](x) = BAU - cap`` are affine in the key ``x`` (compliance factors
    and top-level multipliers are; checked at every solved point), every price is a step function
    of ``x``: the engine pools periods into blocks of consecutive periods (and a fully linked pair
    into one market in national units, :mod:`nationcap.engines.merit_order`), and a block's price
    changes only where its requirement crosses a cumulative sum of its steps, in PV-cost order.
    So the breakpoints are among the ``x`` where the requirement of some run of consecutive
    periods of a pool equals such a sum (or zero): a finite, known set. Between two neighbouring
    breakpoints every price, hence every goal, is constant; at a breakpoint the price is the
    lower end of its interval. The search evaluates the pieces and breakpoints it needs (a grid of
    ``samples`` points, each giving the truth of the piece it lies in, then a bisection over the
    breakpoints wherever neighbouring evaluations disagree), so the ends it reports are breakpoints, written as the shortest decimal within
    1e-12 of the range of the computed value, and whether an end belongs to the interval is
    decided by solving at it. The bisection probes first, instead of the middle of a bracket, the
    breakpoints next to where a run of periods containing a goal's period has its price pass the
    goal's number (a step's cost straddles it): where that run is the block that sets the price,
    the switch is found in two or three solves rather than one per halving of the breakpoints; a
    probe elsewhere only narrows the bracket, so the ends are the same either way.

Bisection (the Pyomo engine, or goals on quantities, or a key that is not affine)
    Neighbouring evaluations that disagree are bisected until they are ``tol`` apart; the end is
    then the shortest decimal between them, solved once more to say on which side it lies (so a
    breakpoint at a round value is found exactly when it lies within ``tol``). The Pyomo engine
    keeps its model between solves (``hold=True``) where the variant allows; its prices are the
    lower ends of the dual intervals as on the exact engine, so both find the same pieces.

Solving a point
    Where the key is an allocation key (a compliance factor or top-level multiplier), no rule
    that is on depends on the allocation (the held model's allow-list,
    :func:`nationcap.model.variants.in_place_reason`) and the model data of a third point (the scenario as
    loaded, or the middle of the range) lies on the line between those at the range's ends, every other point's model data is
    that line's (allocations, caps and requirements interpolated) instead of being prepared
    again. Price goals are read from the solution's duals (:mod:`nationcap.results.prices`)
    without building the results; other goals from the results.

Either way, changes between two grid points that agree (an even number of switches) are not
seen: where the goals' variables are monotone in the key (a price goal and a key that tightens
or loosens that market's caps) none are missed; otherwise raise ``samples``. A variant that
cannot be solved (infeasible caps) meets no goal.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InputError, ModelError, Problem
from ..model.variants import ALLOCATION_KEYS, in_place_reason
from ..results.prices import price_interval_pv, year_prices
from ..session import Session

#: result variables a goal may name whose value is constant between breakpoints
PRICE_VARIABLES = ("price", "price_pv", "price_low", "price_high", "price_low_pv", "price_high_pv")
#: relative tolerance of ``==`` and of the affine check of the requirements
EQ_REL = 1e-9
#: an exact breakpoint is written as the shortest decimal within this share of the range
SNAP_REL = 1e-12

_TERM = r"([A-Za-z_][A-Za-z0-9_]*)\[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]"
_GOAL_RE = re.compile(r"^\s*" + _TERM + r"\s*(<=|>=|==)\s*(.+?)\s*$")
_TERM_RE = re.compile(r"^\s*" + _TERM + r"\s*$")


@dataclass(frozen=True)
class Term:
    """One value of the results: ``variable[market, coord]`` (coord: a year or a period name)."""

    variable: str
    market: str
    coord: int | str

    def __str__(self) -> str:
        return f"{self.variable}[{self.market},{self.coord}]"

    def value(self, res: xr.Dataset) -> float:
        da = res[self.variable].sel(market=self.market)
        dim = "year" if "year" in da.dims else "period"
        return float(da.sel({dim: self.coord}).values)


@dataclass(frozen=True)
class Goal:
    text: str
    lhs: Term
    op: str
    rhs: Term | float

    def terms(self) -> list[Term]:
        return [self.lhs] + ([self.rhs] if isinstance(self.rhs, Term) else [])

    def sides(self, values: dict[str, float]) -> tuple[float, float]:
        right = values[str(self.rhs)] if isinstance(self.rhs, Term) else float(self.rhs)
        return values[str(self.lhs)], right

    def shortfall(self, values: dict[str, float]) -> float:
        """How far the goal is from holding (0 where it holds), in the variable's unit."""
        left, right = self.sides(values)
        if self.op == "<=":
            return max(0.0, left - right)
        if self.op == ">=":
            return max(0.0, right - left)
        gap = abs(left - right)
        return 0.0 if gap <= EQ_REL * max(abs(left), abs(right), 1.0) else gap

    def holds(self, values: dict[str, float]) -> bool:
        return self.shortfall(values) == 0.0


def parse_goals(texts: Iterable[str], markets: list[str], years: list[int], periods: list[str]) -> list[Goal]:
    """The goals of ``--goal`` options; one :class:`InputError` lists every goal that is wrong."""
    problems: list[Problem] = []
    goals: list[Goal] = []
    allowed: dict[str, list] = {"year": years, "period": periods}

    def term(m: re.Match, text: str) -> Term | None:
        variable, market, coord = m.group(1), m.group(2), m.group(3)
        dim = _DIMS.get(variable)
        bad = []
        if dim is None:
            bad.append(f"unknown variable {variable!r}: one of {', '.join(sorted(_DIMS))}")
        if market not in markets:
            bad.append(f"unknown market {market!r}: one of {', '.join(markets)}")
        value: int | str = coord
        if dim == "year":
            value = int(coord) if coord.lstrip("-").isdigit() else coord
            if value not in years:
                bad.append(f"{variable} is per fiscal year: {coord!r} is not one of {years[0]}..{years[-1]}")
        elif dim == "period" and coord not in allowed["period"]:
            bad.append(f"{variable} is per period: {coord!r} is not one of {', '.join(periods)}")
        for msg in bad:
            problems.append(Problem("--goal", text, "", msg))
        return None if bad else Term(variable, market, value)

    for text in texts:
        m = _GOAL_RE.match(text)
        if m is None:
            problems.append(
                Problem("--goal", text, "", "expected VARIABLE[MARKET,YEAR_OR_PERIOD] OP VALUE with OP <=, >= or ==")
            )
            continue
        lhs = term(m, text)
        raw = m.group(5)
        rhs: Term | float | None
        rm = _TERM_RE.match(raw)
        if rm is not None:
            rhs = term(rm, text)
        else:
            try:
                rhs = float(raw.replace("_", ""))
                if not math.isfinite(rhs):
                    raise ValueError(raw)
            except ValueError:
                problems.append(Problem("--goal", text, "", f"{raw!r} is neither a number nor VARIABLE[MARKET,COORD]"))
                rhs = None
        if lhs is not None and rhs is not None:
            goals.append(Goal(text, lhs, m.group(4), rhs))
    if not goals and not problems:
        problems.append(Problem("--goal", "", "", "give at least one goal"))
    if problems:
        raise InputError(problems, "goals")
    return goals


#: results variables over (market, year) or (market, period) that goals may name, and their dim
_DIMS: dict[str, str] = {
    **{v: ("year" if not v.endswith("_pv") else "period") for v in PRICE_VARIABLES},
    "market_emissions": "period",
    "cap": "period",
    "bank": "period",
    "total_cost": "period",
    "net_cost_covered": "period",
}


@dataclass
class Point:
    """The goals at one value of the key: the terms' values, or why it could not be solved."""

    x: float
    values: dict[str, float] = field(default_factory=dict)
    ok: bool = False
    error: str = ""
    requirement_t: np.ndarray | None = None  # (M, P) BAU - cap, for the affine check
    same_columns: bool = True  # the abatement columns of the first point solved (the range's low end)

    def shortfalls(self, goals: list[Goal]) -> dict[str, float]:
        return {g.text: (g.shortfall(self.values) if not self.error else math.inf) for g in goals}


def shortest_decimal(lo: float, hi: float) -> float:
    """The number with the fewest significant digits in [lo, hi] (lo <= hi)."""
    if lo == hi:
        return lo
    for digits in range(1, 18):
        for v in (lo, hi, (lo + hi) / 2):
            d = float(f"{v:.{digits}g}")
            if lo <= d <= hi:
                return d
    return (lo + hi) / 2


@dataclass
class Search:
    """Finds the intervals of ``key`` in [lo, hi] where all ``goals`` hold (module doc)."""

    session: Session
    key: str
    goals: list[Goal]
    lo: float
    hi: float
    tol: float
    samples: int = 9
    cache: dict[float, Point] = field(default_factory=dict)
    method: str = ""
    range_source: str = "--range"
    on_solve: Callable[[int], None] | None = None
    _first: Any = None  # the model data of the first point solved
    _line: Any = None  # (model data at lo, at hi) where the key moves allocations affinely
    _hints: list[float] = field(default_factory=list)  # breakpoints where a price passes a goal's threshold

    # -- one value of the key -------------------------------------------------------------
    def at(self, x: float) -> Point:
        x = float(x)
        if x in self.cache:
            return self.cache[x]
        pt = Point(x)
        md = self._model_data(x)
        req = np.zeros((len(md.markets), len(md.periods)))
        np.add.at(req, md.entity_market, md.need_t())
        pt.requirement_t = req
        if self._first is None:
            self._first = md
        else:
            pt.same_columns = all(np.array_equal(a, b) for a, b in zip(_column_arrays(md), _column_arrays(self._first)))
        try:
            pt.values = self._values_of(md)
        except ModelError as exc:
            pt.error = str(exc).splitlines()[0]
        else:
            pt.ok = all(g.holds(pt.values) for g in self.goals)
        self.cache[x] = pt
        if self.on_solve is not None:
            self.on_solve(len(self.cache))
        return pt

    def _model_data(self, x: float):
        """The model data of the variant ``key = x``: prepared, or on the line between the range's
        ends where the key only moves allocations affinely (:meth:`_check_line`)."""
        if self._line is None:
            return self.session.prepare(self.session.variant([f"{self.key}={x!r}"]))
        lo_md, hi_md = self._line
        t = (x - self.lo) / (self.hi - self.lo)

        def lerp(a, b):
            return None if a is None else a + t * (b - a)

        return dataclasses.replace(
            lo_md,
            alloc_t=lerp(lo_md.alloc_t, hi_md.alloc_t),
            alloc_full_t=lerp(lo_md.alloc_full_t, hi_md.alloc_full_t),
            required_t=lerp(lo_md.required_t, hi_md.required_t),
        )

    def _check_line(self) -> None:
        """Use interpolated model data from now on if the key is an allocation key (a compliance
        factor or top-level multiplier), no rule on depends on the allocation, and the model data
        of a third point (:meth:`_loaded_point`) lies on the line between its ends (relative 1e-12)."""
        parts = self.key.split(".")
        if not any(k in parts for k in ALLOCATION_KEYS) or in_place_reason(self.session.scenario) is not None:
            return
        ends = [self.session.prepare(self.session.variant([f"{self.key}={v!r}"])) for v in (self.lo, self.hi)]
        x_mid, mid = self._loaded_point()
        t = (x_mid - self.lo) / (self.hi - self.lo)
        for name in ("alloc_t", "alloc_full_t", "required_t"):
            a, b, m = (getattr(md, name) for md in (*ends, mid))
            if (a is None) != (m is None) or (
                a is not None and not np.allclose(m, a + t * (b - a), rtol=1e-12, atol=0)
            ):
                return
        if all(np.array_equal(x, y) for x, y in zip(_column_arrays(ends[0]), _column_arrays(ends[1]))):
            self._line = (ends[0], ends[1])

    def _loaded_point(self) -> tuple[float, Any]:
        """A point inside the range whose model data the session has or prepares: the scenario as
        loaded where its value of the key lies strictly inside, else the middle of the range."""
        node: Any = self.session.raw
        for part in self.key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, (int, float)) and not isinstance(node, bool) and self.lo < node < self.hi:
            return float(node), self.session.model_data
        x = (self.lo + self.hi) / 2
        return x, self.session.prepare(self.session.variant([f"{self.key}={x!r}"]))

    def _values_of(self, md) -> dict[str, float]:
        """The goals' terms at ``md``: prices straight from the solution (the duals' interval,
        :mod:`nationcap.results.prices`), anything else from the results."""
        terms = {str(t): t for g in self.goals for t in g.terms()}
        if all(t.variable in PRICE_VARIABLES for t in terms.values()):
            low, high = price_interval_pv(md, self.session.solution(md))
            arrays = {
                "price_pv": low,
                "price_low_pv": low,
                "price_high_pv": high,
                "price": year_prices(md, low),
                "price_low": year_prices(md, low),
                "price_high": year_prices(md, high),
            }
            out = {}
            for name, t in terms.items():
                col = md.years.index(t.coord) if "_pv" not in t.variable else md.periods.index(t.coord)
                out[name] = float(arrays[t.variable][md.markets.index(t.market), col])
            return out
        run = self.session.solve_model_data(md, detail="market", mac_curve=False)
        return {name: t.value(run.results) for name, t in terms.items()}

    # -- the search ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        grid = [float(v) for v in np.linspace(self.lo, self.hi, max(2, self.samples))]
        grid[0], grid[-1] = self.lo, self.hi
        self._check_line()
        for x in grid:
            self.at(x)
        points = self._exact_points(grid)
        if points is not None:
            self.method = "exact: merit-order breakpoints"
            truth = self._exact_truth(points, grid)
        else:
            self.method = f"bisection to a tolerance of {self.tol:g}"
            points, truth = self._bisection(grid)
        return self._report(points, truth)

    def _exact_points(self, grid: list[float]) -> np.ndarray | None:
        """The candidate breakpoints in [lo, hi] (with both ends), or None if the exact method
        does not apply (engine, goal variables, columns or requirements not affine in the key)."""
        if self.session.engine.name != "fast":
            return None
        if any(t.variable not in PRICE_VARIABLES for g in self.goals for t in g.terms()):
            return None
        first, last = self.cache[self.lo], self.cache[self.hi]
        assert first.requirement_t is not None and last.requirement_t is not None
        span = self.hi - self.lo
        slope = (last.requirement_t - first.requirement_t) / span
        for x in grid:
            pt = self.cache[x]
            assert pt.requirement_t is not None
            line = first.requirement_t + slope * (x - self.lo)
            scale = max(1.0, float(np.abs(first.requirement_t).max()), float(np.abs(last.requirement_t).max()))
            if not pt.same_columns:
                return None
            if np.abs(pt.requirement_t - line).max() > EQ_REL * scale:
                return None
        md = self._first
        cands = [self.lo, self.hi]
        hints: list[float] = []
        thresholds = self._thresholds(md)
        for idx, w, q, per, factor in _pools(md):
            r0 = (first.requirement_t[idx] / factor[:, None]).sum(axis=0)
            r1 = (last.requirement_t[idx] / factor[:, None]).sum(axis=0)
            n_p = len(r0)
            order = np.argsort(w, kind="stable")
            w_s, q_s, per_s = w[order], q[order], per[order]
            last_of_cost = np.r_[w_s[1:] != w_s[:-1], True]  # a step boundary: the last column of a cost
            for i in range(n_p):
                for j in range(i, n_p):
                    a, b = float(r0[i : j + 1].sum()), float(r1[i : j + 1].sum())
                    if a == b:
                        continue
                    inside = (per_s >= i) & (per_s <= j)
                    cum = np.cumsum(np.where(inside, q_s, 0.0))[last_of_cost & inside]
                    sums = np.r_[0.0, cum]
                    within = (sums >= min(a, b)) & (sums <= max(a, b))
                    cands.extend((self.lo + (sums[within] - a) / (b - a) * span).tolist())
                    # hints: the breakpoints where the run's price passes a goal's threshold
                    costs = w_s[last_of_cost & inside]
                    left, right = np.r_[0.0, costs], np.r_[costs, np.inf]  # price below and above each sum
                    for a_m, p_m, thr in thresholds:
                        if a_m in idx and i <= p_m <= j:
                            t_pool = thr * float(factor[idx.index(a_m)])
                            at = within & (left <= t_pool) & (t_pool <= right)
                            hints.extend((self.lo + (sums[at] - a) / (b - a) * span).tolist())
        pts = np.unique(np.clip(np.asarray(cands, dtype=float), self.lo, self.hi))
        keep = np.r_[True, np.diff(pts) > SNAP_REL * span]  # one point per breakpoint (rounding aside)
        pts = pts[keep]
        pts[0], pts[-1] = self.lo, self.hi
        self._hints = [float(h) for h in hints]
        return pts

    def _thresholds(self, md) -> list[tuple[int, int, float]]:
        """(market, period, present-value price) of every goal that compares a price with a number."""
        out = []
        for g in self.goals:
            if isinstance(g.rhs, Term):
                continue
            t = g.lhs
            a = md.markets.index(t.market)
            if t.variable.endswith("_pv"):
                out.append((a, md.periods.index(t.coord), float(g.rhs)))
            else:
                y = md.years.index(t.coord)
                out.append((a, int(md.year_period[y]), float(g.rhs) * float(md.discount[y])))
        return out

    def snap(self, x: float) -> float:
        """A computed breakpoint as the shortest decimal within ``SNAP_REL`` of the range."""
        tol = SNAP_REL * (self.hi - self.lo)
        return shortest_decimal(max(self.lo, x - tol), min(self.hi, x + tol))

    def _exact_truth(self, pts: np.ndarray, grid: list[float]) -> np.ndarray:
        """Whether the goals hold on each item (even 2k: the point pts[k]; odd 2k+1: the open
        piece between pts[k] and pts[k+1]), found by bisection over items between grid points."""
        n_items = 2 * len(pts) - 1
        known: dict[int, bool] = {}

        def item_x(i: int) -> float:
            return self.snap(float(pts[i // 2])) if i % 2 == 0 else float((pts[i // 2] + pts[i // 2 + 1]) / 2)

        def truth(i: int) -> bool:
            if i not in known:
                known[i] = self.at(item_x(i)).ok
            return known[i]

        def item_of(x: float) -> int:
            k = int(np.searchsorted(pts, x))
            return 2 * k if k < len(pts) and pts[k] == x else 2 * k - 1

        # the items next to a hint (the breakpoint where a run's price passes a goal's threshold)
        # are probed before the middle of a bracket: where the hint is right, a switch is found in
        # two or three solves instead of one per halving; either way every switch found is exact
        hinted: set[int] = set()
        for h in self._hints:
            k = int(np.clip(np.searchsorted(pts, h), 0, len(pts) - 1))
            k = min((c for c in (k - 1, k) if c >= 0), key=lambda c: abs(float(pts[c]) - h))
            hinted.update(c for c in (2 * k - 1, 2 * k, 2 * k + 1) if 0 <= c < n_items)

        def bisect(i: int, j: int) -> None:
            if j - i <= 1 or truth(i) == truth(j):
                return
            inside = [h for h in hinted if i < h < j and h not in known]
            m = min(inside, key=lambda h: (abs(2 * h - i - j), h)) if inside else (i + j) // 2
            truth(m)
            bisect(i, m)
            bisect(m, j)

        for x in grid:  # a grid point inside a piece gives the piece's truth (the goals are constant on it)
            i = item_of(x)
            if i % 2 == 1:
                known.setdefault(i, self.cache[x].ok)
        items = sorted({item_of(x) for x in grid} | {0, n_items - 1})
        for i, j in zip(items[:-1], items[1:]):
            bisect(i, j)
        out = np.zeros(n_items, dtype=bool)
        evaluated = sorted(known)
        for i, j in zip(evaluated[:-1], evaluated[1:]):
            if known[i] == known[j]:
                out[i:j] = known[i]
        for i in evaluated:
            out[i] = known[i]
        return out

    def _bisection(self, grid: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """Switches between neighbouring grid points bisected to ``tol``, each ended at the
        shortest decimal of its bracket; (points, item truth) as for :meth:`_exact_truth`."""
        bounds = [self.lo, self.hi]
        for a, b in zip(grid[:-1], grid[1:]):
            ta = self.at(a).ok
            if ta == self.at(b).ok:
                continue
            while b - a > self.tol:
                m = (a + b) / 2
                if m in (a, b):
                    break
                if self.at(m).ok == ta:
                    a = m
                else:
                    b = m
            bounds.append(shortest_decimal(a, b))
        pts = np.unique(bounds)
        truth = np.zeros(2 * len(pts) - 1, dtype=bool)
        for k in range(len(pts)):
            truth[2 * k] = self.at(float(pts[k])).ok
            if k + 1 < len(pts):
                inside = [x for x in self.cache if pts[k] < x < pts[k + 1]]
                x = inside[len(inside) // 2] if inside else float((pts[k] + pts[k + 1]) / 2)
                truth[2 * k + 1] = self.at(x).ok
        return pts, truth

    # -- the answer ----------------------------------------------------------------------
    def _report(self, pts: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
        intervals = []
        i, n = 0, len(truth)
        while i < n:
            if not truth[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and truth[j + 1]:
                j += 1
            low, high = self.snap(float(pts[i // 2])), self.snap(float(pts[(j + 1) // 2]))
            intervals.append(
                {
                    "low": low,
                    "low_closed": i % 2 == 0,
                    "high": high,
                    "high_closed": j % 2 == 0,
                    "at_low": self._values(low),
                    "at_high": self._values(high),
                }
            )
            i = j + 1
        out: dict[str, Any] = {
            "parameter": self.key,
            "range": [self.lo, self.hi],
            "range_source": self.range_source,
            "goals": [g.text for g in self.goals],
            "engine": self.session.engine.name,
            "method": self.method,
            "solves": len(self.cache),
            "intervals": intervals,
            "closest": None,
        }
        if not intervals:
            solved = [p for p in self.cache.values() if not p.error]
            if solved:
                best = min(solved, key=lambda p: (self._distance(p), p.x))
                out["closest"] = {"value": best.x, "shortfall": best.shortfalls(self.goals), **self._values(best.x)}
        return out

    def _distance(self, pt: Point) -> float:
        """Sum of the goals' shortfalls, each relative to its right-hand side's size."""
        total = 0.0
        for g in self.goals:
            _, right = g.sides(pt.values)
            total += g.shortfall(pt.values) / max(abs(right), 1.0)
        return total

    def _values(self, x: float) -> dict[str, Any]:
        pt = self.at(x)
        if pt.error:
            return {"error": pt.error}
        return {"results": dict(pt.values), "goals_hold": pt.ok}


def _column_arrays(md) -> tuple[np.ndarray, ...]:
    """The arrays that fix the abatement columns and their PV costs (equal across the variants
    of an allocation key)."""
    return (md.col_entity, md.col_year, md.col_cost, md.col_qty_t, md.discount, md.entity_market)


def _pools(md) -> list[tuple[list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The markets the merit-order engine clears together: (market indices, PV cost, quantity and
    period of each column, t per pooled unit of each market). A full two-way link is one pool in
    national-allowance units (a regional tonne is 1 / ratio national allowances)."""
    w = md.discount[md.col_year] * md.col_cost
    per = md.year_period[md.col_year]
    col_market = md.entity_market[md.col_entity]
    link = md.scenario.link
    linked: list[int] = []
    pools = []
    if link.mode == "full":
        linked = [md.markets.index(x) for x in link.markets]
        ratio = float(link.ratio)
        factor = np.where(col_market == linked[1], ratio, 1.0)
        sel = np.isin(col_market, linked)
        pools.append((linked, w[sel] * factor[sel], md.col_qty_t[sel] / factor[sel], per[sel], np.array([1.0, ratio])))
    for a in range(len(md.markets)):
        if a in linked:
            continue
        sel = col_market == a
        pools.append(([a], w[sel], md.col_qty_t[sel], per[sel], np.array([1.0])))
    return pools
