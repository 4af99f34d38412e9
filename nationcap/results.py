"""Solver output -> the results :class:`xarray.Dataset`, the source of truth of a run.

Dimensions: ``entity`` (entity ids), ``market`` (scenario market keys), ``year`` (integer fiscal
years), ``period`` (period names), and ``sector`` / ``prefecture`` / ``administrator`` for the
aggregates. The entity attributes are coordinates on ``entity`` named ``entity_market``,
``entity_sector``, ``entity_prefecture`` and ``entity_administrator`` (prefixed because
``market``, ``sector``, ... are already dimension names; ``ds.groupby("entity_sector")`` works).

Every variable carries ``units`` and ``description`` attributes; the Dataset attributes carry the
scenario name, the resolved configuration (JSON), the versions of nationcap, Pyomo and HiGHS,
the termination status and the objective value.
"""

from __future__ import annotations

import json
import platform
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .model.inputs import ModelData
from .prices import present_value_prices, year_prices
from .solve import SolveResult


def versions() -> dict[str, str]:
    import highspy
    import pyomo

    try:
        h = highspy.Highs()
        hv = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except Exception:  # pragma: no cover - very old highspy
        hv = "unknown"
    return {
        "nationcap_version": __version__,
        "pyomo_version": pyomo.version.version,
        "highs_version": hv,
        "python_version": platform.python_version(),
    }


def _da(values, dims, coords, units: str, description: str) -> xr.DataArray:
    return xr.DataArray(values, dims=dims, coords={d: coords[d] for d in dims},
                        attrs={"units": units, "description": description})


