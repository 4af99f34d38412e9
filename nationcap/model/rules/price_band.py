r"""Price floor and ceiling per market and year (GX-ETS style band).

Parameters
    floor[m, y], ceil[m, y]   JPY/t in year y's money (e.g. 1,700 and 4,300 in FY2026, +3 %/yr)

Variables
    CeilingIssue[m, y]   allowances the administrator sells at the ceiling price in year y, Mt, >= 0
                         (unlimited: the ceiling is a hard cap on the price)
    FloorWithdraw[m, y]  allowances the administrator withdraws at the floor price, Mt, >= 0

Bounds (``ceiling_volume_limit_t`` / ``floor_volume_limit_t``, t per year; none: unlimited)
    CeilingIssue[m, y]  <= ceiling_limit[m] / scale_t
    FloorWithdraw[m, y] <= floor_limit[m] / scale_t

Registered terms
    MarketClearing[m, p(y)]  += CeilingIssue[m, y] - FloorWithdraw[m, y]
    objective                += d[y] * (ceil[m, y] * CeilingIssue[m, y] - floor[m, y] * FloorWithdraw[m, y])

Why the price stays in the band. The reduced costs of the two variables must be non-negative at
the optimum: ``d[y] * ceil[m, y] - price_pv[m, p] >= 0`` and ``price_pv[m, p] - d[y] * floor[m, y]
>= 0`` for every year y of the period, i.e. ``floor[m, y] <= price[m, y] <= ceil[m, y]`` in every
year (``price[m, y] = price_pv[m, p] / d[y]``, :mod:`nationcap.results.prices`). Issuing and withdrawing are
payments between the administrator and the market: they are in the objective so the LP prices
them, and reported separately from abatement cost.

With a volume limit the band is a finite reserve (:mod:`.reserve` derives the same): strictly
between 0 and its limit a variable's reduced cost is 0, so the price is held at the ceiling (the
floor); at its limit the reduced cost may be negative, so the price may pass the ceiling (fall
below the floor), set by the next source of supply or demand, e.g. an abatement step.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as _replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ...config import Scenario
from ...vocab import DRAW_DIM
from ..data import ModelData
from ..registry import Registry
from .base import (
    AccountItem,
    Feasibility,
    ReportContext,
    RuleReport,
    Supply,
    data_array,
    markets_with,
    period_lengths,
    rounded,
)

if TYPE_CHECKING:
    import pyomo.environ as pyo

NAME = "price_band"
STAGE = "pool"
#: the rule's items of the cost account (README "Cost account")
ACCOUNT = (
    AccountItem(
        "ceiling_payments", "allowances bought from the administrator at the price ceiling", 1, "transfer", True
    ),
    AccountItem(
        "floor_receipts",
        "allowances the administrator buys back (withdraws) at the price floor",
        -1,
        "transfer",
        True,
    ),
)


@dataclass(frozen=True)
class BandData:
    floor: np.ndarray  # (M, Y) JPY/t in each year's money, NaN = no floor
    ceiling: np.ndarray  # (M, Y), NaN = no ceiling
    floor_limit_t: np.ndarray | None = None  # (M,) t per year withdrawn at most, inf = no limit
    ceiling_limit_t: np.ndarray | None = None  # (M,) t per year issued at most, inf = no limit


def active(scn: Scenario) -> bool:
    return any(mc.price_floor is not None or mc.price_ceiling is not None for mc in scn.markets.values())


def allocation_dependence(scn: Scenario) -> str | None:
    """Band prices and volume limits are given in JPY/t and t: independent of the allocation."""
    return None


def feasibility(md: ModelData) -> Feasibility:
    """Allowances at the price ceiling: unlimited, or ``ceiling_volume_limit_t`` x the years of
    the period (the floor only withdraws: a relaxation may leave it unused)."""
    n_years = period_lengths(md)
    out = []
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        if cfg.price_ceiling is not None:
            limit = np.inf if cfg.ceiling_volume_limit_t is None else float(cfg.ceiling_volume_limit_t)
            out.append(Supply(a, "allowances at the price ceiling", limit * n_years))
    return Feasibility(supply=out)


def data(md: ModelData) -> BandData:
    return md.rule_data[NAME]


def prepare(md: ModelData) -> None:
    """Floor and ceiling per market and year in each year's money (NaN = none)."""
    n_m, n_y = len(md.markets), len(md.years)
    floor = np.full((n_m, n_y), np.nan)
    ceiling = np.full((n_m, n_y), np.nan)
    floor_limit = np.full(n_m, np.inf)
    ceiling_limit = np.full(n_m, np.inf)
    for a in range(n_m):
        cfg = md.market_config(a)
        if cfg.price_floor:
            floor[a] = [cfg.price_floor.value(y) for y in md.years]
        if cfg.price_ceiling:
            ceiling[a] = [cfg.price_ceiling.value(y) for y in md.years]
        if cfg.floor_volume_limit_t is not None:
            floor_limit[a] = cfg.floor_volume_limit_t
        if cfg.ceiling_volume_limit_t is not None:
            ceiling_limit[a] = cfg.ceiling_volume_limit_t
    md.rule_data[NAME] = BandData(floor, ceiling, floor_limit, ceiling_limit)


