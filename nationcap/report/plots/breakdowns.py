"""Breakdowns of one run: abatement and cost by sector and by prefecture, and the net allowance
positions of the administrators of a market."""

from __future__ import annotations

from typing import cast

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...config.schema import is_split
from ...errors import InputError, Problem
from ...results.io import year_periods
from ..labels import axis_label
from .common import _market_axes, _palette, _periods, _program, _select, _table_view, _title, _top, _wrap, _year_label

TOP_PREFECTURES = 15
TOP_SECTORS = 10


def plot_sector(res: xr.Dataset, member: str | None = None, **_options) -> Figure:
    one, label = _select(res, member)
    one = _table_view(one)
    markets = [str(m) for m in one["market"].values]
    years = one["year"].values
    fig = Figure(figsize=(5.8 * len(markets), 9.0), layout="constrained")
    axes = _market_axes(fig, len(markets), rows=2)
    rows = [
        (var, scale, axis_label(one[var].attrs, scale=scale, per_year=True, name=what), what)
        for var, scale, what in (
            ("abatement_by_sector", 1e-6, "abatement"),
            ("abatement_cost_by_sector", 1e-9, "abatement cost"),
        )
    ]
    for c, m in enumerate(markets):
        data = [one[var].sel(market=m) * scale for var, scale, _, _ in rows]
        # one sector order and colour per market (ranked by abatement) for both panels
        totals = {str(s): float(abs(data[0].sel(sector=s)).sum()) for s in data[0]["sector"].values}
        active = [s for s in totals if totals[s] > 0 or float(abs(data[1].sel(sector=s)).sum()) > 0]
        top = _top({s: totals[s] for s in active}, TOP_SECTORS)
        rest = [s for s in active if s not in top]
        colors = dict(zip(top + ["other"], _palette(len(top) + 1)))
        for r, ((_, _, ylabel, what), da) in enumerate(zip(rows, data)):
            ax = axes[r][c]
            series = [(s.replace("_", " "), da.sel(sector=s).values, colors[s]) for s in top]
            if rest:
                series.append(
                    (f"other ({len(rest)} sectors)", da.sel(sector=rest).sum("sector").values, colors["other"])
                )
            pos = np.zeros(len(years))
            neg = np.zeros(len(years))
            for name, vals, color in series:
                ax.bar(years, vals, bottom=np.where(vals >= 0, pos, neg), color=color, label=name, width=0.75)
                pos += np.where(vals >= 0, vals, 0)
                neg += np.where(vals < 0, vals, 0)
            ax.axhline(0, color="black", linewidth=0.6)
            ax.set_xlabel(_year_label(one))
            ax.set_ylabel(ylabel)
            ax.set_title(f"{_program(m)}: {what} by sector")
            ax.grid(alpha=0.3, axis="y")
            ax.set_xticks(years[:: max(1, len(years) // 6)] if len(years) > 12 else years)
            ax.tick_params(axis="x", labelrotation=45 if len(years) > 6 else 0)
            ax.margins(y=0.08)
        if top or rest:
            axes[1][c].legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
    fig.suptitle(_title(one, "Abatement and cost by sector", label))
    return fig


def plot_prefecture(res: xr.Dataset, member: str | None = None, market: str | None = None, **_options) -> Figure:
    one, label = _select(res, member)
    if market is None or not is_split(market):
        one = _table_view(one)
    markets = [str(m) for m in one["market"].values]
    market = market or ("regional" if "regional" in markets else markets[-1])
    if market not in markets:
        raise InputError([Problem("--market", market, "", f"unknown market; the markets are {markets}")], "arguments")
    ypp = year_periods(one)
    periods = [p["name"] for p in _periods(one)]
    spans = {p["name"]: f"{p['name']} (FY{p['first_year']}–{p['last_year']})" for p in _periods(one)}
    count = one["entities_by_prefecture"].sel(market=market)
    present = sorted(str(p) for p in count["prefecture"].values[count.values > 0])
    # the cost is each year's money (not discounted), summed over the period's years: the label says so
    specs = [
        (var, scale, axis_label(one[var].attrs, scale=scale, name=what, note="sum over the period's years"))
        for var, scale, what in (
            ("abatement_by_prefecture", 1e-6, "abatement"),
            ("abatement_cost_by_prefecture", 1e-9, "abatement cost"),
        )
    ]
    data = []
    for var, scale, _ in specs:
        da = one[var].sel(market=market, prefecture=present) * scale
        data.append({p: da.sel(year=[y for y in da["year"].values if ypp[int(y)] == p]).sum("year") for p in periods})
    total = cast(xr.DataArray, sum(data[0].values()))  # rank by total abatement; the cost panel keeps the order
    ranked = [str(x) for x in total["prefecture"].values[np.argsort(-total.values, kind="stable")]]
    order = ranked[:TOP_PREFECTURES] if len(ranked) > TOP_PREFECTURES + 1 else ranked
    rest = [p for p in ranked if p not in order]
    names = order + ([f"other ({len(rest)} prefectures)"] if rest else [])
    fig = Figure(figsize=(12, 0.34 * len(names) + 2.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(names))[::-1]
    colors = _palette(len(periods))
    for ax, (_, _, xlabel), per_period in zip(axes, specs, data):
        pos = np.zeros(len(names))
        neg = np.zeros(len(names))
        for p, color in zip(periods, colors):
            vals = np.array(
                [float(per_period[p].sel(prefecture=n)) for n in order]
                + ([float(per_period[p].sel(prefecture=rest).sum())] if rest else [])
            )
            ax.barh(y, vals, left=np.where(vals >= 0, pos, neg), color=color, label=spans[p], height=0.7)
            pos += np.where(vals >= 0, vals, 0)
            neg += np.where(vals < 0, vals, 0)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_yticks(y, names)
        ax.set_xlabel(_wrap(xlabel, 55))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_ylabel("prefecture")
    fig.legend(
        *axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=len(periods), frameon=False, fontsize=9
    )
    top = f"top {TOP_PREFECTURES} of {len(ranked)}" if rest else f"{len(ranked)} prefectures"
    fig.suptitle(_title(one, f"{_program(market)}: abatement and cost by prefecture ({top})", label))
    return fig


TOP_ADMINISTRATORS = 20


def multi_admin_markets(one: xr.Dataset) -> list[str]:
    """Markets with entities of at least two administrators (where allowances can move between them)."""
    if "net_purchase_by_administrator" not in one:
        return []
    n = (one["entities_by_administrator"] > 0).sum("administrator")
    return [str(m) for m in one["market"].values if int(n.sel(market=m)) >= 2]


def plot_administrators(res: xr.Dataset, member: str | None = None, **_options) -> Figure:
    """Net allowance position (bought minus sold) of each administrator per period, for every
    market with several administrators: who buys and who sells inside one nationwide market."""
    one, label = _select(res, member)
    markets = multi_admin_markets(one)
    if not markets:
        raise InputError(
            [
                Problem(
                    "results",
                    "",
                    "net_purchase_by_administrator",
                    "no market has entities of two or more administrators: no allowances move between them "
                    "(a market split by administrator has one each)",
                )
            ],
            "administrator plot",
        )
    periods = [p["name"] for p in _periods(one)]
    spans = {p["name"]: f"{p['name']} (FY{p['first_year']}–{p['last_year']})" for p in _periods(one)}
    pos = one["net_purchase_by_administrator"] / 1e6
    rows = max(
        min(TOP_ADMINISTRATORS, int((one["entities_by_administrator"].sel(market=m) > 0).sum())) for m in markets
    )
    fig = Figure(figsize=(7.5 * len(markets), 0.32 * (rows + 1) + 2.6), layout="constrained")
    axes = fig.subplots(1, len(markets), squeeze=False)[0]
    colors = _palette(len(periods))
    for ax, m in zip(axes, markets):
        present = [
            str(a)
            for a in pos["administrator"].values
            if int(one["entities_by_administrator"].sel(market=m, administrator=a)) > 0
        ]
        sub = pos.sel(market=m, administrator=present)
        total = sub.sum("period")
        ranked = [str(x) for x in total["administrator"].values[np.argsort(-np.abs(total.values), kind="stable")]]
        order = ranked[:TOP_ADMINISTRATORS] if len(ranked) > TOP_ADMINISTRATORS + 1 else ranked
        rest = [a for a in ranked if a not in order]
        names = order + ([f"other ({len(rest)} administrators)"] if rest else [])
        y = np.arange(len(names))[::-1]
        height = 0.8 / len(periods)
        for k, (p, color) in enumerate(zip(periods, colors)):
            vals = [float(sub.sel(period=p, administrator=a)) for a in order]
            if rest:
                vals.append(float(sub.sel(period=p, administrator=rest).sum()))
            ax.barh(y + 0.4 - (k + 0.5) * height, vals, height=height, color=color, label=spans[p])
        tot = [float(total.sel(administrator=a)) for a in order] + (
            [float(total.sel(administrator=rest).sum())] if rest else []
        )
        ax.scatter(tot, y, marker="D", color="black", s=14, zorder=3, label="all periods")
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_yticks(y, names)
        ax.set_xlabel(
            axis_label(one["net_purchase_by_administrator"].attrs, scale=1e-6, name="net position (bought - sold)")
        )
        ax.grid(alpha=0.3, axis="x")
        moved = float(one["traded_between_administrators_total"].sel(market=m)) / 1e6
        ax.set_title(f"{_program(m)}: {moved:,.3g} Mt move between administrators (all periods)", fontsize=10)
    # one legend for every panel, below them: never over the bars
    fig.legend(
        *axes[0].get_legend_handles_labels(),
        loc="outside lower center",
        ncol=len(periods) + 1,
        frameon=False,
        fontsize=8,
    )
    fig.suptitle(_title(one, "Net allowance positions by administrator (positive = net buyer)", label))
    return fig
