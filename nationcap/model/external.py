r"""External link: imports of foreign allowances into a market at an exogenous price.

Parameters
    pext[m, y]   price of foreign allowances, JPY/t in year y's money
    s[m]         import limit as a share of the market's cap per period

Variables
    Import[m, y]   foreign allowances bought in year y, Mt, >= 0

Constraints
    ImportLimit[m, p]::   sum_{y in p} Import[m, y] <= s[m] * cap[m, p] / scale_t

Registered terms
    MarketClearing[m, p(y)] += Import[m, y]
    objective               += d[y] * pext[m, y] * Import[m, y]

While the limit does not bind, the domestic price cannot rise above the foreign one
(``price[m, y] <= pext[m, y]``); when it binds, the dual of ImportLimit (<= 0 by Pyomo's sign
convention for a <= row in a minimisation) is the quota rent per tonne: the domestic PV price
minus the PV foreign price.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .inputs import ModelData
from .registry import Registry


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    if md.import_price is None or np.isnan(md.import_price).all():
        return
    a_idx, y_idx = np.nonzero(~np.isnan(md.import_price))
    idx = list(zip(a_idx.tolist(), y_idx.tolist()))
    m.Import = pyo.Var(idx, domain=pyo.NonNegativeReals, doc="foreign allowances imported [Mt]")
    for a, y in idx:
        reg.pool[a, int(md.year_period[y])].append((1.0, m.Import[a, y]))
    reg.cost.append(pyo.quicksum(float(md.discount[y] * md.import_price[a, y]) * m.Import[a, y] for (a, y) in idx))
    caps = md.cap_t() / md.scale_t
    limits = sorted({(a, int(md.year_period[y])) for (a, y) in idx})

    def rule(_m, a, p):
        years = [y for (b, y) in idx if b == a and md.year_period[y] == p]
        return pyo.quicksum(_m.Import[a, y] for y in years) <= float(md.import_share[a] * caps[a, p])

    m.ImportLimit = pyo.Constraint(limits, rule=rule, doc="imports per period <= share of cap [Mt]")
