r"""Allowance trade between two markets: ``[link] mode = "none" | "full" | "limited"``.

The 2009 proposal keeps the markets apart (``none``, the default: this module adds nothing). For
the (national n, regional r) pair named in ``link.markets``, with ``ratio`` = regional
allowances per national allowance:

Variables (per period p, Mt of the *sending* market's allowances, >= 0)
    LinkNR[p]   national allowances moved into the regional market (direction national_to_regional)
    LinkRN[p]   regional allowances moved into the national market (direction regional_to_national)

Registered pool terms
    MarketClearing[n, p] += -LinkNR[p] + LinkRN[p] / ratio
    MarketClearing[r, p] += ratio * LinkNR[p] - LinkRN[p]

Constraints (mode "limited": per period at most ``limit_share`` of the receiving market's cap)
    LinkLimitNR[p]::  ratio * LinkNR[p]  <= limit_share * cap[r, p] / scale_t
    LinkLimitRN[p]::  LinkRN[p] / ratio  <= limit_share * cap[n, p] / scale_t

Prices. Non-negative reduced costs give ``ratio * price_pv[r, p] <= price_pv[n, p]`` when
LinkNR exists and ``price_pv[n, p] <= ratio * price_pv[r, p]`` when LinkRN exists. A full
two-way link therefore gives ``price[n] = ratio * price[r]`` (one price for ratio 1); a limited
link keeps that relation except while a limit binds, when the gap between the two sides equals
the limit's rent (the negated dual of the binding LinkLimit row, JPY/t PV of the receiving
market's allowances). A one-way link only enforces one of the two inequalities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ...config import Scenario
from ..data import ModelData
from ..registry import Registry
from .base import AccountItem, Feasibility, ReportContext, RuleReport, Supply, data_array, rounded

if TYPE_CHECKING:
    import pyomo.environ as pyo

NAME = "link"
STAGE = "pool"
#: the coordinates the rule's results add
COORDS = {"direction": {"long_name": "direction of a link transfer (sending market to receiving market)"}}
#: the rule's items of the cost account (README "Cost account")
ACCOUNT: tuple[AccountItem, ...] = ()  # transfers between the markets net to zero
DIRECTIONS = ("national_to_regional", "regional_to_national")


def active(scn: Scenario) -> bool:
    return scn.link.mode != "none"


def allocation_dependence(scn: Scenario) -> str | None:
    """A limited link's limit is a share of the receiving cap; a full link has no limit."""
    return "a limited link (its limits depend on the caps)" if scn.link.mode == "limited" else None


def feasibility(md: ModelData) -> Feasibility:
    """Each market of the pair may receive without limit over a full link, at most
    ``limit_share x`` its cap over a limited one (in the directions allowed); the pair is also
    checked pooled, in national allowances (regional t / ratio), which cancels the transfers.
    A market the link's direction closes, or a limited link, gets the keys that would let more in
    as hints for the diagnosis's message."""
    link = md.scenario.link
    if link.mode == "none":
        return Feasibility()
    n, r = (md.markets.index(x) for x in link.markets)
    caps = md.cap_t()
    out = Feasibility(pools=[(n, r, float(link.ratio))])
    for to, direction in ((r, "national_to_regional"), (n, "regional_to_national")):
        if link.direction not in ("both", direction):  # nothing flows in: say so, and how to open it
            out.notes[to] = [f"the link's direction {link.direction!r} lets no allowances into {md.markets[to]!r}"]
            out.hints[to] = [f'set link.direction = "both" (or "{direction}")']
            continue
        most = np.full(len(md.periods), np.inf) if link.mode == "full" else link.limit_share * caps[to]
        out.supply.append(Supply(to, f"{link.mode} link inflow", most, via_link=True))
        if link.mode == "limited":
            out.hints[to] = [f"raise link.limit_share (now {link.limit_share:g} of the receiving cap per period)"]
    return out


def prepare(md: ModelData) -> None:
    """Nothing to prepare: the link's settings and the caps are read when it is built."""


