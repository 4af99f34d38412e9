r"""Price floor and ceiling per market and year (GX-ETS style band).

Parameters
    floor[m, y], ceil[m, y]   JPY/t in year y's money (e.g. 1,700 and 4,300 in FY2026, +3 %/yr)

Variables
    CeilingIssue[m, y]   allowances the administrator sells at the ceiling price in year y, Mt, >= 0
                         (unlimited: the ceiling is a hard cap on the price)
    FloorWithdraw[m, y]  allowances the administrator withdraws at the floor price, Mt, >= 0

Registered terms
    MarketClearing[m, p(y)]  += CeilingIssue[m, y] - FloorWithdraw[m, y]
    objective                += d[y] * (ceil[m, y] * CeilingIssue[m, y] - floor[m, y] * FloorWithdraw[m, y])

Why the price stays in the band. The reduced costs of the two variables must be non-negative at
the optimum: ``d[y] * ceil[m, y] - price_pv[m, p] >= 0`` and ``price_pv[m, p] - d[y] * floor[m, y]
>= 0`` for every year y of the period, i.e. ``floor[m, y] <= price[m, y] <= ceil[m, y]`` in every
year (``price[m, y] = price_pv[m, p] / d[y]``, :mod:`nationcap.prices`). Issuing and withdrawing are
payments between the administrator and the market: they are in the objective so the LP prices
them, and reported separately from abatement cost.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .inputs import ModelData
from .registry import Registry


def _index(values: np.ndarray | None) -> list[tuple[int, int]]:
    if values is None:
        return []
    a, y = np.nonzero(~np.isnan(values))
    return list(zip(a.tolist(), y.tolist()))


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    for name, values, sign, doc in (
        ("CeilingIssue", md.ceiling, 1.0, "allowances sold at the price ceiling [Mt]"),
        ("FloorWithdraw", md.floor, -1.0, "allowances withdrawn at the price floor [Mt]"),
    ):
        idx = _index(values)
        if not idx:
            continue
        var = pyo.Var(idx, domain=pyo.NonNegativeReals, doc=doc)
        m.add_component(name, var)
        for a, y in idx:
            reg.pool[a, int(md.year_period[y])].append((sign, var[a, y]))
        reg.cost.append(pyo.quicksum(sign * float(md.discount[y] * values[a, y]) * var[a, y] for (a, y) in idx))