def pv_range(md: ModelData, lo_y: np.ndarray, hi_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, P) present-value range from per-year bounds (M, Y) in each year's money (NaN = none):
    the highest PV lower bound and the lowest PV upper bound among each period's years."""
    n_m, n_p = len(md.markets), len(md.periods)
    lo = np.full((n_m, n_p), -np.inf)
    hi = np.full((n_m, n_p), np.inf)
    for p in range(n_p):
        ys = md.period_years(p)
        d = md.discount[ys]
        lo[:, p] = np.nanmax(np.where(np.isnan(lo_y[:, ys]), -np.inf, lo_y[:, ys] * d), axis=1, initial=-np.inf)
        hi[:, p] = np.nanmin(np.where(np.isnan(hi_y[:, ys]), np.inf, hi_y[:, ys] * d), axis=1, initial=np.inf)
    return lo, np.maximum(lo, hi)


def price_range(md: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """(M, P) PV range the band holds the price in (exact without volume limits); used only to
    estimate prices for sifting (:func:`nationcap.engines.pyomo_highs.price_estimate`)."""
    band = data(md)
    return pv_range(md, band.floor, band.ceiling)


def year_index(values: np.ndarray | None) -> list[tuple[int, int]]:
    """(market, year) pairs where ``values`` (M, Y) is set (not NaN)."""
    if values is None:
        return []
    a, y = np.nonzero(~np.isnan(values))
    return list(zip(a.tolist(), y.tolist()))


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    import pyomo.environ as pyo

    band = data(md)
    n_m = len(md.markets)
    for name, concept, values, limit, sign, doc in (
        (
            "CeilingIssue",
            "ceiling_issue",
            band.ceiling,
            band.ceiling_limit_t,
            1.0,
            "allowances sold at the price ceiling [Mt]",
        ),
        (
            "FloorWithdraw",
            "floor_withdraw",
            band.floor,
            band.floor_limit_t,
            -1.0,
            "allowances withdrawn at the price floor [Mt]",
        ),
    ):
        idx = year_index(values)
        if not idx:
            continue
        ub = np.full(n_m, np.inf) if limit is None else limit / md.scale_t
        var = pyo.Var(
            idx,
            domain=pyo.NonNegativeReals,
            bounds=lambda _m, a, y, ub=ub: (0.0, None if np.isinf(ub[a]) else float(ub[a])),
            doc=doc,
        )
        m.add_component(name, var)
        for a, y in idx:
            reg.pool[a, int(md.year_period[y])].append((sign, var[a, y]))
        reg.cost.append(pyo.quicksum(sign * float(md.discount[y] * values[a, y]) * var[a, y] for (a, y) in idx))
        reg.name(var, concept)


def volumes(md: ModelData, values: np.ndarray, concept: str, solution_values) -> tuple[np.ndarray, np.ndarray]:
    """(M, P) volumes and PV payments of a per-(market, year) variable priced at ``values``."""
    n_m, n_p = len(md.markets), len(md.periods)
    vol = np.zeros((n_m, n_p))
    pay = np.zeros((n_m, n_p))
    if concept in solution_values:
        for k, (a, y) in enumerate(year_index(values)):
            x = max(float(solution_values[concept][k]), 0.0)  # a solver's -0.0 or -1e-15 is none
            vol[a, md.year_period[y]] += x
            pay[a, md.year_period[y]] += x * values[a, y] * md.discount[y]
    return vol, pay


def report(ctx: ReportContext) -> RuleReport:
    """The band per year, allowances issued at the ceiling and withdrawn at the floor, payments
    (the account's ``ceiling_payments``, paid by the market, and ``floor_receipts``, paid to it)."""
    md, coords = ctx.md, ctx.coords
    band = data(md)
    out = {
        "price_floor": data_array(
            band.floor, ("market", "year"), coords, "JPY/t", "price floor in each year's money (NaN = none)"
        ),
        "price_ceiling": data_array(
            band.ceiling, ("market", "year"), coords, "JPY/t", "price ceiling in each year's money (NaN = none)"
        ),
    }
    account: dict[str, np.ndarray] = {}
    for name, concept, values, desc, item in (
        ("ceiling_issued", "ceiling_issue", band.ceiling, "allowances sold at the price ceiling", "ceiling_payments"),
        ("floor_withdrawn", "floor_withdraw", band.floor, "allowances withdrawn at the price floor", "floor_receipts"),
    ):
        vol, pay = volumes(md, values, concept, ctx.solution.values)
        out[name] = data_array(vol, ("market", "period"), coords, "t", desc)
        out[f"{name}_payments"] = data_array(pay, ("market", "period"), coords, ctx.pv_units, f"payments for {desc}")
        account[item] = np.maximum(pay, 0.0)
    return RuleReport(variables=out, account_pv=account)


def summary(res: xr.Dataset) -> list[str]:
    vols = {
        k: res[k]
        for k, key in (("ceiling_issued", "price_ceiling"), ("floor_withdrawn", "price_floor"))
        if markets_with(res, key)
    }
    if not vols:
        return []
    df = pd.DataFrame({k: rounded((v / 1e6).to_pandas().stack(), 3) for k, v in vols.items()})
    return ["Allowances issued at the ceiling and withdrawn at the floor (Mt):", df.to_string(), ""]


def montecarlo(res: xr.Dataset) -> dict[str, xr.DataArray]:
    """``p_price_at_floor`` / ``p_price_at_ceiling`` (market, year): the share of successful draws
    whose price is at the band's bound; NaN for markets and years without that bound."""
    out: dict[str, xr.DataArray] = {}
    if "price" not in res:
        return out
    ok = res["status"] == "ok"
    price = res["price"].where(ok)
    for which, name in (("price_floor", "p_price_at_floor"), ("price_ceiling", "p_price_at_ceiling")):
        if which not in res:
            out[name] = xr.full_like(price.isel({DRAW_DIM: 0}, drop=True), np.nan)
            continue
        bound = res[which].where(ok).max(DRAW_DIM)  # the same in every draw; NaN where there is none
        tol = 1e-6 * np.maximum(1.0, np.abs(bound))
        hit = (price <= bound + tol) if which == "price_floor" else (price >= bound - tol)
        prob = hit.where(price.notnull()).mean(DRAW_DIM).where(np.isfinite(bound))
        out[name] = prob.assign_attrs(
            units="1", description=f"share of the successful draws whose price is at the {which.split('_')[1]}"
        )
    return out


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


def window(md: ModelData, inside_year: np.ndarray) -> BandData:
    """Under a rolling horizon: the band of the window, no floor and no ceiling in the years
    outside it (``inside_year``: (Y,) bool). The band keeps no state across periods."""
    band = data(md)
    return _replace(
        band,
        floor=np.where(inside_year[None, :], band.floor, np.nan),
        ceiling=np.where(inside_year[None, :], band.ceiling, np.nan),
    )


def period_keys(md: ModelData) -> dict[str, list[tuple[Any, int]]]:
    """Under a rolling horizon: each entry of the band's concepts (market, year) with its period."""
    band = data(md)
    yp = [int(p) for p in md.year_period]
    return {
        "ceiling_issue": [((a, y), yp[y]) for a, y in year_index(band.ceiling)],
        "floor_withdraw": [((a, y), yp[y]) for a, y in year_index(band.floor)],
    }
