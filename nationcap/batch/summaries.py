"""Summaries of combined batch results: the market-year table, sweep and Monte Carlo tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from ..model.rules import RULES
from ..results.build import COST_ACCOUNT
from ..results.io import column_name, csv_tables, year_periods
from ..vocab import DRAW_DIM, SWEEP_DIM

#: the cost account's variables in the market-year table (README "Cost account")
PERIOD_COSTS = ("total_cost", "net_cost_covered", *(item.variable for item in COST_ACCOUNT))


def market_year_table(res: xr.Dataset) -> pd.DataFrame:
    """Tidy (member,) market, year table: price, emissions, abatement, cost, and per period the
    cap, the bank and the cost account (``total_cost``, ``net_cost_covered``, ``account_*``).

    Columns are named by :func:`nationcap.results.io.column_name`, as in the per-variable tables.
    Every value of a failed batch member is empty (NaN), never a sum over nothing (0).
    """
    dim = res.attrs.get("batch_dim")
    dims = [dim] if dim else []
    if "price" not in res:
        return pd.DataFrame()
    col = lambda v: column_name(v, res[v].attrs)  # noqa: E731
    year_period = year_periods(res)
    df = res["price"].to_dataframe(name=col("price"))[[col("price")]]
    # market x year sums; min_count=1: a member without values (failed) sums to NaN, not 0
    by = lambda v: res[f"{v}_by_sector"].sum("sector", min_count=1).to_series()  # noqa: E731
    for v in ("emissions", "abatement", "abatement_cost"):  # named as the per-entity variable
        df[column_name(v, res[f"{v}_by_sector"].attrs)] = by(v)
    df = df.reset_index()
    df.insert(len(dims) + 2, "period", df["year"].map(year_period))
    # period quantities, repeated in each year of the period: cap, bank and the cost account (its
    # totals and items; results of older versions may lack some, and hold total_cost per market)
    names = ["cap", "bank"] + [v for v in PERIOD_COSTS if v in res and "period" in res[v].dims]
    per = res[names].to_dataframe()[names].rename(columns={v: col(v) for v in names}).reset_index()
    df = df.merge(per, on=dims + ["market", "period"], how="left")
    if "total_cost" in res and "period" not in res["total_cost"].dims:
        tc = res["total_cost"].to_dataframe(name=col("total_cost"))[[col("total_cost")]].reset_index()
        df = df.merge(tc, on=dims + ["market"], how="left")
    df = _coverage_columns(res, df, dims)
    if dim and "status" in res:
        failed = df[dim].isin(res[dim].values[res["status"].values.astype(str) != "ok"])
        values = [c for c in df.columns if c not in (dim, "market", "year", "period")]
        df.loc[failed, values] = np.nan
    return df


def _coverage_columns(res: xr.Dataset, df: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Who is covered and at what cost per tonne: the market's entities (``entities``), its BAU
    share of national CO2 (``coverage_share``), and the present-value cost per tonne abated over
    all periods (``cost_per_t_abated_jpy_per_t_pv``, the results variable ``cost_per_t_abated``),
    so a sweep over a market's size threshold reads as a coverage-cost table."""
    n = res["entities_by_sector"].sum("sector", min_count=1).to_dataframe(name="entities")[["entities"]]
    df = df.merge(n.reset_index(), on=dims + ["market"], how="left")
    df["entities"] = df["entities"].astype("Int64")  # a count; empty for a failed member
    if "coverage_share" in res and bool(res["coverage_share"].notnull().any()):  # NaN: no national totals
        share = res["coverage_share"].to_dataframe(name="coverage_share")[["coverage_share"]].reset_index()
        df = df.merge(share, on=dims + ["market", "year"], how="left")
    if "cost_per_t_abated" in res:
        v = "cost_per_t_abated"
        per_t = res[v].to_dataframe(name=column_name(v, res[v].attrs))[[column_name(v, res[v].attrs)]]
        df = df.merge(per_t.reset_index(), on=dims + ["market"], how="left")
    return df


def sweep_summary(res: xr.Dataset) -> pd.DataFrame:
    """summary.csv of a sweep: scenario, swept values, status, then the market-year table."""
    dim = SWEEP_DIM
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    head = pd.DataFrame({dim: res[dim].values, **{k: res[k].values for k in params}, "status": res["status"].values})
    table = market_year_table(res)
    if table.empty:
        return head
    return head.merge(table, on=dim, how="right")


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def montecarlo_summary(res: xr.Dataset) -> pd.DataFrame:
    """summary.csv of a Monte Carlo run: the price distribution per market and year
    (``price_mean_jpy_per_t``, ``price_p05_jpy_per_t``, ...: :func:`~nationcap.results.io.column_name`)."""
    if "price" not in res:
        return pd.DataFrame(columns=["market", "year", "n_draws"])
    ok = res["status"] == "ok"
    price = res["price"].where(ok)
    col = lambda stat: column_name("price", res["price"].attrs, stat)  # noqa: E731 (price_mean_jpy_per_t, ...)
    rows = {
        "n_draws": price.count(DRAW_DIM),
        col("mean"): price.mean(DRAW_DIM),
        col("sd"): price.std(DRAW_DIM, ddof=1) if int(ok.sum()) > 1 else price.mean(DRAW_DIM) * np.nan,
        col("min"): price.min(DRAW_DIM),
    }
    for q in QUANTILES:
        rows[col(f"p{round(q * 100):02d}")] = price.quantile(q, dim=DRAW_DIM).drop_vars("quantile")
    rows[col("max")] = price.max(DRAW_DIM)
    for rule in RULES:  # the rules' per-draw statistics (NaN where they do not apply)
        if hasattr(rule, "montecarlo"):
            rows.update({column_name(k, da.attrs): da for k, da in rule.montecarlo(res).items()})
    df = pd.DataFrame({k: v.to_series() for k, v in rows.items()}).reset_index()
    df.insert(2, "period", df["year"].map(year_periods(res)))
    return df


def combined_tables(res: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The per-variable CSV tables of a batch (as for a single run, without the config text)."""
    slim = res.drop_vars(["config"], errors="ignore")
    return csv_tables(slim)
