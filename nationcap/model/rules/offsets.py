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
    OffsetLimit[i, t, p]   (``limit_basis = "emissions"``: the limit is a share f of the entity's
    own emissions in the period, which its abatement lowers)::

        OffsetUse[i, t, p] + f * sum_{j in (i, p)} Abate[j] <= f * sum_{y in p} bau[i, y] / scale_t

    (the compact formulation has one row per market, type and period, with the market's
    ``MarketOffsetUse`` and every abatement column of its entities: the sum of the entity rows,
    which loses nothing, since credits and allowances are traded freely between the entities and
    any market total within the summed limit can be split among them within their own; its dual
    is the value of one more credit allowed, and it enters every abatement column's reduced
    cost). Emissions here are BAU minus the entity's own abatement; what other rules avoid
    (the electricity overlap's relief of power suppliers) is not counted.

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

from dataclasses import dataclass
from dataclasses import replace as _replace
from typing import TYPE_CHECKING, Any

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

NAME = "offsets"
STAGE = "entity"
#: the rule's items of the cost account (README "Cost account")
ACCOUNT = (AccountItem("offsets", "offset credits bought, each supply step at its own price", 1, "resource", True),)


@dataclass(frozen=True)
class OffsetData:
    """Offset supply steps usable in the model and the per-entity purchase limits."""

    types: tuple[str, ...]
    market: np.ndarray  # (S,) market of each supply step
    type: np.ndarray  # (S,) index into types
    year: np.ndarray  # (S,) year index
    qty_t: np.ndarray  # (S,) credits on offer, t
    cost: np.ndarray  # (S,) JPY/t in the step's year money
    limit_t: np.ndarray  # (E, T, P) per-entity limit; inf = none; 0 = not usable
    #: (E, T) share f of an emissions-based limit (limit_basis = "emissions"); 0 where the limit is
    #: fixed. ``limit_t`` then holds f x BAU of the period, the limit when nothing is abated
    emissions_fraction: np.ndarray | None = None


def active(scn: Scenario) -> bool:
    return any(mc.use_offsets for mc in scn.markets.values())


def allocation_dependence(scn: Scenario) -> str | None:
    """Limits based on the required reduction (base x factor x years) move with the factor."""
    for name, mc in scn.markets.items():
        if mc.use_offsets and any(r.limit_basis == "required_reduction" for r in mc.offsets.values()):
            return f"markets.{name}.offsets limits based on the required reduction (they depend on the factor)"
    return None


def feasibility(md: ModelData) -> Feasibility:
    """Every credit offered to a market with ``use_offsets`` in each period's years (usable or
    not: per-entity limits only lower it)."""
    offered = np.zeros((len(md.markets), len(md.periods)))
    od = data(md)
    if od is not None:
        np.add.at(offered, (od.market, md.year_period[od.year]), od.qty_t)
    return Feasibility(
        supply=[
            Supply(a, "offsets offered", offered[a])
            for a, name in enumerate(md.markets)
            if md.scenario.markets[name].use_offsets
        ]
    )


def data(md: ModelData) -> OffsetData | None:
    return md.rule_data.get(NAME)


def prepare(md: ModelData) -> None:
    """Offset supply steps of markets with ``use_offsets`` and the per-entity limits.

    A credit counts toward compliance in the period of the year it is offered in. Limit of
    entity i for type t in period p: ``limit_fraction x basis[i, p]`` where the basis is the
    required reduction (base x factor x years) or base-year emissions x years; no limit table
    for a type means no limit.
    """
    scn, off = md.scenario, md.dataset.offsets
    using = [a for a, m in enumerate(md.markets) if scn.markets[m].use_offsets]
    if off is None or not using:
        return
    mi = pd.Index(md.markets).get_indexer(off["market"])
    yi = pd.Index(md.years).get_indexer(off["year"])
    keep = np.isin(mi, using) & (yi >= 0) & (off["quantity_t"].to_numpy() > 0)
    if not keep.any():
        return
    sub = off[keep]
    types = tuple(sorted(sub["offset_type"].unique()))
    off_market = mi[keep]
    off_type = pd.Index(types).get_indexer(sub["offset_type"])
    n_e, n_t, n_p = md.n_entities, len(types), len(md.periods)
    limit = np.zeros((n_e, n_t, n_p))
    on_emissions = np.zeros((n_e, n_t))
    bau_p = np.stack([md.bau_t[:, md.period_years(p)].sum(axis=1) for p in range(n_p)], axis=1)
    years_p = np.array([len(md.period_years(p)) for p in range(n_p)], dtype=float)
    assert md.required_t is not None and md.base_t is not None  # set by model.prepare before the rules
    for a in using:
        cfg = scn.markets[md.markets[a]]
        rows = md.entity_market == a
        offered = set(off_type[off_market == a])
        for t, tname in enumerate(types):
            if t not in offered:
                continue
            rule = cfg.offsets.get(tname)
            if rule is None:
                limit[rows, t, :] = np.inf
            elif rule.limit_basis == "required_reduction":
                limit[rows, t, :] = rule.limit_fraction * md.required_t[rows, :]
            elif rule.limit_basis == "emissions":
                limit[rows, t, :] = rule.limit_fraction * bau_p[rows, :]
                on_emissions[rows, t] = rule.limit_fraction
            else:
                limit[rows, t, :] = rule.limit_fraction * md.base_t[rows, None] * years_p[None, :]
    md.rule_data[NAME] = OffsetData(
        types=types,
        market=off_market,
        type=off_type,
        year=yi[keep],
        qty_t=sub["quantity_t"].to_numpy(dtype=float),
        cost=sub["cost_jpy_per_t"].to_numpy(dtype=float),
        limit_t=limit,
        emissions_fraction=on_emissions if on_emissions.any() else None,
    )


def use_index(md: ModelData) -> list[tuple[int, int, int]]:
    """(entity, type, period) triples that get an OffsetUse variable."""
    od = data(md)
    if od is None:
        return []
    offered = set(zip(od.market, od.type, md.year_period[od.year]))
    e, t, p = np.nonzero(od.limit_t > 0)
    em = md.entity_market
    return [(int(a), int(b), int(c)) for a, b, c in zip(e, t, p) if (em[a], b, c) in offered]


def balance_index(md: ModelData) -> list[tuple[int, int, int]]:
    """(market, type, period) triples with supply."""
    od = data(md)
    if od is None:
        return []
    return sorted(set(zip(od.market.tolist(), od.type.tolist(), md.year_period[od.year].tolist())))


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    uidx = use_index(md)
    od = data(md)
    if not uidx or od is None:
        return
    import pyomo.environ as pyo

    n_p = len(md.periods)
    scale = md.scale_t
    n_s = len(od.qty_t)
    m.OffsetBuy = pyo.Var(range(n_s), domain=pyo.NonNegativeReals, doc="offset credits bought from a supply step [Mt]")
    for s, v in enumerate(m.OffsetBuy.values()):
        v.setub(float(od.qty_t[s] / scale))
    users: dict[tuple[int, int, int], list] = {}
    if reg.formulation == COMPACT:
        # every entity's use column of one (market, type, period) has the same coefficients (+1 in
        # the market row, -1 in the balance, no cost): one column bounded by the sum of the limits
        limits = _market_limits_t(md, uidx)
        m.MarketOffsetUse = pyo.Var(
            list(limits), domain=pyo.NonNegativeReals, doc="offset credits used by a market's entities [Mt]"
        )
        for (a, t, p), lim in limits.items():
            v = m.MarketOffsetUse[a, t, p]
            if np.isfinite(lim):
                v.setub(float(lim / scale))
            reg.market_compliance[a, p].append((1.0, v))
            users[a, t, p] = [v]
        reg.name(m.MarketOffsetUse, "market_offset_use")
    else:
        m.OffsetUse = pyo.Var(uidx, domain=pyo.NonNegativeReals, doc="offset credits used by an entity [Mt]")
        for e, t, p in uidx:
            lim = od.limit_t[e, t, p]
            if np.isfinite(lim):
                m.OffsetUse[e, t, p].setub(float(lim / scale))
            reg.compliance[e * n_p + p].append((1.0, m.OffsetUse[e, t, p]))
            users.setdefault((int(md.entity_market[e]), t, p), []).append(m.OffsetUse[e, t, p])
        reg.name(m.OffsetUse, "offset_use")
    if od.emissions_fraction is not None:
        _build_emission_limits(m, md, reg, od, users)
    steps: dict[tuple[int, int, int], list] = {}
    for s in range(n_s):
        key = (int(od.market[s]), int(od.type[s]), int(md.year_period[od.year[s]]))
        steps.setdefault(key, []).append(m.OffsetBuy[s])

    def rule(_m, a, t, p):
        return pyo.quicksum(steps[a, t, p]) - pyo.quicksum(users.get((a, t, p), [])) == 0.0

    m.OffsetBalance = pyo.Constraint(
        balance_index(md), rule=rule, doc="credits bought = credits used [Mt]; dual = PV credit price"
    )
    coef = md.discount[od.year] * od.cost
    reg.cost.append(pyo.quicksum(float(c) * m.OffsetBuy[s] for s, c in enumerate(coef)))
    reg.name(m.OffsetBuy, "offset_buy")
    reg.name(m.OffsetBalance, "offset_balance")


def _limit_rows(md: ModelData, reg: Registry, od: OffsetData) -> list[tuple[int, int, int, int]]:
    """Rows of the emissions-based limits: (row owner, type, period, fraction index) where the
    owner is an entity (full) or a market (compact); one row per owner, type and period in use."""
    assert od.emissions_fraction is not None
    compact = reg.formulation == COMPACT
    out = set()
    for e, t, p in use_index(md):
        if od.emissions_fraction[e, t] > 0:
            out.add((int(md.entity_market[e]) if compact else e, t, p, e))
    seen: dict[tuple[int, int, int], int] = {}
    for owner, t, p, e in sorted(out):
        seen.setdefault((owner, t, p), e)
    return [(o, t, p, e) for (o, t, p), e in sorted(seen.items())]


def _build_emission_limits(m: pyo.ConcreteModel, md: ModelData, reg: Registry, od: OffsetData, users: dict) -> None:
    """``OffsetLimit`` rows (module docstring): credits used + f x abatement <= f x BAU."""
    import pyomo.environ as pyo

    assert od.emissions_fraction is not None
    compact = reg.formulation == COMPACT
    n_p = len(md.periods)
    rows = _limit_rows(md, reg, od)
    owner_of_col = md.entity_market[md.col_entity] if compact else md.col_entity
    col_p = md.col_period
    held = np.ones(len(md.col_cost), dtype=bool) if reg.in_model is None else reg.in_model
    fixed = np.zeros(len(md.col_cost)) if reg.fixed_t is None else reg.fixed_t
    # the columns of each (owner, period), and what is fixed outside the model there
    key = owner_of_col * n_p + col_p
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange((len(md.markets) if compact else md.n_entities) * n_p + 1))
    bau_owner = np.zeros(((len(md.markets) if compact else md.n_entities), n_p))
    for p in range(n_p):
        bau_p = md.bau_t[:, md.period_years(p)].sum(axis=1)
        if compact:
            np.add.at(bau_owner[:, p], md.entity_market, bau_p)
        else:
            bau_owner[:, p] = bau_p
    fixed_owner = np.bincount(key, weights=fixed, minlength=bau_owner.size).reshape(bau_owner.shape)
    frac = {(o, t, p): float(od.emissions_fraction[e, t]) for o, t, p, e in rows}
    index = [(o, t, p) for o, t, p, _ in rows]

    def rule(_m, o, t, p):
        f = frac[o, t, p]
        cols = order[bounds[o * n_p + p] : bounds[o * n_p + p + 1]]
        use = users[o, t, p] if compact else [_m.OffsetUse[o, t, p]]
        abate = pyo.quicksum(_m.Abate[int(j)] for j in cols if held[j])
        return pyo.quicksum(use) + f * abate <= f * float(bau_owner[o, p] - fixed_owner[o, p]) / md.scale_t

    m.OffsetLimit = pyo.Constraint(index, rule=rule, doc="credits used <= limit_fraction x own emissions [Mt]")
    reg.name(m.OffsetLimit, "offset_limit")
    # every abatement column enters its owner's limit rows (one per type) with coefficient f
    pos = {k: i for i, k in enumerate(index)}
    for t in range(len(od.types)):
        row = np.array([pos.get((int(o), t, int(p)), -1) for o, p in zip(owner_of_col, col_p)], dtype=np.int64)
        f = np.array([frac.get((int(o), t, int(p)), 0.0) for o, p in zip(owner_of_col, col_p)])
        if (row >= 0).any():
            reg.column_rows.append(("offset_limit", np.maximum(row, 0), np.where(row >= 0, f, 0.0)))


