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

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from ...config import Scenario
from ..data import ModelData
from ..registry import COMPACT, Registry
from .base import (
    AccountItem,
    Feasibility,
    ReportContext,
    RuleReport,
    Supply,
    data_array,
    fill_in_order,
    markets_with,
    rounded,
)

if TYPE_CHECKING:
    import pyomo.environ as pyo

NAME = "shortfall"
STAGE = "entity"
#: the rule's items of the cost account (README "Cost account")
ACCOUNT = (
    AccountItem(
        "final_shortfall_purchases",
        "allowances the administrator buys for last-period shortfalls at final_shortfall_price_jpy_per_t, "
        "charged to the entities that fall short",
        1,
        "transfer",
        True,
    ),
)


def active(scn: Scenario) -> bool:
    return any(mc.penalty_multiplier is not None for mc in scn.markets.values())


def allocation_dependence(scn: Scenario) -> str | None:
    """The multiplier, fine and last-period price do not depend on the allocation."""
    return None


def feasibility(md: ModelData) -> Feasibility:
    """A market may fall short before the last period and make it up later at k >= 1 times the
    shortfall: with ``B' = Bank - Shortfall`` its pool is that of a market that may borrow before
    the last period (at a rate of 1 instead of k). With ``final_shortfall_price_jpy_per_t`` the
    administrator's purchase in the last period is unlimited."""
    last = np.zeros(len(md.periods), dtype=bool)
    last[-1] = True
    out = Feasibility()
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        if cfg.penalty_multiplier is None:
            continue
        out.borrowing.add(a)
        if cfg.final_shortfall_price_jpy_per_t is not None:
            out.supply.append(Supply(a, "the administrator's last-period purchase", np.where(last, np.inf, 0.0)))
    return out


def prepare(md: ModelData) -> None:
    """Nothing to prepare: the bounds come from BAU and the market's settings."""


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


def _bounds_t(md: ModelData, idx: list[tuple[int, int]]) -> np.ndarray:
    """Upper bound of each (entity, period) shortfall: no more than the entity emits, t."""
    return np.array([md.bau_t[e, md.period_years(p)].sum() for e, p in idx], dtype=float)


