"""Summaries of combined batch results: the market-year table, sweep and Monte Carlo tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from ..model.rules import RULES
from ..results import iamc
from ..results.build import COST_ACCOUNT
from ..results.io import column_name, csv_tables, write_csv, year_periods
from ..vocab import DRAW_DIM, SWEEP_DIM

#: the cost account's variables in the market-year table (README "Cost account")
PERIOD_COSTS = ("total_cost", "net_cost_covered", *(item.variable for item in COST_ACCOUNT))


def market_year_table(res: xr.Dataset, whole: xr.Dataset | None = None) -> pd.DataFrame:
    """Tidy (member,) market, year table: price, emissions, abatement, cost, and per period the
    cap, the bank and the cost account (``total_cost``, ``net_cost_covered``, ``account_*``).

    Columns are named by :func:`nationcap.results.io.column_name`, as in the per-variable tables.
    Every value of a failed batch member is empty (NaN), never a sum over nothing (0). ``res``
    may be a block of the members of ``whole``: which columns the table has is decided on
    ``whole`` (default ``res``), so the blocks' tables stack into the whole's.
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
    df = _coverage_columns(res, df, dims, res if whole is None else whole)
    if dim and "status" in res:
        failed = df[dim].isin(res[dim].values[res["status"].values.astype(str) != "ok"])
        values = [c for c in df.columns if c not in (dim, "market", "year", "period")]
        df.loc[failed, values] = np.nan
    return df


def _coverage_columns(res: xr.Dataset, df: pd.DataFrame, dims: list[str], whole: xr.Dataset) -> pd.DataFrame:
    """Who is covered and at what cost per tonne: the market's entities (``entities``), its BAU
    share of national CO2 (``coverage_share``), and the present-value cost per tonne abated over
    all periods (``cost_per_t_abated_jpy_per_t_pv``, the results variable ``cost_per_t_abated``),
    so a sweep over a market's size threshold reads as a coverage-cost table."""
    n = res["entities_by_sector"].sum("sector", min_count=1).to_dataframe(name="entities")[["entities"]]
    df = df.merge(n.reset_index(), on=dims + ["market"], how="left")
    df["entities"] = df["entities"].astype("Int64")  # a count; empty for a failed member
    if "coverage_share" in res and bool(whole["coverage_share"].notnull().any()):  # NaN: no national totals
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


#: draws per block of draws.csv (~20 rows a draw on the full dataset)
BLOCK = 1000
#: draws per block of the IAMC quantiles (~4,000 long rows a draw on the full dataset)
IAMC_BLOCK = 100
#: values per group of IAMC keys whose quantiles are taken at once
IAMC_GROUP_VALUES = 500_000


def write_draws_csv(res: xr.Dataset, path: Path, block: int | None = None) -> None:
    """draws.csv of a Monte Carlo: the market-year table with each draw's status, written block
    by block of ``block`` draws (default :data:`BLOCK`; the same bytes as the whole table at once)."""
    block = block or BLOCK
    if "price" not in res:
        write_csv(market_year_table(res), path)
        return
    status = dict(zip(res[DRAW_DIM].values.tolist(), res["status"].values.astype(str)))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, res.sizes[DRAW_DIM], block):
            table = market_year_table(res.isel({DRAW_DIM: slice(start, start + block)}), whole=res)
            table.insert(1, "status", table[DRAW_DIM].map(status))
            table.to_csv(fh, index=False, header=start == 0, lineterminator="\n")


def montecarlo_iamc(res: xr.Dataset, scratch: Path, block: int | None = None) -> pd.DataFrame:
    """:func:`nationcap.results.iamc.to_iamc` of a Monte Carlo (its quantile scenarios over the
    successful draws), made block by block of draws so that the long table of every draw is
    never held at once.

    Each block's rows (:func:`~nationcap.results.iamc.iamc_long`, deciding what to leave out on
    all the successful draws) become a matrix of IAMC keys (region, variable, unit, year) x draws
    in a file of ``scratch``; the quantiles are then taken over groups of keys, reading each
    group's rows of every block, with the same grouped quantile as ``to_iamc``."""
    block = block or IAMC_BLOCK
    name = str(res.attrs.get("scenario", "scenario"))
    model = f"nationcap {res.attrs.get('nationcap_version', __version__)}"
    ok = np.flatnonzero(res["status"].values.astype(str) == "ok")
    if not len(ok):
        return pd.DataFrame(columns=iamc.INDEX)
    keys = ["region", "variable", "unit", "year"]
    # what iamc_long decides on every successful draw: the prefectures with entities, the items
    # of the cost account that are not zero (read once, small)
    needed = ["entities_by_prefecture"] + [v for v, _ in iamc.account_variables() if v in res]
    across = res[needed].isel({DRAW_DIM: ok}).load()
    index: pd.MultiIndex | None = None
    files: list[tuple[Path, int, int]] = []  # (file, keys in it, draws in it)
    for start in range(0, len(ok), block):
        long = iamc.iamc_long(res.isel({DRAW_DIM: ok[start : start + block]}), across=across)
        mat = long.set_index([*keys, DRAW_DIM])["value"].unstack(DRAW_DIM)
        if index is None:
            index = mat.index
        else:
            new = mat.index.difference(index, sort=False)
            if len(new):
                index = index.append(new)
        values = mat.reindex(index).to_numpy(dtype=float)
        path = scratch / f"block-{start:09d}.bin"
        values.tofile(path)
        files.append((path, values.shape[0], values.shape[1]))
    assert index is not None
    n = len(ok)
    group = max(1, IAMC_GROUP_VALUES // n)
    quantiles: dict[float, list[np.ndarray]] = {q: [] for q in iamc.MC_QUANTILES}
    for first in range(0, len(index), group):
        size = min(group, len(index) - first)
        slabs = []
        for path, n_keys, n_draws in files:
            slab = np.full((size, n_draws), np.nan)
            rows = max(0, min(first + size, n_keys) - first)
            if rows:
                raw = np.fromfile(path, count=rows * n_draws, offset=first * n_draws * 8)
                slab[:rows] = raw.reshape(rows, n_draws)
            slabs.append(slab)
        values = np.hstack(slabs)
        grouped = pd.DataFrame({"key": np.repeat(np.arange(size), n), "value": values.ravel()}).groupby(
            "key", sort=False
        )["value"]
        for q in iamc.MC_QUANTILES:
            quantiles[q].append(grouped.quantile(q).to_numpy())
    frame = index.to_frame(index=False)
    parts = []
    for q in iamc.MC_QUANTILES:
        qd = frame.copy()
        qd["value"] = np.concatenate(quantiles[q])
        qd.insert(0, "scenario", f"{name}/p{round(q * 100):02d}")
        parts.append(qd)
    long = pd.concat(parts, ignore_index=True)
    long.insert(0, "model", model)
    return iamc.wide(long)


def combined_tables(res: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The per-variable CSV tables of a batch (as for a single run, without the config text)."""
    slim = res.drop_vars(["config"], errors="ignore")
    return csv_tables(slim)
