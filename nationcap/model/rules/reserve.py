r"""Allowance reserves with finite volumes: tranches released at a trigger price (a cost
containment reserve, RGGI's CCR) and tranches withheld at or below one (an emissions containment
reserve, RGGI's ECR), per market and year.

Parameters (``[markets.<m>.reserve]``, :class:`nationcap.config.schema.ReserveConfig`)
    Trel[m, y, k], vrel[m, k]   release tranche k: trigger in year y's money (JPY/t) and volume per
                                year (t); ``Trel[m, y, k] = trigger_k x (1 + growth_k) ** (y -
                                start_year_k)`` (FY2026 unless given: the band's convention)
    Twh[m, y, k],  vwh[m, k]    withhold tranche k, likewise

Variables (one per market, year and tranche with a positive volume; Mt)
    ReserveRelease[m, y, k]    in [0, vrel[m, k] / scale_t]   allowances released from the reserve
    ReserveWithhold[m, y, k]   in [0, vwh[m, k] / scale_t]    allowances withheld from the market

Registered terms
    MarketClearing[m, p(y)]  += ReserveRelease[m, y, k] - ReserveWithhold[m, y, k]
    objective                += d[y] * (Trel[m, y, k] * ReserveRelease[m, y, k]
                                        - Twh[m, y, k] * ReserveWithhold[m, y, k])

Why the price stays at a trigger while the tranche lasts, and passes it once it is exhausted.
Let ``price_pv[m, p]`` be the dual of the pool row (:mod:`nationcap.model.core.market`) and
``price[m, y] = price_pv[m, p(y)] / d[y]`` the price in year y's money. The reduced cost of
ReserveRelease[m, y, k] is ``d[y] * Trel[m, y, k] - price_pv[m, p]``. At an optimum a bounded
variable at 0 has a reduced cost >= 0, one strictly between its bounds a reduced cost of 0, and
one at its upper bound a reduced cost <= 0. So:

* nothing released (R = 0):            price[m, y] <= Trel[m, y, k]  (the trigger is not reached);
* part of the tranche released:         price[m, y] == Trel[m, y, k]  (the reserve holds the price);
* the whole tranche released (R = v):   price[m, y] >= Trel[m, y, k]  (the price may pass the
  trigger: the next source of supply, an abatement step, a higher tranche or the ceiling, sets it).

The withhold tranche enters with the opposite signs, so its reduced cost is
``price_pv[m, p] - d[y] * Twh[m, y, k]``: nothing withheld -> price >= Twh, part of the tranche
withheld -> price == Twh, the whole tranche withheld -> price <= Twh (the price may fall below the
trigger). The unlimited price ceiling and floor (:mod:`.price_band`) are the limiting case of an
infinite volume, where the third line cannot happen.

Releasing and withholding are payments between the administrator and the market: they are in the
objective so that the LP prices them, and are reported separately from abatement cost
(``reserve_release_payments``, ``reserve_withhold_receipts``, and the cost account
``RuleReport.account_pv``). The scenario check refuses a design in which the administrator would
buy back what it sells (a PV withhold trigger or floor above a PV release trigger or ceiling it
can be reached from: :func:`nationcap.config.arbitrage.check_band_arbitrage`).

Monte Carlo (:func:`montecarlo`): a tranche counts as *triggered* in a draw and year when the
price is at or beyond its trigger (``price >= Trel`` for a release tranche, ``price <= Twh`` for a
withhold tranche) to a relative tolerance of 1e-6, as the band's ``p_price_at_floor`` /
``p_price_at_ceiling``. Every draw that releases (withholds) a positive volume is triggered; a
draw whose price sits exactly at the trigger without needing the tranche also counts; the volume
quantiles tell the two apart.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from dataclasses import replace as _replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ...config import Scenario
from ...vocab import DRAW_DIM, TRANCHE_DIM, year_period_map
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

NAME = "reserve"
STAGE = "pool"
#: the coordinates the rule's results add
COORDS = {TRANCHE_DIM: {"long_name": "tranche of an allowance reserve (its position in the scenario's list)"}}
#: the rule's items of the cost account (README "Cost account")
ACCOUNT = (
    AccountItem(
        "reserve_release_payments",
        "allowances released from a cost containment reserve, bought at the trigger price",
        1,
        "transfer",
        True,
    ),
    AccountItem(
        "reserve_withhold_receipts",
        "allowances withheld into an emissions containment reserve, paid for at the trigger price",
        -1,
        "transfer",
        True,
    ),
)
#: the two sides: (scenario key, concept name, results name of the volumes, of the triggers, sign)
SIDES = (
    ("release", "reserve_release", "reserve_released", "reserve_release_trigger", 1.0),
    ("withhold", "reserve_withhold", "reserve_withheld", "reserve_withhold_trigger", -1.0),
)
#: Monte Carlo volume quantiles reported per tranche
MC_QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class ReserveData:
    """Triggers (M, Y, K) in each year's money (NaN = no such tranche) and volumes (M, K) per year
    in t (0 where there is no tranche), per side; K = the most tranches any market has on either
    side."""

    trigger: dict[str, np.ndarray]
    volume_t: dict[str, np.ndarray]

    @property
    def n_tranches(self) -> int:
        return int(next(iter(self.volume_t.values())).shape[1])


def active(scn: Scenario) -> bool:
    return any(mc.reserve is not None and (mc.reserve.release or mc.reserve.withhold) for mc in scn.markets.values())


def allocation_dependence(scn: Scenario) -> str | None:
    """Tranche volumes and triggers are given in t and JPY/t: independent of the allocation."""
    return None


def feasibility(md: ModelData) -> Feasibility:
    """Release tranches: the sum of their ``volume_t`` x the years of the period (withholding
    only takes allowances out: a relaxation may leave it unused)."""
    n_years = period_lengths(md)
    out = []
    for a, name in enumerate(md.markets):
        cfg = md.scenario.markets[name]
        if cfg.reserve is not None and cfg.reserve.release:
            per_year = sum(max(float(tr.volume_t), 0.0) for tr in cfg.reserve.release)
            out.append(Supply(a, "allowances released from the reserve", per_year * n_years))
    return Feasibility(supply=out)


def data(md: ModelData) -> ReserveData:
    return md.rule_data[NAME]


def prepare(md: ModelData) -> None:
    """Triggers per market, year and tranche in each year's money, and volumes per year."""
    n_m, n_y = len(md.markets), len(md.years)
    lists = {
        side: [list(getattr(md.market_config(a).reserve, side, None) or []) for a in range(n_m)] for side, *_ in SIDES
    }
    n_k = max(1, max(len(t) for per_market in lists.values() for t in per_market))
    trigger = {side: np.full((n_m, n_y, n_k), np.nan) for side in lists}
    volume = {side: np.zeros((n_m, n_k)) for side in lists}
    for side, per_market in lists.items():
        for a, tranches in enumerate(per_market):
            for k, tr in enumerate(tranches):
                trigger[side][a, :, k] = [tr.trigger(int(y)) for y in md.years]
                volume[side][a, k] = tr.volume_t
    md.rule_data[NAME] = ReserveData(trigger, volume)


