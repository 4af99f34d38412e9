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
from .coverage import coverage_table
from .model import overlap
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
    return xr.DataArray(
        values, dims=dims, coords={d: coords[d] for d in dims}, attrs={"units": units, "description": description}
    )


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
    grid = np.zeros((n_e, n_y))
    if "ElecSaved" in sr.values:  # coupled electricity overlap: suppliers emit less
        grid = md.scenario.overlap.marginal_grid_factor * overlap.power_weights(md) * sr.values["ElecSaved"][None, :]
    emissions = md.bau_t - abate - grid

    price_pv = present_value_prices(md, sr.duals["MarketClearing"].reshape(n_m, n_p))
    price = year_prices(md, price_pv)
    em = md.entity_market
    rules = _rule_results(md, sr, coords, price_pv)
    # PV compliance cost: PV abatement cost + allowances bought at the PV price of the period
    # (+ offset credits at their PV price + last-period shortfall bought by the administrator)
    acost_pv = acost * md.discount[None, :]
    comp = rules.pop("_entity_extra_cost")
    for p in range(n_p):
        comp[:, p] += acost_pv[:, md.period_years(p)].sum(axis=1) + net_purchase[:, p] * price_pv[em, p]

    caps = md.cap_t()
    market_em = np.zeros((len(md.markets), n_p))
    for p in range(n_p):
        np.add.at(market_em[:, p], em, emissions[:, md.period_years(p)].sum(axis=1))
    total_cost = np.zeros(len(md.markets))
    np.add.at(total_cost, em, acost_pv.sum(axis=1))
    total_cost += rules.pop("_market_extra_cost")

    d: dict[str, xr.DataArray] = {
        "price": _da(
            price,
            ("market", "year"),
            coords,
            "JPY/t",
            "allowance clearing price in each year's money (PV dual of the period / discount factor of the year)",
        ),
        "price_pv": _da(
            price_pv,
            ("market", "period"),
            coords,
            f"JPY/t, present value at FY{first}",
            "allowance price of the period in first-model-year money (the dual of market clearing)",
        ),
        "bau_emissions": _da(md.bau_t, ("entity", "year"), coords, "t", "business-as-usual emissions"),
        "emissions": _da(emissions, ("entity", "year"), coords, "t", "emissions after abatement"),
        "abatement": _da(abate, ("entity", "year"), coords, "t", "abatement from MAC steps"),
        "abatement_cost": _da(acost, ("entity", "year"), coords, "JPY", "abatement cost in that year's money"),
        "allocation": _da(md.alloc_t, ("entity", "period"), coords, "t", "free allocation for the period"),
        "net_purchase": _da(
            net_purchase,
            ("entity", "period"),
            coords,
            "t",
            "allowances bought minus sold in the period (positive = bought, negative = sold)",
        ),
        "compliance_cost": _da(
            comp,
            ("entity", "period"),
            coords,
            pv_money,
            "abatement cost plus the value of allowances bought minus sold at the clearing price (who bears what)",
        ),
        "cap": _da(caps, ("market", "period"), coords, "t", "cap: sum of the market's allocations for the period"),
        "market_emissions": _da(
            market_em, ("market", "period"), coords, "t", "emissions of the market's entities over the period"
        ),
        "bank": _da(
            bank, ("market", "period"), coords, "t", "allowances banked at the end of the period (negative = borrowed)"
        ),
        "expired": _da(
            expired,
            ("market", "period"),
            coords,
            "t",
            "unused allowances that lapsed at the end of the period (banking off)",
        ),
        "total_cost": _da(
            total_cost,
            ("market",),
            coords,
            pv_money,
            "total cost of the market: abatement, offset credits bought and foreign allowances imported",
        ),
        "grid_reduction": _da(
            grid,
            ("entity", "year"),
            coords,
            "t",
            "power suppliers' emissions avoided by the user market's electricity savings (overlap = coupled)",
        ),
        **rules,
        **_link_results(md, sr, coords),
        **_overlap_results(md, emissions, coords),
    }
    ds = xr.Dataset(d)
    ds = ds.assign_coords(
        entity_market=("entity", ent["market"].to_numpy().astype(str)),
        entity_sector=("entity", ent["sector"].to_numpy().astype(str)),
        entity_prefecture=("entity", ent["prefecture"].to_numpy().astype(str)),
        entity_administrator=("entity", ent["administrator"].to_numpy().astype(str)),
    )
    for coord, desc in [
        ("entity_market", "market of the entity"),
        ("entity_sector", "sector of the entity"),
        ("entity_prefecture", "prefecture of the entity"),
        ("entity_administrator", "administrator of the entity"),
    ]:
        ds[coord].attrs = {"units": "", "description": desc}
    ds = ds.merge(_aggregates(ds))

    ds.attrs.update(
        {
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
        }
    )
    return ds


