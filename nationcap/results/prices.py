"""Allowance prices from the duals — the only place where duals become prices.

Sign. The market balance row ``MarketClearing[m, p]`` (concept ``market_balance``) is written so
that raising its right-hand side by one Mt takes one Mt of allowances out of market m in period p
(:mod:`nationcap.model.core.market`). For a
minimisation, Pyomo/HiGHS report the dual as d(objective)/d(rhs), so the dual is the (non-
negative) marginal cost of one tonne less: the allowance price. Objective in million JPY and
rows in Mt make the dual JPY/t directly.

Discounting. The objective is in present value at the first model year, so the dual is a
present-value price ``price_pv[m, p]``; it is one number per period because compliance is per
period (a tonne abated in any year of the period counts the same). In each year's own money::

    price[m, y] = price_pv[m, period(y)] / (1 + discount_rate) ** -(y - first model year)

so every MAC step with cost below ``price[m, y]`` is fully used in year y and every dearer step
is unused. With banking and a positive bank, ``price_pv`` is equal across periods (Hotelling).

Intervals. Where a requirement lies exactly on the boundary between two abatement steps, every
price between the two steps' costs clears the market: the optimal duals form an interval. Every
engine reports each market row's least and greatest optimal dual (``SolveResult.dual_low`` /
``dual_high``, see :mod:`nationcap.engines.intervals` and :mod:`nationcap.engines.merit_order`);
they become ``price_low_pv`` / ``price_high_pv`` and, in each year's money, ``price_low`` /
``price_high`` (equal where the price is unique; ``price_high`` is ``inf`` where not one more
tonne of requirement could be met). ``price_pv`` and ``price`` are the **lower end** on every
engine: a point the solver did not choose, so that a sweep never jumps between the two ends for
reporting reasons alone, and the price at which the requirement is just met (the cost of the last
step used). An engine that gives no interval (``dual_low`` without ``market_balance``) reports
its dual as both ends.

Duals within ``ZERO_TOL`` JPY/t of zero are reported as exactly zero (solver noise); a clearly
negative dual means the model is wrong and raises.
"""

from __future__ import annotations

import numpy as np

from ..engines.base import SolveResult
from ..errors import ModelError
from ..model.data import ModelData
from ..model.registry import MARKET_BALANCE

ZERO_TOL = 1e-6


def present_value_prices(md: ModelData, market_dual: np.ndarray) -> np.ndarray:
    """(M, P) present-value prices, JPY/t in first-model-year money."""
    pv = np.where(np.abs(market_dual) < ZERO_TOL, 0.0, market_dual)
    if (pv < 0).any():
        a, p = np.argwhere(pv < 0)[0]
        raise ModelError(
            f"negative allowance price {pv[a, p]:.6g} JPY/t in market {md.markets[a]!r}, "
            f"period {md.periods[p]}: the dual sign convention is broken"
        )
    return pv


def year_prices(md: ModelData, price_pv: np.ndarray) -> np.ndarray:
    """(M, Y) prices in each year's money: the period's PV price divided by the year's discount factor."""
    return price_pv[:, md.year_period] / md.discount[None, :]


def price_interval_pv(md: ModelData, sr: SolveResult) -> tuple[np.ndarray, np.ndarray]:
    """(M, P) lower and upper end of the present-value clearing price, JPY/t (module doc).

    Each end goes through :func:`present_value_prices` (noise to zero, sign checked); an upper
    end below the lower one by rounding is raised to it."""
    shape = (len(md.markets), len(md.periods))
    point = sr.duals[MARKET_BALANCE]
    low = present_value_prices(md, np.asarray(sr.dual_low.get(MARKET_BALANCE, point), dtype=float).reshape(shape))
    high = present_value_prices(md, np.asarray(sr.dual_high.get(MARKET_BALANCE, point), dtype=float).reshape(shape))
    return low, np.maximum(high, low)
