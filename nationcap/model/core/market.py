r"""Market clearing and the bank, one market at a time (a link between markets is a pool term of
:mod:`nationcap.model.rules.link`).

Sets
    M   markets;  P  periods in order;  I_m  entities of market m

Variables
    Bank[m, p]     allowances held in the market's bank at the end of period p, Mt
                   banking = true:   Bank >= 0           (unused allowances carry over)
                   banking = false:  Bank <= 0           (nothing carries forward)
                   borrowing = true: Bank may be < 0 before the last period (a later period's
                                     allowances are used early); Bank[m, last] >= 0 always
    Expire[m, p]   allowances that lapse at the end of p (only when banking = false), Mt, >= 0

Constraints
    MarketClearing[m, p]::

        Bank[m, p-1] - sum_{i in I_m} NetPurchase[i, p] - Bank[m, p] - Expire[m, p] = 0

    (``Bank[m, -1]`` = 0.) Rule modules register further pool terms (:mod:`nationcap.model.registry`): allowances
    issued at the price ceiling (+), withdrawn at the floor (-), released (+) or withheld (-) by a reserve, imported over an external link (+)
    and the auctioned share of the cap (+, a constant moved to the right-hand side). Read it as the market's allowance pool in period p: it receives what
    was carried in, pays out the entities' net purchases, carries the rest out or lets it lapse.
    Summed over entities this gives the cap identity
    ``sum_i emissions[i, p] = cap[m, p] + Bank[m, p-1] - Bank[m, p] - Expire[m, p]``.

Compact formulation (``[solver] formulation = "compact"``, and sifting). ``NetPurchase`` is free
and appears only in its entity's row and its market's row, so each entity row merely *defines*
it: substituting ``NetPurchase[i, p] = need[i, p] / scale_t - sum_{j in (i, p)} Abate[j] - (the
rules' entity terms)`` into MarketClearing gives one row per market and period::

    sum_{j in (m, p)} Abate[j] + sum_{i in I_m} (rule terms of i, p)
        + Bank[m, p-1] - Bank[m, p] - Expire[m, p] + pool terms
        = (sum_{i in I_m} need[i, p] - abatement fixed in the market's rows) / scale_t - pool constants

with ``need[i, p] = sum_{y in p} BAU[i, y] - alloc[i, p]``. It is the same LP with the free
variables eliminated, so it has the same optimum and the same duals: the market row's dual is the
price, and every entity's compliance dual equals its market's (a market-level solution can always
be split among entities that all trade at one price). Net purchases are computed after the solve
from the same identity (:mod:`nationcap.engines.pyomo_highs`).

Duals
    The dual of MarketClearing[m, p] is the present-value allowance price of period p in
    JPY/t (objective in million JPY, rows in Mt). Raising the row's right-hand side by one Mt
    removes one Mt of allowances from the pool, so the dual is >= 0 for a binding cap. Every
    EntityCompliance[i, p] row of the market has the same dual (NetPurchase is free), which is the
    "one price per market and period" of an allowance market. Conversion to each year's money
    happens only in :mod:`nationcap.results.prices`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data import ModelData, bank_bounds
from ..registry import BANK, EXPIRED, FULL, MARKET_BALANCE, Registry

if TYPE_CHECKING:  # Pyomo is imported when a model is built, not when this module is
    import pyomo.environ as pyo


def compact_rhs_values(md: ModelData, fixed_t: np.ndarray | None, pool_constant: dict) -> np.ndarray:
    """(M*P,) right-hand sides of the compact market rows, Mt (row a * P + p)."""
    n_m, n_p = len(md.markets), len(md.periods)
    need = np.zeros((n_m, n_p))
    np.add.at(need, md.entity_market, md.need_t())
    if fixed_t is not None:
        np.add.at(need, (md.entity_market[md.col_entity], md.col_period), -fixed_t)
    rhs = need / md.scale_t
    for (a, p), c in pool_constant.items():
        rhs[a, p] -= c
    return rhs.ravel()


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    import pyomo.environ as pyo

    n_m, n_p = len(md.markets), len(md.periods)
    m.MP = pyo.Set(
        initialize=[(a, p) for a in range(n_m) for p in range(n_p)], ordered=True, doc="(market, period) pairs"
    )
    m.Bank = pyo.Var(m.MP, doc="bank at the end of the period [Mt]")
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        for p in range(n_p):
            lo, hi = bank_bounds(cfg.banking, cfg.borrowing, p == n_p - 1)
            m.Bank[a, p].setlb(lo)
            m.Bank[a, p].setub(hi)
    m.Expire = pyo.Var(md.expire_index(), domain=pyo.NonNegativeReals, doc="allowances that lapse [Mt]")
    members = [np.flatnonzero(md.entity_market == a) for a in range(n_m)]

    def rule(_m, a, p):
        purchases = pyo.quicksum(_m.NetPurchase[int(i) * n_p + p] for i in members[a])
        carried_in = _m.Bank[a, p - 1] if p > 0 else 0.0
        # not .get(): a Pyomo IndexedVar is no Mapping and has no .get (AttributeError)
        lapse = _m.Expire[a, p] if (a, p) in _m.Expire else 0.0  # noqa: SIM401
        lhs = carried_in - purchases - _m.Bank[a, p] - lapse
        if (a, p) in reg.pool:
            lhs = lhs + pyo.quicksum(c * v for c, v in reg.pool[a, p])
        return lhs == -reg.pool_constant.get((a, p), 0.0)

    if reg.formulation == FULL:
        m.MarketClearing = pyo.Constraint(m.MP, rule=rule, doc="allowance pool balance [Mt]; dual = PV price")
    else:
        _build_compact(m, md, reg, members)
    reg.name(m.Bank, BANK)
    reg.name(m.Expire, EXPIRED)
    reg.name(m.MarketClearing, MARKET_BALANCE)


def _build_compact(m: pyo.ConcreteModel, md: ModelData, reg: Registry, members: list[np.ndarray]) -> None:
    """One row per market and period holding the entities' requirements (see the module doc)."""
    import pyomo.environ as pyo

    n_m, n_p = len(md.markets), len(md.periods)
    key = md.entity_market[md.col_entity] * n_p + md.col_period
    held = np.arange(len(key)) if reg.columns is None else reg.columns
    order = held[np.argsort(key[held], kind="stable")]
    bounds = np.searchsorted(key[order], np.arange(n_m * n_p + 1))
    cols = {
        (a, p): order[bounds[a * n_p + p] : bounds[a * n_p + p + 1]].tolist() for a in range(n_m) for p in range(n_p)
    }
    rhs = compact_rhs_values(md, reg.fixed_t, reg.pool_constant)
    # mutable, so that a persistent solver can change allocations (factors) without a rebuild
    m.MarketRHS = pyo.Param(
        m.MP,
        initialize={(a, p): float(rhs[a * n_p + p]) for a in range(n_m) for p in range(n_p)},
        mutable=True,
        doc="(sum of the market's BAU - free allocation - fixed abatement) / scale_t - pool constants [Mt]",
    )
    abate, extra = m.Abate, reg.compliance

    def rule(_m, a, p):
        lhs = pyo.quicksum(abate[j] for j in cols[a, p])
        terms = [t for i in members[a] for t in extra.get(int(i) * n_p + p, ())]
        terms += reg.market_compliance.get((a, p), [])
        if terms:
            lhs = lhs + pyo.quicksum(c * v for c, v in terms)
        carried_in = _m.Bank[a, p - 1] if p > 0 else 0.0
        lapse = _m.Expire[a, p] if (a, p) in _m.Expire else 0.0  # noqa: SIM401 - an IndexedVar has no .get
        lhs = lhs + carried_in - _m.Bank[a, p] - lapse
        if (a, p) in reg.pool:
            lhs = lhs + pyo.quicksum(c * v for c, v in reg.pool[a, p])
        return lhs == _m.MarketRHS[a, p]

    m.MarketClearing = pyo.Constraint(m.MP, rule=rule, doc="market balance [Mt]; dual = PV price")
    mp = md.entity_market[md.col_entity] * n_p + md.col_period
    reg.column_rows.append((MARKET_BALANCE, mp, np.ones(len(mp))))
