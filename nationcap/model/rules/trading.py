r"""Trading only from the n-th year of each period (Tokyo: trading starts in the 2nd year).

The rule as an explicit formulation: with ``trading_from_year = n > 1`` a market's net purchases
are split by year and trades in the first n-1 years of a period are impossible:

Variables
    Trade[i, y]   allowances entity i buys (+) or sells (-) in year y, Mt, for the years of each
                  period from its n-th year on

Constraints
    TradeTotal[i, p]::   NetPurchase[i, p] - sum_{y in p, y >= first(p) + n - 1} Trade[i, y] = 0

Can the rule bind? Compliance is checked once per period on the period's total and the model has
perfect foresight and no within-period holding or cash constraint, so any pattern of trades can
be moved into the allowed years without changing anything an entity surrenders: the rule never
binds as long as every period has at least n years (the scenario check requires that, and that
is how nationcap enforces the rule). The explicit constraints add nothing but redundant free
variables (at full scale they double the solve time), so :func:`add_explicit_trades` is not part
of the standard build; ``tests/model/rules/test_rules.py`` adds it to a built model and shows identical
prices, abatement and costs. The rule would bind in a model with annual surrender or a
within-period liquidity limit, which nationcap does not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..data import ModelData

if TYPE_CHECKING:
    import pyomo.environ as pyo


def add_explicit_trades(m: pyo.ConcreteModel, md: ModelData) -> None:
    """Add Trade and TradeTotal to a built model (for demonstrating that the rule cannot bind)."""
    import pyomo.environ as pyo

    n_p = len(md.periods)
    markets = [a for a in range(len(md.markets)) if md.market_config(a).trading_from_year > 1]
    if not markets:
        return
    allowed: dict[tuple[int, int], list[int]] = {}
    for a in markets:
        n = md.market_config(a).trading_from_year
        for e in np.flatnonzero(md.entity_market == a):
            for p in range(n_p):
                allowed[int(e), p] = md.period_years(p)[n - 1 :].tolist()
    m.Trade = pyo.Var(
        [(e, y) for (e, p), ys in allowed.items() for y in ys],
        domain=pyo.Reals,
        doc="allowances bought (+) or sold (-) in a year [Mt]",
    )

    def rule(_m, e, p):
        return _m.NetPurchase[e * n_p + p] - pyo.quicksum(_m.Trade[e, y] for y in allowed[e, p]) == 0.0

    m.TradeTotal = pyo.Constraint(list(allowed), rule=rule, doc="net purchase = trades in allowed years [Mt]")
