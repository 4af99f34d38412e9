r"""Auctioned share of the cap: part of each period's allowances is sold instead of given free.

Parameters
    s[m, p]   ``auction_share`` of market m in period p (``[markets.<m>] auction_share = { P2 = 0.2 }``)

ModelData
    free[i, p] = allocation[i, p] * (1 - s[market(i), p])     (``alloc_t``; the cap is unchanged)

Registered terms
    MarketClearing[m, p] += auction[m, p] / scale_t   (a constant: the auctioned allowances enter
                                                        the pool, where entities buy them)

The cap, and so the price and every entity's emissions, are the same as without an auction: only
who pays for the allowances changes (the burden moves from the market's entities to the auction
revenue ``auction[m, p] x price_pv[m, p]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from ...config import Scenario
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
    """(E, P) auctioned share of each entity's allocation (its market's share; 0 if none)."""
    return np.array(
        [[md.scenario.markets[md.markets[a]].auction_share.get(p, 0.0) for p in md.periods] for a in md.entity_market],
        dtype=float,
    ).reshape(md.n_entities, len(md.periods))


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