def _market_index(md: ModelData, idx: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return sorted({(int(md.entity_market[e]), p) for e, p in idx})


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    idx = index(md)
    if not idx:
        return
    import pyomo.environ as pyo

    n_p = len(md.periods)
    if reg.formulation == COMPACT:
        _build_compact(m, md, reg, idx)
        return
    m.Shortfall = pyo.Var(idx, domain=pyo.NonNegativeReals, doc="allowances not surrendered for the period [Mt]")
    last_df = float(md.discount[-1])
    final_terms = []
    for e, p in idx:
        cfg = md.market_config(int(md.entity_market[e]))
        v = m.Shortfall[e, p]
        v.setub(float(md.bau_t[e, md.period_years(p)].sum() / md.scale_t))
        reg.compliance[e * n_p + p].append((1.0, v))
        if p + 1 < n_p:
            assert cfg.penalty_multiplier is not None  # index() holds only markets with a multiplier
            reg.compliance[e * n_p + p + 1].append((-float(cfg.penalty_multiplier), v))
        else:
            assert cfg.final_shortfall_price_jpy_per_t is not None  # ... and their last period only with a price
            final_terms.append(last_df * float(cfg.final_shortfall_price_jpy_per_t) * v)
    if final_terms:
        reg.cost.append(pyo.quicksum(final_terms))
    reg.name(m.Shortfall, "shortfall")


def _build_compact(m: pyo.ConcreteModel, md: ModelData, reg: Registry, idx: list[tuple[int, int]]) -> None:
    """The market's shortfalls as one column per market and period (every entity's shortfall
    column has the same coefficients: +1 in its market's row of p, -k in that of p+1, and the
    same cost in the last period), bounded by the sum of the entities' bounds."""
    import pyomo.environ as pyo

    n_p = len(md.periods)
    bounds = _bounds_t(md, idx)
    midx = _market_index(md, idx)
    total = dict.fromkeys(midx, 0.0)
    for (e, p), b in zip(idx, bounds):
        total[int(md.entity_market[e]), p] += b
    m.MarketShortfall = pyo.Var(
        midx, domain=pyo.NonNegativeReals, doc="allowances the market's entities do not surrender [Mt]"
    )
    final_terms = []
    for a, p in midx:
        cfg = md.market_config(a)
        v = m.MarketShortfall[a, p]
        v.setub(total[a, p] / md.scale_t)
        reg.market_compliance[a, p].append((1.0, v))
        if p + 1 < n_p:
            assert cfg.penalty_multiplier is not None
            reg.market_compliance[a, p + 1].append((-float(cfg.penalty_multiplier), v))
        else:
            assert cfg.final_shortfall_price_jpy_per_t is not None
            final_terms.append(float(md.discount[-1]) * float(cfg.final_shortfall_price_jpy_per_t) * v)
    if final_terms:
        reg.cost.append(pyo.quicksum(final_terms))
    reg.name(m.MarketShortfall, "market_shortfall")


def expand(md: ModelData, values: dict[str, np.ndarray]) -> None:
    """Per-entity ``shortfall`` (in :func:`index` order) from a compact solution's market totals,
    split by :func:`~.base.fill_in_order` (entities in file order): not unique (module doc)."""
    if "market_shortfall" not in values or "shortfall" in values:
        return
    idx = index(md)
    bounds = _bounds_t(md, idx)
    out = np.zeros(len(idx))
    keys = np.array([int(md.entity_market[e]) * len(md.periods) + p for e, p in idx])
    for k, (a, p) in enumerate(_market_index(md, idx)):
        rows = np.flatnonzero(keys == a * len(md.periods) + p)
        out[rows] = fill_in_order(values["market_shortfall"][k], bounds[rows])
    values["shortfall"] = out


def entity_terms(md: ModelData, values: dict[str, np.ndarray]) -> np.ndarray:
    """(E*P,) what the shortfalls add to each entity's compliance row, t: +s in p, -k s in p+1."""
    n_p = len(md.periods)
    out = np.zeros(md.n_entities * n_p)
    if "shortfall" not in values:
        return out
    for (e, p), s in zip(index(md), values["shortfall"]):
        out[e * n_p + p] += s
        if p + 1 < n_p:
            out[e * n_p + p + 1] -= float(md.market_config(int(md.entity_market[e])).penalty_multiplier or 1.0) * s
    return out


def report(ctx: ReportContext) -> RuleReport:
    """Shortfalls per entity, non-compliant entities, fines and last-period purchases (the account's
    ``final_shortfall_purchases``, charged to the entities that fall short)."""
    md, vals, coords = ctx.md, ctx.solution.values, ctx.coords
    n_e, n_m, n_p = md.n_entities, len(md.markets), len(md.periods)
    em = md.entity_market
    raw = np.zeros((n_e, n_p))
    for k, (e, p) in enumerate(index(md)):
        raw[e, p] = max(float(vals["shortfall"][k]), 0.0)
    sf = np.where(raw < 1e-6, 0.0, raw)  # who counts as non-compliant: not a solver's rounding
    nonc = np.zeros((n_m, n_p), dtype=np.int64)
    np.add.at(nonc, em, (sf > 0).astype(np.int64))
    fines = np.array([[md.market_config(a).fine_jpy * nonc[a, p] for p in range(n_p)] for a in range(n_m)], dtype=float)
    # the last period's purchases in money: from the solution as it is, the objective's term
    final = np.zeros((n_m, n_p))
    entity_cost = np.zeros((n_e, n_p))
    for a in range(n_m):
        price = md.market_config(a).final_shortfall_price_jpy_per_t
        if price is not None:
            per_entity = raw[:, -1] * price * md.discount[-1] * (em == a)
            entity_cost[:, -1] += per_entity
            final[a, -1] = per_entity.sum()
    return RuleReport(
        variables={
            "shortfall": data_array(
                sf,
                ("entity", "period"),
                coords,
                "t",
                "allowances not surrendered for the period; owed x penalty_multiplier in the next period",
            ),
            "noncompliant_entities": data_array(
                nonc, ("market", "period"), coords, "1", "number of entities with a shortfall"
            ),
            "fines": data_array(
                fines,
                ("market", "period"),
                coords,
                "JPY",
                "fine_jpy x non-compliant entities (reported, not optimised)",
            ),
            "final_shortfall_cost": data_array(
                final.sum(axis=1),
                ("market",),
                coords,
                ctx.pv_units,
                "allowances bought by the administrator for last-period shortfalls",
            ),
        },
        entity_cost_pv=entity_cost,
        account_pv={"final_shortfall_purchases": final},
    )


def summary(res: xr.Dataset) -> list[str]:
    if not markets_with(res, "penalty_multiplier"):
        return []
    df = pd.DataFrame(
        {
            "shortfall_Mt": rounded(
                (res["shortfall"].groupby("entity_market").sum("entity") / 1e6).to_pandas().stack(), 4
            ),
            "noncompliant": res["noncompliant_entities"].to_pandas().stack(),
            "fines_mJPY": (res["fines"] / 1e6).to_pandas().stack(),
        }
    )
    lines = [
        "Shortfalls (made up x penalty_multiplier next period; last period bought by the administrator),",
        "non-compliant entities and fines:",
        df.to_string(),
    ]
    if float(res["shortfall"].sum()) == 0:
        lines.append("(none: complying costs less than the make-up, or than the administrator's price)")
    lines.append("")
    return lines


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


#: why a rolling horizon refuses this rule (nationcap/engines/foresight.py)
FORESIGHT_REFUSED = (
    "a shortfall is made up k times in the next period: a window's last period would fall short against an "
    "obligation in a period the window empties, and the kept period's make-up would have to be carried into "
    "the next window entity by entity; set penalty_multiplier only with perfect foresight"
)
