"""Sums over entities by group: by (market, sector), (market, prefecture) and (market,
administrator), the number of entities in each group, the allowances traded between
administrators of one market, and the entities no market covers by group. Part of the results
Dataset (:func:`nationcap.results.build.build_results`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..model.data import ModelData
from ..model.rules.base import data_array, variable_attrs

_AGG_VARS = {
    "bau_emissions": ("year", "t", "business-as-usual emissions"),
    "emissions": ("year", "t", "emissions"),
    "abatement": ("year", "t", "abatement"),
    "abatement_cost": ("year", "JPY", "abatement cost in that year's money"),
    "net_purchase": ("period", "t", "net allowance purchases (negative = net seller)"),
    "compliance_cost": (
        "period",
        "JPY",
        "compliance cost (abatement plus allowances bought minus sold at the clearing price, and what the rules add)",
    ),
}


def _groups(md: ModelData, group: str) -> tuple[np.ndarray, np.ndarray]:
    """(sorted labels, group index of each entity of the model) of an entity attribute. The labels
    are those of every entity of the dataset, covered or not, so that runs with different
    selections (the points of a threshold sweep) share their coordinates."""
    scope = md.scope
    every = scope.input if scope is not None and scope.input is not None else md.dataset
    labels, index = every.groups(group)
    if scope is not None and scope.active:
        index = index[scope.entity_index]
    return labels, index


def aggregates(md: ModelData, per_entity: dict[str, np.ndarray], pv: str) -> xr.Dataset:
    """Sums over entities by (market, sector), (market, prefecture) and (market, administrator),
    the number of entities in each group (``entities_by_<group>``), and the allowances that move
    between administrators of one market (``traded_between_administrators``)."""
    markets = np.array(md.markets, dtype=str)
    coords_t = {"year": np.array(md.years, dtype=np.int64), "period": np.array(md.periods, dtype=str)}
    out: dict[str, Any] = {}
    for group in ("sector", "prefecture", "administrator"):
        labels, gi = _groups(md, group)
        mi = md.entity_market
        count = np.zeros((len(markets), len(labels)), dtype=np.int64)
        np.add.at(count, (mi, gi), 1)
        out[f"entities_by_{group}"] = xr.DataArray(
            count,
            dims=("market", group),
            coords={"market": markets, group: labels},
            attrs=variable_attrs("1", f"number of the market's entities, by {group}"),
        )
        key = mi * len(labels) + gi
        size = len(markets) * len(labels)
        for var, (tdim, units, desc) in _AGG_VARS.items():
            vals = per_entity[var]
            # one weighted bincount over (group, time) cells: the same sums as np.add.at (entities
            # added in the same order), much faster
            n_t = vals.shape[1]
            cells = (key[:, None] * n_t + np.arange(n_t)[None, :]).ravel()
            agg = np.bincount(cells, weights=vals.ravel(), minlength=size * n_t).reshape(len(markets), len(labels), n_t)
            out[f"{var}_by_{group}"] = xr.DataArray(
                agg,
                dims=("market", group, tdim),
                coords={"market": markets, group: labels, tdim: coords_t[tdim]},
                attrs=variable_attrs(
                    units,
                    f"{desc}, summed by market and {group}",
                    **({"money": pv} if var == "compliance_cost" else {}),
                ),
            )
    # allowances matched between administrators: min(bought by net buyers, sold by net sellers);
    # the rest of a period's positions is the market's bank (every entity's banking goes through it)
    position = out["net_purchase_by_administrator"]
    horizon = position.sum("period")
    for name, pos, dims, when in (
        ("traded_between_administrators", position, ("market", "period"), "in the period"),
        ("traded_between_administrators_total", horizon, ("market",), "over all periods"),
    ):
        bought = pos.clip(min=0.0).sum("administrator")
        sold = (-pos).clip(min=0.0).sum("administrator")
        out[name] = xr.DataArray(
            np.minimum(bought.values, sold.values),
            dims=dims,
            coords={d: (markets if d == "market" else coords_t[d]) for d in dims},
            attrs=variable_attrs(
                "t",
                f"allowances that move between administrators of the market {when}: the smaller of what the "
                "net buying administrators bought and what the net selling ones sold (net_purchase_by_administrator"
                + (" summed over periods" if dims == ("market",) else "")
                + "); the rest is banked or drawn from the bank",
            ),
        )
    return xr.Dataset(out)


def uncovered_results(md: ModelData, coords: dict) -> dict[str, xr.DataArray]:
    """Entities no market selects (:mod:`nationcap.derive.scope`): they emit their BAU. Counts and
    BAU by sector, prefecture and administrator, their total and its share of national CO2."""
    assert md.scope is not None
    unc = md.scope.uncovered
    bau = md.scope.uncovered_bau_t
    years = coords["year"]
    out: dict[str, xr.DataArray] = {}
    for group in ("sector", "prefecture", "administrator"):
        labels, _ = _groups(md, group)
        gi = pd.Index(labels).get_indexer(unc[group].astype(str))
        count = np.bincount(gi, minlength=len(labels)).astype(np.int64)
        cells = (gi[:, None] * len(years) + np.arange(len(years))[None, :]).ravel()
        agg = np.bincount(cells, weights=bau.ravel(), minlength=len(labels) * len(years)).reshape(
            len(labels), len(years)
        )
        out[f"uncovered_entities_by_{group}"] = xr.DataArray(
            count,
            dims=(group,),
            coords={group: labels},
            attrs=variable_attrs("1", f"number of entities no market covers, by {group}"),
        )
        out[f"uncovered_bau_emissions_by_{group}"] = xr.DataArray(
            agg,
            dims=(group, "year"),
            coords={group: labels, "year": years},
            attrs=variable_attrs("t", f"BAU emissions of the entities no market covers (they emit it), by {group}"),
        )
    total = bau.sum(axis=0)
    national = np.array([md.dataset.national_co2_t.get(int(y), np.nan) for y in years])
    out["uncovered_bau_emissions"] = data_array(
        total, ("year",), coords, "t", "BAU emissions of the entities no market covers (they emit it)"
    )
    out["uncovered_share"] = data_array(
        total / national,
        ("year",),
        coords,
        "1",
        "BAU emissions of the entities no market covers / national CO2 (dataset.toml); with coverage_share "
        "summed over markets, the share of national CO2 of every entity of the dataset",
    )
    return out
