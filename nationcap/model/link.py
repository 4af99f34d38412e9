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

import pyomo.environ as pyo

from .inputs import ModelData
from .registry import Registry


def directions(md: ModelData) -> list[str]:
    link = md.scenario.link
    if link.mode == "none":
        return []
    if link.direction == "both":
        return ["national_to_regional", "regional_to_national"]
    return [link.direction]


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    dirs = directions(md)
    if not dirs:
        return
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
        if link.mode == "limited":
            m.LinkLimitNR = pyo.Constraint(
                P,
                rule=lambda _m, p: ratio * _m.LinkNR[p] <= float(link.limit_share * caps[r, p]),
                doc="regional receipts <= limit_share x regional cap [Mt]",
            )
    if "regional_to_national" in dirs:
        m.LinkRN = pyo.Var(P, domain=pyo.NonNegativeReals, doc="regional allowances moved to the national market [Mt]")
        for p in P:
            reg.pool[r, p].append((-1.0, m.LinkRN[p]))
            reg.pool[n, p].append((1.0 / ratio, m.LinkRN[p]))
        if link.mode == "limited":
            m.LinkLimitRN = pyo.Constraint(
                P,
                rule=lambda _m, p: _m.LinkRN[p] / ratio <= float(link.limit_share * caps[n, p]),
                doc="national receipts <= limit_share x national cap [Mt]",
            )
