"""IAMC-format export: ``model, scenario, region, variable, unit`` and one column per year.

The IAMC timeseries format is the exchange format of the integrated-assessment community
(scenario explorers, ``pyam``); it is written here natively with pandas. Variables, with
``<Program>`` = ``National Program`` / ``Regional Program`` (other market keys are title-cased):

=====================================  ==============  ===================================================
variable                               unit            regions; meaning
=====================================  ==============  ===================================================
``Price|Carbon|<Program>``             JPY/t CO2       Japan; allowance price in each year's money
``Emissions|CO2|<Program>``            Mt CO2/yr       Japan and prefectures; covered emissions after abatement
``Baseline Emissions|CO2|<Program>``   Mt CO2/yr       Japan and prefectures; business-as-usual emissions
``Abatement|CO2|<Program>``            Mt CO2/yr       Japan and prefectures; abatement from MAC steps
``Abatement Cost|<Program>``           billion JPY/yr  Japan and prefectures; abatement cost in that year's money
``Cap|CO2|<Program>``                  Mt CO2/yr       Japan; the period's cap divided by its years
``Bank|CO2|<Program>``                 Mt CO2          Japan; bank at the end of a period, in its last year
``Cost Account (Present Value)|...``  billion JPY/yr  Japan; the cost account, present values, below
=====================================  ==============  ===================================================

Split markets (``split_by``, ``nationcap/derive/scope.py``): ``regional/Tokyo`` is reported as
its table's program with the group as the region, so ``Price|Carbon|Regional Program`` has one
row per administrator (or prefecture) and no Japan row (there is no one price); caps and banks
have a row per group and a Japan row, their sum; emissions, abatement and costs are summed over
the table's markets per prefecture and for Japan.

The cost account (README "Cost account", :data:`nationcap.results.build.COST_ACCOUNT`) is
exported as ``Cost Account (Present Value)|<Item>|<Program>`` (:data:`ACCOUNT`): its amounts are
present values at the first model year, unlike every other money row (each year's money), and the
variable's name says so, since an IAMC unit has no place for it. ``<Item>`` is ``Total Cost`` (``total_cost``, the
resource cost), ``Net Cost Covered`` (``net_cost_covered``) and each item of the account,
title-cased (``Abatement``, ``Offsets``, ``Imports``, ``Ceiling Payments``, ``Floor Receipts``,
``Reserve Release Payments``, ``Reserve Withhold Receipts``, ``Auction Payments``, ``Final
Shortfall Purchases``), every amount positive (receipts too: their sign is the item's); an item
that is zero in every period of a program (in every member of a batch) has no row. They are
present values at the first model year, per period in the results; the export spreads each
period's amount evenly over its years (as ``Cap``), so the sum over the years of a row is the
result's sum over periods.

Prefecture rows come from the ``*_by_prefecture`` aggregates (only prefectures with at least one
entity in the program); the Japan row is the sum over entities, so it equals the sum of the
prefecture rows. A sweep gives one IAMC scenario per member (``<name>/s000``, ...). A Monte
Carlo gives its pointwise quantiles across the successful draws as scenarios ``<name>/p05``,
``/p50``, ``/p95`` (each row the quantile of that row over the draws, so there Japan is not the
sum of the prefectures' quantiles); the draws themselves stay in ``results.nc`` and
``draws.csv`` (a table of every draw would be ~380 rows per draw).

Units and pyam. The unit strings are those of the IAMC conventions, read by pyam's unit registry
(the ``iam-units`` package, a pint registry):

- ``Mt CO2/yr`` and ``Mt CO2`` convert as they are: pyam separates the species (``CO2``) and
  converts the mass (``df.convert_unit("Mt CO2/yr", to="kt CO2/yr")``).
- ``JPY``: iam-units defines no yen (its currencies are ``USD_<year>`` and ``EUR_<year>``).
  Define it once, ``iam_units.registry.define("JPY = [currency_JPY]")``; then
  ``convert_unit("billion JPY/yr", to="million JPY/yr")`` works. Converting to another currency
  needs an exchange rate and a price year that nationcap does not choose: give it as
  ``convert_unit("billion JPY/yr", to="billion USD_2020/yr", factor=rate)``. The amounts are
  each year's money, not discounted (as ``price`` and ``abatement_cost`` in ``results.nc``), except
  the ``Cost Account (Present Value)`` rows (above).
- ``JPY/t CO2`` parses (``JPY/t`` once JPY is defined, species ``CO2``), but pyam converts a
  unit with a species only when it is a mass (it fails the same way for the IAMC's own
  ``USD_2010/t CO2``): convert prices with ``factor=``.

``tests/results/test_iamc_units.py`` checks every unit string against iam-units this way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from ..atomic import atomic_file
from ..config.schema import is_split, market_group, market_table, markets_by_table
from ..vocab import DRAW_DIM, SWEEP_DIM
from .build import COST_ACCOUNT
from .io import batch_dim, write_csv, year_periods

INDEX = ["model", "scenario", "region", "variable", "unit"]
PROGRAM = {"national": "National Program", "regional": "Regional Program"}
MC_QUANTILES = (0.05, 0.5, 0.95)
#: the top of the cost account's variables: their amounts are present values at the first model
#: year, spread over each period's years, so they are not comparable with the yearly-money rows
ACCOUNT = "Cost Account (Present Value)"


def program_name(market: str) -> str:
    return PROGRAM.get(market, market.replace("_", " ").title() + " Program")


def sum_by_table(da: xr.DataArray) -> xr.DataArray:
    """``da`` summed over the markets split from one table (market labels: the tables; attributes
    kept); ``da`` itself when no market is split."""
    markets = [str(m) for m in da["market"].values]
    if not any(is_split(m) for m in markets):
        return da
    tables = xr.DataArray([market_table(m) for m in markets], dims="market", coords={"market": da["market"]})
    out = da.groupby(tables.rename("table")).sum("market", min_count=1).rename(table="market")
    out.attrs = da.attrs
    return out


def account_variables() -> list[tuple[str, str]]:
    """(results variable, IAMC name) of the cost account: ``total_cost``, ``net_cost_covered`` and
    every item of :data:`~nationcap.results.build.COST_ACCOUNT`, in that order."""
    return [("total_cost", "Total Cost"), ("net_cost_covered", "Net Cost Covered")] + [
        (item.variable, item.iamc) for item in COST_ACCOUNT
    ]


def _rows(da: xr.DataArray, variable: str, unit: str, region: str | None = None) -> pd.DataFrame:
    """Long rows from a DataArray over ([member], market, [prefecture], year). ``region``: a fixed
    region, or None for the prefecture coordinate; ``"group"`` for the market's split group
    (``Japan`` for a market that is not split)."""
    df = da.to_series().rename("value").reset_index()
    market = df["market"].astype(str)
    labels = market.unique()  # (named once per market, not once per row: a batch has many rows)
    df["variable"] = market.map({m: variable + "|" + program_name(market_table(m)) for m in labels}).astype(str)
    if region == "group":
        df["region"] = market.map({m: market_group(m) or "Japan" for m in labels}).astype(str)
    else:
        df["region"] = df["prefecture"].astype(str) if region is None else region
    df["unit"] = unit
    keep = [c for c in df.columns if c not in ("market", "prefecture", "variable", "region", "unit", "year", "value")]
    return df[keep + ["region", "variable", "unit", "year", "value"]]


def _split_totals(da: xr.DataArray, variable: str, unit: str) -> pd.DataFrame:
    """The Japan rows of the split tables: ``da`` summed over each split table's markets (no rows
    when no market is split)."""
    split = [t for t, ms in markets_by_table(da["market"].values).items() if any(is_split(m) for m in ms)]
    return _rows(sum_by_table(da).sel(market=split), variable, unit, "Japan").dropna(subset=["value"])


def iamc_long(res: xr.Dataset, across: xr.Dataset | None = None) -> pd.DataFrame:
    """Long IAMC rows ([member], region, variable, unit, year, value) of a single run or a batch.

    Every operation broadcasts over a batch dimension, so a batch is converted in one pass.
    ``res`` may be a block of the members of ``across``: the rows left out for want of an entity
    or of an amount in any member are then decided on ``across`` (default ``res``).
    """
    across = res if across is None else across
    parts = [_rows(res["price"], "Price|Carbon", "JPY/t CO2", "group")]
    # prefectures with at least one entity of the program (a batch member: in any member)
    present = across["entities_by_prefecture"] > 0
    if DRAW_DIM in present.dims or SWEEP_DIM in present.dims:
        present = present.any([d for d in (DRAW_DIM, SWEEP_DIM) if d in present.dims])
    flows = [
        ("Emissions|CO2", 1e-6, "Mt CO2/yr", res["emissions_by_prefecture"]),
        ("Baseline Emissions|CO2", 1e-6, "Mt CO2/yr", res["bau_emissions_by_prefecture"]),
        ("Abatement|CO2", 1e-6, "Mt CO2/yr", res["abatement_by_prefecture"]),
        ("Abatement Cost", 1e-9, "billion JPY/yr", res["abatement_cost_by_prefecture"]),
    ]
    present = sum_by_table(present.astype(int)) > 0
    for name, scale, unit, by_pref in flows:
        by_pref = sum_by_table(by_pref)
        parts.append(_rows((by_pref * scale).where(present), name, unit).dropna(subset=["value"]))
        # Japan: the sum over prefectures, which is the sum over the program's entities
        parts.append(_rows((by_pref * scale).sum("prefecture", min_count=1), name, unit, "Japan"))

    # period quantities: the cap as an annual average, the bank in the period's last year
    ypp = year_periods(res)
    years = res["year"].values
    period_of = xr.DataArray([ypp[int(y)] for y in years], dims="year", coords={"year": years})
    n_years = xr.DataArray(
        [sum(1 for v in ypp.values() if v == ypp[int(y)]) for y in years], dims="year", coords={"year": years}
    )
    last = xr.DataArray(
        [int(y) == max(k for k, v in ypp.items() if v == ypp[int(y)]) for y in years],
        dims="year",
        coords={"year": years},
    )
    cap = res["cap"].sel(period=period_of).drop_vars("period") * 1e-6 / n_years
    bank = (res["bank"].sel(period=period_of).drop_vars("period") * 1e-6).where(last)
    parts.append(_rows(cap, "Cap|CO2", "Mt CO2/yr", "group"))
    parts.append(_rows(bank, "Bank|CO2", "Mt CO2", "group").dropna(subset=["value"]))
    parts += [_split_totals(cap, "Cap|CO2", "Mt CO2/yr"), _split_totals(bank, "Bank|CO2", "Mt CO2")]
    # the cost account: each period's present value spread evenly over its years; an item that is
    # zero in every period (and member) of a market is left out, the totals are always there
    for var, name in account_variables():
        if var in res and "period" in res[var].dims:  # (results of older versions lack the account)
            spread = res[var].sel(period=period_of).drop_vars("period") * 1e-9 / n_years
            if var.startswith("account_"):
                spread = spread.where((across[var] != 0).any([d for d in across[var].dims if d != "market"]))
            parts.append(_rows(spread, f"{ACCOUNT}|{name}", "billion JPY/yr", "group").dropna(subset=["value"]))
            parts.append(_split_totals(spread, f"{ACCOUNT}|{name}", "billion JPY/yr"))

    df = pd.concat(parts, ignore_index=True)
    df["year"] = df["year"].astype(int)
    return df


def wide(long: pd.DataFrame) -> pd.DataFrame:
    """Long rows -> the IAMC wide table (years as columns), Japan first within each variable."""
    out = long.pivot_table(index=INDEX, columns="year", values="value", aggfunc="first", sort=False)
    out.columns = [str(c) for c in out.columns]
    out = out.reset_index()
    out["_japan"] = out["region"] != "Japan"
    out = out.sort_values(["scenario", "variable", "_japan", "region"], kind="stable").drop(columns="_japan")
    years = sorted(c for c in out.columns if c not in INDEX)
    return out[INDEX + years].reset_index(drop=True)


def to_iamc(res: xr.Dataset) -> pd.DataFrame:
    """The IAMC wide table of a single run, of every successful point of a sweep, or of the
    quantile scenarios over the successful draws of a Monte Carlo (module doc)."""
    name = str(res.attrs.get("scenario", "scenario"))
    model = f"nationcap {res.attrs.get('nationcap_version', __version__)}"
    dim = batch_dim(res)
    if dim is None:
        long = iamc_long(res)
        long.insert(0, "scenario", name)
    else:
        ok = np.flatnonzero(res["status"].values.astype(str) == "ok")
        if not len(ok):
            return pd.DataFrame(columns=INDEX)
        long = iamc_long(res.isel({dim: ok}))
        labels = {c: (f"draw{int(c):03d}" if dim == "draw" else str(c)) for c in res[dim].values[ok].tolist()}
        long.insert(0, "scenario", [f"{name}/{labels[c]}" for c in long.pop(dim).tolist()])
        if dim == "draw":
            keys = ["region", "variable", "unit", "year"]
            qs = []
            for q in MC_QUANTILES:
                qd = long.groupby(keys, sort=False)["value"].quantile(q).reset_index()
                qd.insert(0, "scenario", f"{name}/p{round(q * 100):02d}")
                qs.append(qd)
            long = pd.concat(qs, ignore_index=True)
    long.insert(0, "model", model)
    return wide(long)


def is_iamc_file(path: str | Path) -> bool:
    """Whether ``path`` is an IAMC table nationcap wrote: its header is :data:`INDEX` and years,
    and its rows name a nationcap model (what ``export --force`` may replace)."""
    try:
        with open(path, encoding="utf-8") as fh:
            header, first = fh.readline().rstrip("\n"), fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    cols = header.split(",")
    return (
        cols[: len(INDEX)] == INDEX
        and all(c.isdigit() for c in cols[len(INDEX) :])
        and (first == "" or first.startswith("nationcap "))
    )


def write_iamc(res: xr.Dataset, path: str | Path) -> pd.DataFrame:
    """Write the IAMC table of ``res`` to ``path`` atomically (temporary file, then rename)."""
    df = to_iamc(res)
    with atomic_file(Path(path)) as tmp:
        write_csv(df, tmp)
    return df