def _market_limits_t(md: ModelData, uidx: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], float]:
    """(market, type, period) -> the sum of its entities' limits, t (inf if any has none)."""
    od = data(md)
    assert od is not None
    out: dict[tuple[int, int, int], float] = {}
    for e, t, p in uidx:
        key = (int(md.entity_market[e]), t, p)
        out[key] = out.get(key, 0.0) + float(od.limit_t[e, t, p])
    return dict(sorted(out.items()))


def expand(md: ModelData, values: dict[str, np.ndarray]) -> None:
    """Per-entity ``offset_use`` (in :func:`use_index` order) from a compact solution's market
    totals, split by :func:`~.base.fill_in_order` (entities in file order; the split is not
    unique: every split within the limits gives the same market result)."""
    if "market_offset_use" not in values or "offset_use" in values:
        return
    od = data(md)
    assert od is not None
    uidx = use_index(md)
    keys = [(int(md.entity_market[e]), t, p) for e, t, p in uidx]
    limits = np.array([od.limit_t[e, t, p] for e, t, p in uidx])
    if od.emissions_fraction is not None and "abatement" in values:  # the limits at the solution
        n_p = len(md.periods)
        abated = np.bincount(
            md.col_entity * n_p + md.col_period, weights=values["abatement"], minlength=md.n_entities * n_p
        ).reshape(md.n_entities, n_p)
        for k, (e, t, p) in enumerate(uidx):
            f = od.emissions_fraction[e, t]
            if f > 0:
                limits[k] = max(f * (od.limit_t[e, t, p] / f - abated[e, p]), 0.0)
    out = np.zeros(len(uidx))
    for k, key in enumerate(_market_limits_t(md, uidx)):
        rows = np.array([i for i, x in enumerate(keys) if x == key], dtype=np.int64)
        out[rows] = fill_in_order(values["market_offset_use"][k], limits[rows])
    values["offset_use"] = out