def _link_results(md: ModelData, sr: SolveResult, coords: dict) -> dict[str, Any]:
    """Transfers between linked markets and the rents of binding link limits."""
    dirs = ["national_to_regional", "regional_to_national"]
    c = {**coords, "direction": np.array(dirs, dtype=str)}
    n_p = len(md.periods)
    moved = np.zeros((2, n_p))
    rent = np.zeros((2, n_p))
    for k, (var, limit) in enumerate((("LinkNR", "LinkLimitNR"), ("LinkRN", "LinkLimitRN"))):
        if var in sr.values:
            moved[k] = sr.values[var]
        if limit in sr.duals:
            rent[k] = np.where(np.abs(sr.duals[limit]) < 1e-6, 0.0, -sr.duals[limit])
    # a simultaneous flow both ways is a zero-cost round trip the LP may leave in: report net flows
    ratio = md.scenario.link.ratio
    net_n = moved[0] - moved[1] / ratio  # in national allowances, + = national to regional
    moved = np.vstack([np.where(net_n > 0, net_n, 0.0), np.where(net_n < 0, -net_n * ratio, 0.0)])
    first = md.scenario.first_year
    return {
        "link_transfer": _da(
            moved,
            ("direction", "period"),
            c,
            "t",
            "net allowances moved between the linked markets, in t of the sending market",
        ),
        "link_limit_rent": _da(
            rent,
            ("direction", "period"),
            c,
            f"JPY/t, present value at FY{first}",
            "value of one more tonne of link capacity (negated dual of the binding limit; 0 if not binding)",
        ),
    }


def _overlap_results(md: ModelData, emissions: np.ndarray, coords: dict) -> dict[str, Any]:
    """Double-counted electricity tonnes and coverage of national CO2 (BAU basis)."""
    n_p = len(md.periods)
    es = md.dataset.entities["electricity_share"].to_numpy(dtype=float)
    dc = np.array([(emissions[:, md.period_years(p)] * es[:, None]).sum() for p in range(n_p)])
    cov = coverage_table(md.scenario, md.dataset, pd.DataFrame(md.bau_t, index=md.entities, columns=md.years))
    share = np.array([cov[f"share_{m}"].to_numpy() for m in md.markets])
    return {
        "double_counted": _da(
            dc,
            ("period",),
            coords,
            "t",
            "purchased-electricity emissions of entities (electricity_share x emissions), also emitted by power plants",
        ),
        "coverage_share": _da(
            share, ("market", "year"), coords, "1", "BAU emissions of the market / national CO2 (dataset.toml)"
        ),
        "double_counted_share": _da(
            cov["share_double_counted"].to_numpy(),
            ("year",),
            coords,
            "1",
            "BAU electricity emissions counted in two programs / national CO2",
        ),
        "combined_coverage_share": _da(
            cov["share_combined"].to_numpy(),
            ("year",),
            coords,
            "1",
            "share of national CO2 covered by the programs together, without double counting (proposal: >= 0.60)",
        ),
    }


