r"""Entity compliance: each entity covers its emissions in every period.

Sets
    I        entities;  P  compliance periods;  Y_p  years of period p

Parameters
    bau[i, y]        BAU emissions, t
    alloc[i, p]      free allocation for the period, t (see :mod:`nationcap.derive.allocation`)

Variables
    NetPurchase[i, p]   allowances bought minus sold in period p, Mt (free sign: < 0 = seller)

Constraints
    EntityCompliance[i, p]  (one row per entity and period)::

        sum_{y in Y_p} emissions[i, y] = alloc[i, p] + NetPurchase[i, p]

    written with the abatement columns on the left (all in Mt)::

        sum_{j in (i, p)} Abate[j] + NetPurchase[i, p] = (sum_{y in Y_p} bau[i, y] - alloc[i, p]) / scale_t

Rule modules add terms to the left side through the registry (:mod:`nationcap.model.registry`):
offsets used (:mod:`nationcap.model.rules.offsets`), shortfalls
(:mod:`nationcap.model.rules.shortfall`) and the power suppliers' share of electricity saved
(:mod:`nationcap.model.rules.overlap`).

The row is an equality, so ``NetPurchase`` is the entity's allowance position: what it must buy
(or may sell) given its emissions. Any surplus an entity does not use is sold into the market
pool, where it is banked or expires (:mod:`nationcap.model.core.market`). With ``<=`` instead, the
optimum would be the same but net purchases would be undetermined whenever the price is zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data import ModelData
from ..registry import ENTITY_COMPLIANCE, FULL, NET_PURCHASE, Registry

if TYPE_CHECKING:  # Pyomo is imported when a model is built, not when this module is
    import pyomo.environ as pyo


def rhs_values(md: ModelData) -> np.ndarray:
    """Right-hand sides of the compliance rows in row order (k = entity * P + period), Mt."""
    return md.need_t().ravel() / md.scale_t


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    if reg.formulation != FULL:
        return  # compact: the market rows hold the entities' requirements (core/market.py)
    import pyomo.environ as pyo

    n_rows = md.n_entities * len(md.periods)
    rhs = rhs_values(md)
    m.EP = pyo.RangeSet(0, n_rows - 1, doc="(entity, period) pairs, k = entity * P + period")
    # mutable, so that a persistent solver can change allocations (factors) without a rebuild
    m.ComplianceRHS = pyo.Param(
        m.EP,
        initialize=dict(enumerate(rhs.tolist())),
        mutable=True,
        doc="(period BAU - free allocation) / scale_t [Mt]",
    )
    m.NetPurchase = pyo.Var(m.EP, domain=pyo.Reals, doc="allowances bought minus sold [Mt]")
    start = md.row_start
    abate = m.Abate
    extra = reg.compliance

    def rule(_m, k):
        cols = range(int(start[k]), int(start[k + 1]))
        lhs = pyo.quicksum(abate[j] for j in cols) + _m.NetPurchase[k]
        if k in extra:
            lhs = lhs + pyo.quicksum(c * v for c, v in extra[k])
        return lhs == _m.ComplianceRHS[k]

    m.EntityCompliance = pyo.Constraint(m.EP, rule=rule, doc="entity emissions = allocation + net purchase [Mt]")
    reg.name(m.NetPurchase, NET_PURCHASE)
    reg.name(m.EntityCompliance, ENTITY_COMPLIANCE)