def entity_terms(md: ModelData, values: dict[str, np.ndarray]) -> np.ndarray:
    """(E*P,) what the credits used add to each entity's compliance row, t."""
    n_p = len(md.periods)
    out = np.zeros(md.n_entities * n_p)
    if "offset_use" in values:
        for (e, _, p), x in zip(use_index(md), values["offset_use"]):
            out[e * n_p + p] += x
    return out


def report(ctx: ReportContext) -> RuleReport:
    """Credits used per entity, bought per market, their PV price; their cost to entities (at the
    clearing price) and the account's item ``offsets`` (at the supply steps' prices)."""
    md, vals, duals = ctx.md, ctx.solution.values, ctx.solution.duals
    od = data(md)
    if od is None:
        return RuleReport()
    n_e, n_m, n_p = md.n_entities, len(md.markets), len(md.periods)
    em = md.entity_market
    types = np.array(od.types, dtype=str)
    c = {**ctx.coords, "offset_type": types}
    used = np.zeros((n_e, len(types), n_p))
    for k, (e, t, p) in enumerate(use_index(md)):
        used[e, t, p] = vals["offset_use"][k]
    bought = np.zeros((n_m, len(types), n_p))
    cost = np.zeros((n_m, n_p))
    buy = np.maximum(vals.get("offset_buy", np.zeros(len(od.qty_t))), 0.0)
    np.add.at(bought, (od.market, od.type, md.year_period[od.year]), buy)
    # what the credits cost: each step at its own price (the objective's term), not the clearing price
    np.add.at(cost, (od.market, md.year_period[od.year]), buy * od.cost * md.discount[od.year])
    oprice = np.full((n_m, len(types), n_p), np.nan)
    for k, (a, t, p) in enumerate(balance_index(md)):
        oprice[a, t, p] = duals["offset_balance"][k] if "offset_balance" in duals else 0.0
    oprice = np.where(np.abs(oprice) < 1e-6, 0.0, oprice)
    entity_cost = np.einsum("etp,etp->ep", used, np.nan_to_num(oprice[em]))
    return RuleReport(
        variables={
            "offsets_used": data_array(
                used, ("entity", "offset_type", "period"), c, "t", "offset credits surrendered for the period"
            ),
            "offsets_bought": data_array(
                bought, ("market", "offset_type", "period"), c, "t", "offset credits bought from the supply steps"
            ),
            "offset_price_pv": data_array(
                oprice,
                ("market", "offset_type", "period"),
                c,
                ctx.pv_price_units,
                "clearing price of the credit type in the period (dual of the offset balance; NaN = no supply)",
            ),
        },
        entity_cost_pv=entity_cost,
        account_pv={"offsets": cost},
    )


