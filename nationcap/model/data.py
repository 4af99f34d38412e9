"""The arrays the model is built from (:class:`ModelData`); :mod:`.prepare` makes them.

Everything index-like is precomputed here with numpy/pandas so that no Pyomo rule ever scans a
set: each abatement column knows its entity, year and period, and the columns of one
(entity, period) pair are contiguous.

Units: quantities in the tables are tonnes; inside the model they are divided by ``scale_t``
(chosen from the data by :func:`choose_scale_t`: 10^6 t = Mt for national-size data) so that
HiGHS sees numbers well inside its tolerances. Costs stay in JPY/t, so the objective is in
JPY x scale_t (million JPY at 10^6) and row duals come out directly in JPY/t, whatever the scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import MarketConfig, Scenario
from ..derive.allocation import BenchmarkBasis
from ..derive.scope import Scope
from ..inputs.tables import Dataset

#: the largest LP unit of quantity (t): 10^6 t = Mt, used for national-size data
SCALE_T = 1e6
#: HiGHS's default primal and dual feasibility tolerances, in LP units
HIGHS_TOL = 1e-7
#: below this many LP units a quantity is within a few tolerances of zero: warn
SMALLEST_LP_QUANTITY = 1e-6


class PrecisionWarning(UserWarning):
    """Some quantities are so small against the LP's unit that HiGHS's tolerances may hide them."""


def choose_scale_t(bau_market_period_t: np.ndarray) -> float:
    """The LP's unit of quantity, t: ``10 ** (floor(log10(B)) - 1)`` clamped to [1, 10^6], where
    B is the largest BAU total of one market in one period (t).

    The largest market-period total is then 10..100 LP units (or more, at the 10^6 cap), so the
    HiGHS tolerances of 1e-7 LP units are at most 1e-8 of it. National-size data keep Mt: both
    shipped datasets get exactly 10^6 (``inputs/japan``: B = 2.37e9 t; ``inputs/tiny``: B =
    1.88e7 t), so their results are unchanged; a dataset of entities of a few tonnes a year gets
    1 t or 10 t instead of Mt, where 1e-7 Mt = 0.1 t would swamp the data. Depends on BAU only,
    so variants that change allocations (a sweep of factors) keep the same scale.
    """
    largest = float(np.max(bau_market_period_t, initial=0.0))
    if not largest > 0 or not math.isfinite(largest):
        return SCALE_T if not math.isfinite(largest) else 1.0
    return float(min(SCALE_T, max(1.0, 10.0 ** (math.floor(math.log10(largest)) - 1))))


@dataclass
class ModelData:
    """Everything the LP is built from, as arrays (see the module docstring).

    ``scale_t`` is the LP's unit of quantity in t: every quantity enters the LP divided by it and
    engines multiply solved values back (results are always in t). :func:`nationcap.model.prepare`
    sets it with :func:`choose_scale_t` from the data, and warns (:class:`PrecisionWarning`) when
    the smallest positive quantity of a column bound or right-hand side is below
    ``SMALLEST_LP_QUANTITY`` (1e-6) LP units, i.e. within ten HiGHS tolerances of zero.
    """

    scenario: Scenario
    dataset: Dataset
    entities: np.ndarray  # (E,) entity ids, entities.csv order
    markets: list[str]  # (M,) scenario market keys
    periods: list[str]  # (P,)
    years: list[int]  # (Y,)
    year_period: np.ndarray  # (Y,) period index of each year
    discount: np.ndarray  # (Y,) (1+r)^-(y - y0)
    entity_market: np.ndarray  # (E,) market index
    bau_t: np.ndarray  # (E, Y)
    alloc_t: np.ndarray  # (E, P) free allocation (after any auctioned share)
    # abatement columns, sorted by (entity, period, year, step)
    col_entity: np.ndarray  # (J,)
    col_year: np.ndarray  # (J,) year index
    col_step: np.ndarray  # (J,) step number as in mac.csv
    col_cost: np.ndarray  # (J,) JPY/t
    col_qty_t: np.ndarray  # (J,) upper bound, t
    row_start: np.ndarray  # (E*P + 1,) columns of row k = e*P + p are row_start[k]:row_start[k+1]
    # program rules (all neutral when the scenario turns no rule on)
    alloc_full_t: np.ndarray | None = None  # (E, P) allocation before auction: the cap share
    base_t: np.ndarray | None = None  # (E,) base-year emissions used
    base_first_year: np.ndarray | None = None  # (E,) first FY of the chosen 3-year window, -1 = file
    required_t: np.ndarray | None = None  # (E, P) base x effective factor x years
    #: (E, Y) allocation per model year before auction (a period's spread evenly over its years,
    #: a benchmark market's per year); what a yearly auction share applies to
    alloc_year_t: np.ndarray | None = None
    #: what the benchmark markets' allocations are computed from (None: no benchmark market);
    #: a Monte Carlo draw re-computes them from it (:func:`nationcap.model.prepare.perturb`)
    benchmark: BenchmarkBasis | None = None
    #: each program rule's slice of the model data, keyed by the rule's NAME (see model/rules/)
    rule_data: dict[str, Any] = field(default_factory=dict)
    scale_t: float = SCALE_T
    #: the scenario's market selections and splits (:mod:`nationcap.derive.scope`): ``scenario``
    #: and ``dataset`` above are its resolved ones; None for model data made without them
    scope: Scope | None = None

    @property
    def n_entities(self) -> int:
        return len(self.entities)

    @property
    def col_period(self) -> np.ndarray:
        return self.year_period[self.col_year]

    def period_years(self, p: int) -> np.ndarray:
        return np.flatnonzero(self.year_period == p)

    def cap_t(self) -> np.ndarray:
        """(M, P) caps: sum of the allocations (before any auction) of each market's entities."""
        return _sum_by_market(
            self.entity_market, self.alloc_full_t if self.alloc_full_t is not None else self.alloc_t, len(self.markets)
        )

    def auction_t(self) -> np.ndarray:
        """(M, P) allowances auctioned: cap minus free allocation."""
        return self.cap_t() - _sum_by_market(self.entity_market, self.alloc_t, len(self.markets))

    def market_config(self, a: int) -> MarketConfig:
        return self.scenario.markets[self.markets[a]]

    def max_abatement_t(self) -> np.ndarray:
        """(M, P) abatement available if every step were used."""
        n_p = len(self.periods)
        cell = self.entity_market[self.col_entity] * n_p + self.col_period
        return np.bincount(cell, weights=self.col_qty_t, minlength=len(self.markets) * n_p).reshape(-1, n_p)

    def expire_index(self) -> list[tuple[int, int]]:
        """(market, period) pairs that have an Expire variable: markets without banking."""
        return [
            (a, p)
            for a, name in enumerate(self.markets)
            if not self.scenario.markets[name].banking
            for p in range(len(self.periods))
        ]

    def need_t(self) -> np.ndarray:
        """(E, P) what each entity must cover per period before abating: BAU - free allocation, t."""
        n_p = len(self.periods)
        need = np.zeros((self.n_entities, n_p))
        for p in range(n_p):
            need[:, p] = self.bau_t[:, self.period_years(p)].sum(axis=1) - self.alloc_t[:, p]
        return need

    def bau_by_market_period_t(self) -> np.ndarray:
        out = np.zeros((len(self.markets), len(self.periods)))
        for p in range(len(self.periods)):
            np.add.at(out[:, p], self.entity_market, self.bau_t[:, self.period_years(p)].sum(axis=1))
        return out


def bank_bounds(banking: bool, borrowing: bool, last: bool) -> tuple[float | None, float | None]:
    """(lower, upper) bound of a market's bank at the end of a period (None = unbounded).

    ::

    banking = true:   Bank >= 0          banking = false:  Bank <= 0 (nothing carries forward)
    borrowing = true: Bank may be < 0 before the last period; Bank[last] >= 0 always
    """
    lo = None if (borrowing and not last) else 0.0
    hi = None if banking else 0.0
    return lo, hi


def _sum_by_market(entity_market: np.ndarray, values: np.ndarray, n_markets: int) -> np.ndarray:
    """(M, P) sums of the (E, P) ``values`` over each market's entities: one weighted bincount,
    adding the entities in order as ``np.add.at`` does (the same sums), much faster."""
    n_p = values.shape[1]
    cell = (entity_market[:, None] * n_p + np.arange(n_p)[None, :]).ravel()
    return np.bincount(cell, weights=values.ravel(), minlength=n_markets * n_p).reshape(n_markets, n_p)
