r"""Offsets: credits bought from supply steps and used one-for-one for compliance.

Sets
    S        offset supply steps of markets with ``use_offsets`` (market m_s, type t_s, year y_s)
    U        (entity i, type t, period p) with a positive purchase limit

Parameters
    q_s, c_s           credits on offer (t) and their price (JPY/t, year y_s money)
    limit[i, t, p]     per-entity limit (t): ``limit_fraction x basis`` (see ModelData), inf = none

Variables
    OffsetBuy[s]       credits bought from step s, Mt:  0 <= OffsetBuy[s] <= q_s / scale_t
    OffsetUse[i, t, p] credits of type t entity i surrenders for period p, Mt, <= limit / scale_t

Constraints
    OffsetBalance[m, t, p]::

        sum_{s in (m, t, years of p)} OffsetBuy[s] - sum_{i in m} OffsetUse[i, t, p] = 0

    Its dual is the present-value price of type-t credits in period p (raising the right-hand
    side forces one more credit to be bought). A credit offered in year y counts toward the
    period containing y; credits are not banked.

Registered terms
    EntityCompliance[i, p]  += OffsetUse[i, t, p]   (credits replace allowances one for one)
    objective               += d[y_s] * c_s * OffsetBuy[s]
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .inputs import ModelData
from .registry import Registry


def use_index(md: ModelData) -> list[tuple[int, int, int]]:
    """(entity, type, period) triples that get an OffsetUse variable."""
    if md.off_limit_t is None:
        return []
    offered = set(zip(md.off_market, md.off_type, md.year_period[md.off_year]))
    e, t, p = np.nonzero(md.off_limit_t > 0)
    em = md.entity_market
    return [(int(a), int(b), int(c)) for a, b, c in zip(e, t, p) if (em[a], b, c) in offered]


def balance_index(md: ModelData) -> list[tuple[int, int, int]]:
    """(market, type, period) triples with supply."""
    if md.off_market is None:
        return []
    return sorted(set(zip(md.off_market.tolist(), md.off_type.tolist(), md.year_period[md.off_year].tolist())))


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    uidx = use_index(md)
    if not uidx:
        return
    n_p = len(md.periods)
    scale = md.scale_t
    n_s = len(md.off_qty_t)
    m.OffsetBuy = pyo.Var(range(n_s), domain=pyo.NonNegativeReals, doc="offset credits bought from a supply step [Mt]")
    for s, v in enumerate(m.OffsetBuy.values()):
        v.setub(float(md.off_qty_t[s] / scale))
    m.OffsetUse = pyo.Var(uidx, domain=pyo.NonNegativeReals, doc="offset credits used by an entity [Mt]")
    users: dict[tuple[int, int, int], list] = {}
    for e, t, p in uidx:
        lim = md.off_limit_t[e, t, p]
        if np.isfinite(lim):
            m.OffsetUse[e, t, p].setub(float(lim / scale))
        reg.compliance[e * n_p + p].append((1.0, m.OffsetUse[e, t, p]))
        users.setdefault((int(md.entity_market[e]), t, p), []).append(m.OffsetUse[e, t, p])
    steps: dict[tuple[int, int, int], list] = {}
    for s in range(n_s):
        key = (int(md.off_market[s]), int(md.off_type[s]), int(md.year_period[md.off_year[s]]))
        steps.setdefault(key, []).append(m.OffsetBuy[s])

    def rule(_m, a, t, p):
        return pyo.quicksum(steps[a, t, p]) - pyo.quicksum(users.get((a, t, p), [])) == 0.0

    m.OffsetBalance = pyo.Constraint(
        balance_index(md), rule=rule, doc="credits bought = credits used [Mt]; dual = PV credit price"
    )
    coef = md.discount[md.off_year] * md.off_cost
    reg.cost.append(pyo.quicksum(float(c) * m.OffsetBuy[s] for s, c in enumerate(coef)))