def price_range(md: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """(M, P) PV range between the highest withhold trigger and the lowest release trigger (of
    tranches with a volume): where the reserve holds the price unless a tranche runs out. Used
    only to estimate prices for sifting (:func:`nationcap.engines.pyomo_highs.price_estimate`)."""
    from .price_band import pv_range

    rd = data(md)
    used = {side: np.where(rd.volume_t[side][:, None, :] > 0, rd.trigger[side], np.nan) for side in rd.trigger}
    with warnings.catch_warnings():  # markets without tranches: all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        lo_y = np.nanmax(used["withhold"], axis=2)
        hi_y = np.nanmin(used["release"], axis=2)
    return pv_range(md, lo_y, hi_y)


def tranche_index(rd: ReserveData, side: str) -> list[tuple[int, int, int]]:
    """(market, year, tranche) of every tranche with a positive volume, in the order of the
    variables (and of their values in a SolveResult)."""
    trig, vol = rd.trigger[side], rd.volume_t[side]
    a, y, k = np.nonzero(~np.isnan(trig) & (vol[:, None, :] > 0))
    return list(zip(a.tolist(), y.tolist(), k.tolist()))


def build(m: pyo.ConcreteModel, md: ModelData, reg: Registry) -> None:
    import pyomo.environ as pyo

    rd = data(md)
    for side, concept, *_, sign in SIDES:
        idx = tranche_index(rd, side)
        if not idx:
            continue
        ub = rd.volume_t[side] / md.scale_t
        var = pyo.Var(
            idx,
            domain=pyo.NonNegativeReals,
            bounds=lambda _m, a, y, k, ub=ub: (0.0, float(ub[a, k])),
            doc=f"allowances {'released from' if sign > 0 else 'withheld by'} the reserve [Mt]",
        )
        m.add_component("ReserveRelease" if sign > 0 else "ReserveWithhold", var)
        trig = rd.trigger[side]
        for a, y, k in idx:
            reg.pool[a, int(md.year_period[y])].append((sign, var[a, y, k]))
        reg.cost.append(pyo.quicksum(sign * float(md.discount[y] * trig[a, y, k]) * var[a, y, k] for (a, y, k) in idx))
        reg.name(var, concept)


def volumes(md: ModelData, side: str, solution_values) -> tuple[np.ndarray, np.ndarray]:
    """(M, Y, K) volumes in t (NaN where there is no tranche) and (M, P) PV payments of a side."""
    rd = data(md)
    trig = rd.trigger[side]
    concept = next(c for s, c, *_ in SIDES if s == side)
    vol = np.where(np.isnan(trig), np.nan, 0.0)
    pay = np.zeros((len(md.markets), len(md.periods)))
    if concept in solution_values:
        for v, (a, y, k) in zip(solution_values[concept], tranche_index(rd, side)):
            vol[a, y, k] = v
            pay[a, md.year_period[y]] += v * trig[a, y, k] * md.discount[y]
    return vol, pay


def report(ctx: ReportContext) -> RuleReport:
    """Triggers, volumes released and withheld per market, year and tranche, and the payments
    (no variables when the rule is off: the tranche dimension appears only with reserves)."""
    md = ctx.md
    if not active(md.scenario):  # no variables (no tranche dimension); the cost account is zero
        zero = np.zeros((len(md.markets), len(md.periods)))
        return RuleReport(account_pv={"reserve_release_payments": zero, "reserve_withhold_receipts": zero.copy()})
    rd = data(md)
    coords = {**ctx.coords, TRANCHE_DIM: np.arange(rd.n_tranches, dtype=np.int64)}
    dims = ("market", "year", TRANCHE_DIM)
    out: dict[str, xr.DataArray] = {}
    account: dict[str, np.ndarray] = {}
    for side, _, vol_name, trig_name, sign in SIDES:
        what = "released from the cost containment reserve" if sign > 0 else "withheld (emissions containment)"
        out[trig_name] = data_array(
            rd.trigger[side],
            dims,
            coords,
            "JPY/t",
            f"trigger price of the {side} tranche in each year's money (NaN = no such tranche)",
        )
        vol, pay = volumes(md, side, ctx.solution.values)
        out[vol_name] = data_array(vol, dims, coords, "t", f"allowances {what}, per tranche (NaN = no such tranche)")
        out[f"{vol_name}_total"] = data_array(
            np.nansum(vol, axis=2) if vol.size else np.zeros(vol.shape[:2]),
            ("market", "year"),
            coords,
            "t",
            f"allowances {what}, all tranches",
        )
        key = "reserve_release_payments" if sign > 0 else "reserve_withhold_receipts"
        desc = (
            "paid by the market for allowances released from the reserve, at their triggers"
            if sign > 0
            else "paid to the market for allowances withheld, at their triggers"
        )
        out[key] = data_array(pay, ("market", "period"), coords, ctx.pv_units, desc)
        account[key] = np.maximum(pay, 0.0)
    return RuleReport(variables=out, account_pv=account)


def summary(res: xr.Dataset) -> list[str]:
    if not markets_with(res, "reserve") or "reserve_released_total" not in res:
        return []
    df = pd.DataFrame(
        {
            "released_Mt": rounded((res["reserve_released_total"] / 1e6).to_pandas().stack(), 3),
            "withheld_Mt": rounded((res["reserve_withheld_total"] / 1e6).to_pandas().stack(), 3),
        }
    )
    pay = pd.DataFrame(
        {
            "release_payments_bn_jpy_pv": rounded((res["reserve_release_payments"] / 1e9).to_pandas().stack(), 3),
            "withhold_receipts_bn_jpy_pv": rounded((res["reserve_withhold_receipts"] / 1e9).to_pandas().stack(), 3),
        }
    )
    return [
        "Allowance reserves: allowances released and withheld (Mt, all tranches):",
        df.to_string(),
        "",
        "Allowance reserves: payments (billion JPY, present value):",
        pay.to_string(),
        "",
    ]


def _period_labels(res: xr.Dataset) -> xr.DataArray | None:
    """The period of each year of ``res`` (from its stored configuration), or None without one."""
    if "config" not in res.attrs:
        return None
    periods = year_period_map(json.loads(res.attrs["config"])["periods"])
    years = res["year"]
    return xr.DataArray(
        np.array([periods[int(y)] for y in years.values]), dims="year", coords={"year": years}, name="period"
    )


def _distribution(vol: xr.DataArray, has: xr.DataArray, stem: str, what: str) -> dict[str, xr.DataArray]:
    """Mean and :data:`MC_QUANTILES` over the draws of ``vol`` (draw, market, year), t; NaN where
    ``has`` is False."""
    out = {
        f"{stem}_mean": vol.mean(DRAW_DIM)
        .where(has)
        .assign_attrs(units="t", description=f"mean over the draws of {what}")
    }
    for q in MC_QUANTILES:
        with warnings.catch_warnings():  # markets without the tranche: all NaN, quantile NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            vq = vol.quantile(q, dim=DRAW_DIM).drop_vars("quantile")
        out[f"{stem}_p{round(q * 100):02d}"] = vq.where(has).assign_attrs(
            units="t", description=f"{round(q * 100)} % quantile over the draws of {what}"
        )
    return out


def montecarlo(res: xr.Dataset) -> dict[str, xr.DataArray]:
    """Per tranche k and side, (market, year) arrays over the successful draws:

    ``p_reserve_<side>{k}_triggered``   share of the draws whose price reaches the trigger (module doc)
    ``reserve_<released|withheld>{k}_mean``, ``_p05``, ``_p50``, ``_p95``   the year's volume, t
    ``reserve_<released|withheld>{k}_period_mean``, ...   the volume over the year's period, t
    (repeated in each year of the period)

    Which year of a period uses a tranche is not unique when its present-value trigger is the
    same in every year (a trigger growing at the discount rate): the period totals are. NaN for
    markets (and years) without that tranche; nothing without reserves."""
    out: dict[str, xr.DataArray] = {}
    if "price" not in res or "reserve_release_trigger" not in res:
        return out
    ok = res["status"] == "ok"
    price = res["price"].where(ok)
    labels = _period_labels(res)
    for side, _, vol_name, trig_name, sign in SIDES:
        trig_all = res[trig_name].where(ok).max(DRAW_DIM)  # the same in every draw; NaN = no tranche
        vol_all = res[vol_name].where(ok)
        for k in res[TRANCHE_DIM].values.tolist():
            trig = trig_all.sel({TRANCHE_DIM: k}, drop=True)
            has = trig.notnull()
            if not has.values.any():
                continue
            tol = 1e-6 * np.maximum(1.0, np.abs(trig))
            hit = (price >= trig - tol) if sign > 0 else (price <= trig + tol)
            prob = hit.where(price.notnull()).mean(DRAW_DIM).where(has)
            verb = "reaches the release" if sign > 0 else "is at or below the withhold"
            out[f"p_reserve_{side}{k}_triggered"] = prob.assign_attrs(
                units="1", description=f"share of the successful draws whose price {verb} trigger of tranche {k}"
            )
            vol = vol_all.sel({TRANCHE_DIM: k}, drop=True)
            out.update(_distribution(vol, has, f"{vol_name}{k}", f"{vol_name} (tranche {k}) in the year"))
            if labels is not None:
                total = vol.groupby(labels).sum(min_count=1)  # (draw, market, period)
                per_year = total.sel(period=labels).drop_vars("period")
                out.update(
                    _distribution(
                        per_year, has, f"{vol_name}{k}_period", f"{vol_name} (tranche {k}) over the year's period"
                    )
                )
    return out


# ------------------------------------------------------------------------------------------
# rolling-horizon foresight (nationcap/engines/foresight.py)
# ------------------------------------------------------------------------------------------


def window(md: ModelData, inside_year: np.ndarray) -> ReserveData:
    """Under a rolling horizon: no tranche in the years outside the window (``inside_year``:
    (Y,) bool). Tranches are volumes per year; nothing unreleased carries over (no stock)."""
    res = data(md)
    return _replace(
        res, trigger={side: np.where(inside_year[None, :, None], t, np.nan) for side, t in res.trigger.items()}
    )


def period_keys(md: ModelData) -> dict[str, list[tuple[Any, int]]]:
    """Under a rolling horizon: each tranche entry (market, year, tranche) with its period."""
    res = data(md)
    yp = [int(p) for p in md.year_period]
    return {concept: [((a, y, k), yp[y]) for a, y, k in tranche_index(res, side)] for side, concept, *_ in SIDES}