def _rule_results(md: ModelData, sr: SolveResult, coords: dict, price_pv: np.ndarray) -> dict[str, Any]:
    """Results of the program rules (zeros / NaN when a rule is off), plus two private cost arrays."""
    from .model import offsets, price_band, shortfall

    n_e, n_m, n_p = md.n_entities, len(md.markets), len(md.periods)
    first = md.scenario.first_year
    pv_money = f"JPY, present value at FY{first}"
    em = md.entity_market
    vals, duals = sr.values, sr.duals
    entity_extra = np.zeros((n_e, n_p))
    market_extra = np.zeros(n_m)
    out: dict[str, Any] = {
        "base_emissions": _da(
            md.base_t, ("entity",), coords, "t", "base-year emissions used for the allocation (per year)"
        ),
        "base_year_first": _da(
            md.base_first_year,
            ("entity",),
            coords,
            "fiscal year",
            "first fiscal year of the 3-year base window chosen from history (-1: from entities.csv)",
        ),
    }

    # offsets
    types = np.array(md.offset_types, dtype=str)
    if len(types):
        c = {**coords, "offset_type": types}
        used = np.zeros((n_e, len(types), n_p))
        for k, (e, t, p) in enumerate(offsets.use_index(md)):
            used[e, t, p] = vals["OffsetUse"][k]
        bought = np.zeros((n_m, len(types), n_p))
        cost = np.zeros(n_m)
        buy = vals.get("OffsetBuy", np.zeros(len(md.off_qty_t)))
        np.add.at(bought, (md.off_market, md.off_type, md.year_period[md.off_year]), buy)
        np.add.at(cost, md.off_market, buy * md.off_cost * md.discount[md.off_year])
        oprice = np.full((n_m, len(types), n_p), np.nan)
        for k, (a, t, p) in enumerate(offsets.balance_index(md)):
            oprice[a, t, p] = duals["OffsetBalance"][k] if "OffsetBalance" in duals else 0.0
        oprice = np.where(np.abs(oprice) < 1e-6, 0.0, oprice)
        entity_extra += np.einsum("etp,etp->ep", used, np.nan_to_num(oprice[em]))
        market_extra += cost
        out["offsets_used"] = _da(
            used, ("entity", "offset_type", "period"), c, "t", "offset credits surrendered for the period"
        )
        out["offsets_bought"] = _da(
            bought, ("market", "offset_type", "period"), c, "t", "offset credits bought from the supply steps"
        )
        out["offset_price_pv"] = _da(
            oprice,
            ("market", "offset_type", "period"),
            c,
            f"JPY/t, present value at FY{first}",
            "clearing price of the credit type in the period (dual of the offset balance; NaN = no supply)",
        )

    # shortfall
    sf = np.zeros((n_e, n_p))
    for k, (e, p) in enumerate(shortfall.index(md)):
        sf[e, p] = vals["Shortfall"][k]
    sf = np.where(sf < 1e-6, 0.0, sf)
    nonc = np.zeros((n_m, n_p), dtype=np.int64)
    np.add.at(nonc, em, (sf > 0).astype(np.int64))
    fines = np.array([[md.market_config(a).fine_jpy * nonc[a, p] for p in range(n_p)] for a in range(n_m)], dtype=float)
    final = np.zeros(n_m)
    for a in range(n_m):
        price = md.market_config(a).final_shortfall_price_jpy_per_t
        if price is not None:
            per_entity = sf[:, -1] * price * md.discount[-1] * (em == a)
            entity_extra[:, -1] += per_entity
            final[a] = per_entity.sum()
    out["shortfall"] = _da(
        sf,
        ("entity", "period"),
        coords,
        "t",
        "allowances not surrendered for the period; owed x penalty_multiplier in the next period",
    )
    out["noncompliant_entities"] = _da(nonc, ("market", "period"), coords, "entities", "entities with a shortfall")
    out["fines"] = _da(
        fines, ("market", "period"), coords, "JPY", "fine_jpy x non-compliant entities (reported, not optimised)"
    )
    out["final_shortfall_cost"] = _da(
        final, ("market",), coords, pv_money, "allowances bought by the administrator for last-period shortfalls"
    )

    # price band and imports, per market and year / period
    for name, src, desc in (
        ("price_floor", md.floor, "price floor"),
        ("price_ceiling", md.ceiling, "price ceiling"),
        ("import_price", md.import_price, "price of foreign allowances"),
    ):
        out[name] = _da(src, ("market", "year"), coords, "JPY/t", f"{desc} in each year's money (NaN = none)")
    for name, var, values, desc in (
        ("ceiling_issued", "CeilingIssue", md.ceiling, "allowances sold at the price ceiling"),
        ("floor_withdrawn", "FloorWithdraw", md.floor, "allowances withdrawn at the price floor"),
        ("imports", "Import", md.import_price, "foreign allowances imported"),
    ):
        vol = np.zeros((n_m, n_p))
        pay = np.zeros((n_m, n_p))
        if var in vals:
            for k, (a, y) in enumerate(price_band._index(values)):
                vol[a, md.year_period[y]] += vals[var][k]
                pay[a, md.year_period[y]] += vals[var][k] * values[a, y] * md.discount[y]
        out[name] = _da(vol, ("market", "period"), coords, "t", desc)
        if var == "Import":
            market_extra += pay.sum(axis=1)
        else:
            out[f"{name}_payments"] = _da(pay, ("market", "period"), coords, pv_money, f"payments for {desc}")
    auction = md.auction_t()
    out["auction_volume"] = _da(auction, ("market", "period"), coords, "t", "allowances auctioned (share of the cap)")
    out["auction_revenue"] = _da(
        auction * price_pv, ("market", "period"), coords, pv_money, "auction volume x clearing price"
    )
    out["_entity_extra_cost"] = entity_extra
    out["_market_extra_cost"] = market_extra
    return out


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
                agg,
                dims=("market", group, tdim),
                coords={"market": markets, group: labels, tdim: ds[tdim].to_numpy()},
                attrs={"units": units, "description": f"{desc}, summed by market and {group}"},
            )
    return xr.Dataset(out)
