r"""Shortfall and the make-up obligation (Tokyo: 1.3x the shortfall in the next period).

Only for markets with ``penalty_multiplier`` (k below). Without it there is no shortfall.

Variables
    Shortfall[i, p]   allowances entity i fails to surrender for period p, Mt, >= 0

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
    for (e, p) in idx:
        cfg = md.market_config(int(md.entity_market[e]))
        v = m.Shortfall[e, p]
        reg.compliance[e * n_p + p].append((1.0, v))
        if p + 1 < n_p:
            reg.compliance[e * n_p + p + 1].append((-float(cfg.penalty_multiplier), v))
        else:
            final_terms.append(last_df * float(cfg.final_shortfall_price_jpy_per_t) * v)
    if final_terms:
        reg.cost.append(pyo.quicksum(final_terms))