def build_results(md: ModelData, sr: SolveResult, timings: dict[str, float]) -> xr.Dataset:
    scn = md.scenario
    ent = md.dataset.entities
    n_e, n_y, n_p = md.n_entities, len(md.years), len(md.periods)
    first = scn.first_year
    pv_money = f"JPY, present value at FY{first}"
    coords = {
        "entity": md.entities.astype(str),
        "market": np.array(md.markets, dtype=str),
        "year": np.array(md.years, dtype=np.int64),
        "period": np.array(md.periods, dtype=str),
    }

    n_m = len(md.markets)
    abate_t = sr.values["Abate"]
    net_purchase = sr.values["NetPurchase"].reshape(n_e, n_p)
    bank = sr.values["Bank"].reshape(n_m, n_p)
    expired = np.zeros((n_m, n_p))
    if len(sr.values.get("Expire", ())):
        for k, (a, p) in enumerate(md.expire_index()):
            expired[a, p] = sr.values["Expire"][k]

    # entity x year
    abate = np.zeros((n_e, n_y))
    np.add.at(abate, (md.col_entity, md.col_year), abate_t)
    acost = np.zeros((n_e, n_y))
    np.add.at(acost, (md.col_entity, md.col_year), abate_t * md.col_cost)
    emissions = md.bau_t - abate

    price_pv = present_value_prices(md, sr.duals["MarketClearing"].reshape(n_m, n_p))
    price = year_prices(md, price_pv)
    em = md.entity_market
    # PV compliance cost: PV abatement cost + allowances bought at the PV price of the period
    acost_pv = acost * md.discount[None, :]
    comp = np.zeros((n_e, n_p))
    for p in range(n_p):
        comp[:, p] = acost_pv[:, md.period_years(p)].sum(axis=1) + net_purchase[:, p] * price_pv[em, p]

    caps = md.cap_t()
    market_em = np.zeros((len(md.markets), n_p))
    for p in range(n_p):
        np.add.at(market_em[:, p], em, emissions[:, md.period_years(p)].sum(axis=1))
    total_cost = np.zeros(len(md.markets))
    np.add.at(total_cost, em, acost_pv.sum(axis=1))

    d: dict[str, xr.DataArray] = {
        "price": _da(price, ("market", "year"), coords, "JPY/t", "allowance clearing price in each year's money (PV dual of the period / discount factor of the year)"),
        "price_pv": _da(price_pv, ("market", "period"), coords, f"JPY/t, present value at FY{first}", "allowance price of the period in first-model-year money (the dual of market clearing)"),
        "bau_emissions": _da(md.bau_t, ("entity", "year"), coords, "t", "business-as-usual emissions"),
        "emissions": _da(emissions, ("entity", "year"), coords, "t", "emissions after abatement"),
        "abatement": _da(abate, ("entity", "year"), coords, "t", "abatement from MAC steps"),
        "abatement_cost": _da(acost, ("entity", "year"), coords, "JPY", "abatement cost in that year's money"),
        "allocation": _da(md.alloc_t, ("entity", "period"), coords, "t", "free allocation for the period"),
        "net_purchase": _da(net_purchase, ("entity", "period"), coords, "t", "allowances bought minus sold in the period (positive = bought, negative = sold)"),
        "compliance_cost": _da(comp, ("entity", "period"), coords, pv_money, "abatement cost plus the value of allowances bought minus sold at the clearing price (who bears what)"),
        "cap": _da(caps, ("market", "period"), coords, "t", "cap: sum of the market's allocations for the period"),
        "market_emissions": _da(market_em, ("market", "period"), coords, "t", "emissions of the market's entities over the period"),
        "bank": _da(bank, ("market", "period"), coords, "t", "allowances banked at the end of the period (negative = borrowed)"),
        "expired": _da(expired, ("market", "period"), coords, "t", "unused allowances that lapsed at the end of the period (banking off)"),
        "total_cost": _da(total_cost, ("market",), coords, pv_money, "total abatement cost of the market"),
    }
    ds = xr.Dataset(d)
    ds = ds.assign_coords(
        entity_market=("entity", ent["market"].to_numpy().astype(str)),
        entity_sector=("entity", ent["sector"].to_numpy().astype(str)),
        entity_prefecture=("entity", ent["prefecture"].to_numpy().astype(str)),
        entity_administrator=("entity", ent["administrator"].to_numpy().astype(str)),
    )
    for coord, desc in [("entity_market", "market of the entity"), ("entity_sector", "sector of the entity"),
                        ("entity_prefecture", "prefecture of the entity"), ("entity_administrator", "administrator of the entity")]:
        ds[coord].attrs = {"units": "", "description": desc}
    ds = ds.merge(_aggregates(ds))

    ds.attrs.update({
        "scenario": scn.name,
        "description": scn.description,
        "dataset": md.dataset.name,
        "config": scn.resolved_json(),
        "first_year": first,
        "termination": sr.termination,
        "engine": sr.engine,
        "objective_jpy": sr.objective_jpy,
        "solve_time_s": sr.solve_time_s,
        "highs_info": json.dumps(sr.info, sort_keys=True),
        "timings_s": json.dumps({k: round(v, 4) for k, v in timings.items()}, sort_keys=True),
        **versions(),
    })
    return ds


_AGG_VARS = {
    "emissions": ("year", "t", "emissions"),
    "abatement": ("year", "t", "abatement"),
    "abatement_cost": ("year", "JPY", "abatement cost in that year's money"),
    "net_purchase": ("period", "t", "net allowance purchases (negative = net seller)"),
}


def _aggregates(ds: xr.Dataset) -> xr.Dataset:
    """Sums over entities by (market, sector), (market, prefecture) and (market, administrator)."""
    out: dict[str, Any] = {}
    for group in ("sector", "prefecture", "administrator"):
        key = ds[f"entity_{group}"].to_numpy()
        mkt = ds["entity_market"].to_numpy()
        labels = np.array(sorted(set(key)), dtype=str)
        markets = ds["market"].to_numpy()
        gi = pd.Index(labels).get_indexer(key)
        mi = pd.Index(markets).get_indexer(mkt)
        for var, (tdim, units, desc) in _AGG_VARS.items():
            vals = ds[var].to_numpy()
            agg = np.zeros((len(markets), len(labels), vals.shape[1]))
            np.add.at(agg, (mi, gi), vals)
            out[f"{var}_by_{group}"] = xr.DataArray(
                agg, dims=("market", group, tdim),
                coords={"market": markets, group: labels, tdim: ds[tdim].to_numpy()},
                attrs={"units": units, "description": f"{desc}, summed by market and {group}"},
            )
    return xr.Dataset(out)
