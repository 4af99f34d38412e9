r"""Shortfall and the make-up obligation (Tokyo: 1.3x the shortfall in the next period).

Only for markets with ``penalty_multiplier`` (k below). Without it there is no shortfall.

Variables
    Shortfall[i, p]   allowances entity i fails to surrender for period p, Mt,
                      0 <= Shortfall[i, p] <= sum_{y in p} BAU[i, y] / scale_t (no more than it emits)

Registered terms
    EntityCompliance[i, p]    += Shortfall[i, p]          (less is surrendered now)
    EntityCompliance[i, p+1]  -= k * Shortfall[i, p]      (k times as much is owed next period)

Last period. There is no next period to make a shortfall up in. With
``final_shortfall_price_jpy_per_t = c`` the administrator buys allowances on the entity's behalf
at ``c`` (JPY/t in the money of the last model year), so the objective gains
``d[last year] * c * Shortfall[i, last]``; without it the last-period shortfall is fixed to 0
(full compliance is required at the end of the horizon). Either way nothing is silent: shortfalls
are reported per entity and period, with the number of non-compliant entities and
``fine_jpy`` x that number (the fine is reported, not optimised).

Economics. Falling short in p costs k tonnes in p+1, so with PV prices an entity falls short iff
``price_pv[p] > k * price_pv[p+1]``; the market then clears with ``price_pv[p] = k * price_pv[p+1]``.
With banking and k > 1 that needs a period much tighter than the next one; in the last period a
shortfall happens iff the market price would exceed the administrator's price. Prices decide how
much a market falls short, not which entities: they all face the same price, so the split among
entities (and with it the count of non-compliant entities and the fines) is one of many optimal
splits; the LP's vertex solution concentrates the shortfall on few entities.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .inputs import ModelData
from .registry import Registry


def index(md: ModelData) -> list[tuple[int, int]]:
    out = []
    n_p = len(md.periods)
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        if cfg.penalty_multiplier is None:
            continue
        periods = range(n_p) if cfg.final_shortfall_price_jpy_per_t is not None else range(n_p - 1)
        for e in (md.entity_market == a).nonzero()[0]:
            out += [(int(e), p) for p in periods]
    return out


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    idx = index(md)
    if not idx:
        return
    n_p = len(md.periods)
    m.Shortfall = pyo.Var(idx, domain=pyo.NonNegativeReals, doc="allowances not surrendered for the period [Mt]")
    last_df = float(md.discount[-1])
    final_terms = []
    for e, p in idx:
        cfg = md.market_config(int(md.entity_market[e]))
        v = m.Shortfall[e, p]
        v.setub(float(md.bau_t[e, md.period_years(p)].sum() / md.scale_t))
        reg.compliance[e * n_p + p].append((1.0, v))
        if p + 1 < n_p:
            reg.compliance[e * n_p + p + 1].append((-float(cfg.penalty_multiplier), v))
        else:
            final_terms.append(last_df * float(cfg.final_shortfall_price_jpy_per_t) * v)
    if final_terms:
        reg.cost.append(pyo.quicksum(final_terms))