def directions(md: ModelData) -> list[str]:
    link = md.scenario.link
    if link.mode == "none":
        return []
    if link.direction == "both":
        return list(DIRECTIONS)
    return [link.direction]


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    dirs = directions(md)
    if not dirs:
        return
    import pyomo.environ as pyo

    link = md.scenario.link
    n, r = (md.markets.index(x) for x in link.markets)
    ratio = float(link.ratio)
    n_p = len(md.periods)
    caps = md.cap_t() / md.scale_t
    P = range(n_p)
    if "national_to_regional" in dirs:
        m.LinkNR = pyo.Var(P, domain=pyo.NonNegativeReals, doc="national allowances moved to the regional market [Mt]")
        for p in P:
            reg.pool[n, p].append((-1.0, m.LinkNR[p]))
            reg.pool[r, p].append((ratio, m.LinkNR[p]))
        reg.name(m.LinkNR, "link_national_to_regional")
        if link.mode == "limited":
            m.LinkLimitNR = pyo.Constraint(
                P,
                rule=lambda _m, p: ratio * _m.LinkNR[p] <= float(link.limit_share * caps[r, p]),
                doc="regional receipts <= limit_share x regional cap [Mt]",
            )
            reg.name(m.LinkLimitNR, "link_limit_national_to_regional")
    if "regional_to_national" in dirs:
        m.LinkRN = pyo.Var(P, domain=pyo.NonNegativeReals, doc="regional allowances moved to the national market [Mt]")
        for p in P:
            reg.pool[r, p].append((-1.0, m.LinkRN[p]))
            reg.pool[n, p].append((1.0 / ratio, m.LinkRN[p]))
        reg.name(m.LinkRN, "link_regional_to_national")
        if link.mode == "limited":
            m.LinkLimitRN = pyo.Constraint(
                P,
                rule=lambda _m, p: _m.LinkRN[p] / ratio <= float(link.limit_share * caps[n, p]),
                doc="national receipts <= limit_share x national cap [Mt]",
            )
            reg.name(m.LinkLimitRN, "link_limit_regional_to_national")


def report(ctx: ReportContext) -> RuleReport:
    """Transfers between linked markets and the rents of binding link limits."""
    md, vals, duals = ctx.md, ctx.solution.values, ctx.solution.duals
    c = {**ctx.coords, "direction": np.array(DIRECTIONS, dtype=str)}
    n_p = len(md.periods)
    moved = np.zeros((2, n_p))
    rent = np.zeros((2, n_p))
    for k, d in enumerate(DIRECTIONS):
        if f"link_{d}" in vals:
            moved[k] = vals[f"link_{d}"]
        if f"link_limit_{d}" in duals:
            dual = duals[f"link_limit_{d}"]
            rent[k] = np.where(np.abs(dual) < 1e-6, 0.0, -dual)
    # a simultaneous flow both ways is a zero-cost round trip the LP may leave in: report net flows
    ratio = md.scenario.link.ratio
    net_n = moved[0] - moved[1] / ratio  # in national allowances, + = national to regional
    moved = np.vstack([np.where(net_n > 0, net_n, 0.0), np.where(net_n < 0, -net_n * ratio, 0.0)])
    return RuleReport(
        variables={
            "link_transfer": data_array(
                moved,
                ("direction", "period"),
                c,
                "t",
                "net allowances moved between the linked markets, in t of the sending market",
            ),
            "link_limit_rent": data_array(
                rent,
                ("direction", "period"),
                c,
                ctx.pv_price_units,
                "value of one more tonne of link capacity (negated dual of the binding limit; 0 if not binding)",
            ),
        }
    )


def summary(res: xr.Dataset) -> list[str]:
    import json

    link = json.loads(res.attrs["config"]).get("link", {})
    if link.get("mode", "none") == "none":
        return []
    df = rounded((res["link_transfer"] / 1e6).to_pandas(), 3)
    return [
        f"Link ({link['mode']}, ratio {link['ratio']}): allowances moved (Mt of the sending market):",
        df.to_string(),
        "",
    ]
