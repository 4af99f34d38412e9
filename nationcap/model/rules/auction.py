r"""Auctioned share of the cap: part of each period's allowances is sold instead of given free.

Parameters
    s[m, p]   ``auction_share`` of market m in period p (``[markets.<m>] auction_share = { P2 = 0.2 }``)
    s[g, y]   share of sector (or benchmark group) g in fiscal year y
              (``auction_share = { power_coal = { 2033 = 1.0 } }``): each listed share holds from its
              year until the next listed year, 0 before the first

ModelData
    free[i, p] = allocation[i, p] * (1 - s[market(i), p])     (``alloc_t``; the cap is unchanged)

    or, for an entity whose sector (else benchmark group) has a table of years,
    free[i, p] = sum_{y in p} alloc_year[i, y] * (1 - s[g(i), y])    (``alloc_year_t``: the
    allocation per year, a benchmark market's own or a period's spread evenly over its years)

Registered terms
    MarketClearing[m, p] += auction[m, p] / scale_t   (a constant: the auctioned allowances enter
                                                        the pool, where entities buy them)

The cap, and so the price and every entity's emissions, are the same as without an auction: only
who pays for the allowances changes (the burden moves from the market's entities to the auction
revenue ``auction[m, p] x price_pv[m, p]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ...config import Scenario
from ...errors import Problems
from ..data import ModelData
from ..registry import Registry
from .base import AccountItem, Feasibility, ReportContext, RuleReport, data_array, markets_with, rounded

if TYPE_CHECKING:
    import pyomo.environ as pyo

NAME = "auction"
STAGE = "pool"
#: the rule's items of the cost account (README "Cost account")
ACCOUNT = (
    AccountItem(
        "auction_payments",
        "auctioned allowances bought at the clearing price (not in the objective: the auctioned volume is fixed)",
        1,
        "transfer",
        False,
    ),
)


def active(scn: Scenario) -> bool:
    return any(mc.auction_share for mc in scn.markets.values())


def allocation_dependence(scn: Scenario) -> str | None:
    """The auctioned volume is a share of the allocation."""
    for name, mc in scn.markets.items():
        if mc.auction_share:
            return f"markets.{name}.auction_share (the auctioned volume depends on the allocation)"
    return None


def feasibility(md: ModelData) -> Feasibility:
    """No supply: the auction moves part of the cap from free allocation to the pool."""
    return Feasibility()


def shares(md: ModelData) -> np.ndarray:
    """(E, P) auctioned share of each entity's allocation (its market's share; 0 if none), with
    the yearly shares of its sector or benchmark group weighted by its allocation of each year."""
    n_p = len(md.periods)
    out = np.array(
        [
            [_period_share(md.scenario.markets[md.markets[a]].auction_share, p) for p in md.periods]
            for a in md.entity_market
        ],
        dtype=float,
    ).reshape(md.n_entities, n_p)
    yearly = yearly_shares(md)
    if yearly is None:
        return out
    has, s_y = yearly
    assert md.alloc_year_t is not None  # set by model.prepare before the rules
    for p in range(n_p):
        ys = md.period_years(p)
        a = md.alloc_year_t[has][:, ys]
        total = a.sum(axis=1)
        weighted = (a * s_y[has][:, ys]).sum(axis=1)
        mean = s_y[has][:, ys].mean(axis=1)
        out[has, p] = np.divide(weighted, total, out=mean, where=total > 0)
    return out


def _period_share(table: dict, period: str) -> float:
    value = table.get(period, 0.0)
    return float(value) if not isinstance(value, dict) else 0.0


def yearly_shares(md: ModelData) -> tuple[np.ndarray, np.ndarray] | None:
    """(E,) entities with a sector or benchmark-group table of yearly shares and (E, Y) their
    share in each model year; None when no market has such a table. Raises an
    :class:`~nationcap.errors.InputError` naming every table key that is neither a period, a
    sector nor a benchmark group of the market's entities."""
    ent = md.dataset.entities
    sector = ent["sector"].astype(str).to_numpy()
    group = (ent["benchmark"] if "benchmark" in ent.columns else pd.Series("", index=ent.index)).astype(str).to_numpy()
    has = np.zeros(md.n_entities, dtype=bool)
    s_y = np.zeros((md.n_entities, len(md.years)))
    problems = Problems(context=f"scenario {md.scenario.name!r}")
    found = False
    years = np.array(md.years)
    for a, name in enumerate(md.markets):
        table = md.scenario.markets[name].auction_share
        rows = md.entity_market == a
        for key, path in table.items():
            if not isinstance(path, dict):
                continue
            found = True
            match = rows & (sector == key)
            match = match | (rows & ~match & (group == key) & ~has)
            if not (rows & ((sector == key) | (group == key))).any():
                problems.add(
                    str(md.scenario.source or "scenario"),
                    f"key 'markets.{name}.auction_share.{key}'",
                    "",
                    f"{key!r} is neither a period, nor a sector or benchmark group of the market's entities",
                )
                continue
            start = sorted((int(y), float(v)) for y, v in path.items())
            path_y = np.zeros(len(years))
            for y, v in start:
                path_y[years >= y] = v
            s_y[match] = path_y
            has |= match
    problems.raise_if_any()
    return (has, s_y) if found else None


def prepare(md: ModelData) -> None:
    if active(md.scenario):
        assert md.alloc_full_t is not None  # set by model.prepare before the rules
        md.alloc_t = md.alloc_full_t * (1.0 - shares(md))


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    auction = md.auction_t() / md.scale_t
    for a in range(len(md.markets)):
        for p in range(len(md.periods)):
            if auction[a, p] > 0:
                reg.pool_constant[a, p] += float(auction[a, p])


def report(ctx: ReportContext) -> RuleReport:
    """Volumes auctioned and the revenue: the account's ``auction_payments``, which the objective
    does not hold (the auctioned allowances are a constant of the pool rows)."""
    auction = ctx.md.auction_t()
    revenue = auction * ctx.price_pv  # prices are >= 0 (nationcap/results/prices.py)
    return RuleReport(
        variables={
            "auction_volume": data_array(
                auction, ("market", "period"), ctx.coords, "t", "allowances auctioned (share of the cap)"
            ),
            "auction_revenue": data_array(
                revenue,
                ("market", "period"),
                ctx.coords,
                ctx.pv_units,
                "auction volume x clearing price",
            ),
        },
        account_pv={"auction_payments": revenue},
    )


def summary(res: xr.Dataset) -> list[str]:
    if not markets_with(res, "auction_share"):
        return []
    df = pd.DataFrame(
        {
            "auctioned_Mt": rounded((res["auction_volume"] / 1e6).to_pandas().stack(), 3),
            "revenue_bJPY_pv": rounded((res["auction_revenue"] / 1e9).to_pandas().stack(), 2),
        }
    )
    return ["Allowances auctioned (Mt) and the revenue (billion JPY, present value):", df.to_string(), ""]


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


def period_keys(md: ModelData) -> dict[str, list[tuple[Any, int]]]:  # noqa: ARG001
    """Under a rolling horizon: nothing to keep (the auctioned volume is a share of each period's
    cap, the window's caps: the emptied periods auction nothing)."""
    return {}