def summary(res: xr.Dataset) -> list[str]:
    if not markets_with(res, "use_offsets") or "offsets_bought" not in res:
        return []
    off = rounded((res["offsets_bought"].to_dataframe()["offsets_bought"] / 1e6).unstack("period"), 3)
    price = rounded(res["offset_price_pv"].to_dataframe()["offset_price_pv"].unstack("period"), 0)
    return [
        "Offset credits bought (Mt) and their PV price (JPY/t; NaN = no supply):",
        pd.concat({"Mt": off, "JPY_per_t": price}, axis=1).to_string(),
        "",
    ]


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


def window(md: ModelData, inside_year: np.ndarray) -> OffsetData | None:
    """Under a rolling horizon: no credits offered in the years outside the window
    (``inside_year``: (Y,) bool). Credits count in the period of their year, limits are per
    entity, type and period, and credits are not banked: no state crosses periods."""
    od = data(md)
    return None if od is None else _replace(od, qty_t=np.where(inside_year[od.year], od.qty_t, 0.0))


def period_keys(md: ModelData) -> dict[str, list[tuple[Any, int]]]:
    """Under a rolling horizon: each entry of the offsets' concepts with its period."""
    od = data(md)
    if od is None:
        return {}
    yp = [int(p) for p in md.year_period]
    uidx = use_index(md)
    return {
        "offset_buy": [(s, yp[int(y)]) for s, y in enumerate(od.year)],
        "offset_balance": [(key, key[2]) for key in balance_index(md)],
        "offset_use": [(key, key[2]) for key in uidx],
        "market_offset_use": [(key, key[2]) for key in _market_limits_t(md, uidx)],
    }
