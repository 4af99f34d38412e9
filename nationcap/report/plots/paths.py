"""Paths over the years: allowance prices (every member of a batch) and emissions against the cap."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...config.schema import is_split, markets_by_table
from ...results.io import batch_dim, year_periods
from ...vocab import DRAW_DIM, SWEEP_DIM
from ..labels import axis_label
from .common import (
    _colors,
    _legend,
    _market_axes,
    _params_title,
    _periods,
    _program,
    _select,
    _short_values,
    _table_view,
    _thousands,
    _title,
    _year_label,
)


def plot_prices(res: xr.Dataset, **_options) -> Figure:
    dim = batch_dim(res)
    markets = [str(m) for m in res["market"].values]
    years = res["year"].values
    ylabel = axis_label(res["price"].attrs, name="allowance price")
    xlabel = _year_label(res)
    if dim is None:
        fig = Figure(figsize=(7, 4.8), layout="constrained")
        ax = fig.subplots()
        for m in [m for m in markets if not is_split(m)]:
            ax.plot(years, res["price"].sel(market=m), marker="o", label=_program(m))
        groups = markets_by_table(m for m in markets if is_split(m))
        for table, parts in groups.items():  # split markets: their median and lowest-highest band
            price = res["price"].sel(market=parts)
            (line,) = ax.plot(
                years,
                price.median("market"),
                linestyle="--",
                label=f"{_program(table)}: median of {len(parts)} markets",
            )
            ax.fill_between(
                years,
                price.min("market"),
                price.max("market"),
                color=line.get_color(),
                alpha=0.2,
                label=f"{_program(table)}: lowest to highest of {len(parts)} markets",
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_thousands)
        handles, labels = ax.get_legend_handles_labels()
        # below the axes, never over the paths
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncol=min(len(handles), 2 if max(map(len, labels)) > 30 else 3),
            frameon=False,
            fontsize=8,
        )
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        fig.suptitle(_title(res, "Allowance prices"))
        return fig
    ok = res["status"].values.astype(str) == "ok"
    panels = markets_by_table(markets)
    fig = Figure(figsize=(5.4 * len(panels), 4.4), layout="constrained")
    axes = _market_axes(fig, len(panels))[0]
    coords = res[dim].values
    for ax, (m, parts) in zip(axes, panels.items()):
        # a split table: the median of its markets' prices in each member
        price = res["price"].sel(market=m) if parts == [m] else res["price"].sel(market=parts).median("market")
        if dim == DRAW_DIM:
            for i in np.flatnonzero(ok):
                ax.plot(
                    years,
                    price.isel({dim: i}),
                    color="#3182bd",
                    alpha=max(0.04, min(0.5, 8 / max(ok.sum(), 1))),
                    linewidth=0.8,
                )
            ax.plot(
                years,
                price.isel({dim: np.flatnonzero(ok)}).median(dim),
                color="black",
                linewidth=2,
                label="median of draws",
            )
            ax.plot([], [], color="#3182bd", alpha=0.6, label=f"each draw ({int(ok.sum())})")
        else:
            cmap = _colors(len(coords))
            for i in np.flatnonzero(ok):
                ax.plot(
                    years,
                    price.isel({dim: i}),
                    marker="o",
                    markersize=3,
                    color=cmap[i],
                    label=f"{coords[i]}: {_short_values(res, i)}",
                )
        ax.set_title(_program(m) + ("" if parts == [m] else f" (median of {len(parts)} markets)"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_thousands)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    _legend(axes[-1], below=True, title=_params_title(res) if dim == SWEEP_DIM else None)
    what = "Allowance prices, every draw" if dim == DRAW_DIM else "Allowance prices by sweep point"
    fig.suptitle(_title(res, what))
    return fig


def plot_emissions(res: xr.Dataset, member: str | None = None, **_options) -> Figure:
    one, label = _select(res, member)
    one = _table_view(one)
    markets = [str(m) for m in one["market"].values]
    years = one["year"].values
    ypp = year_periods(one)
    fig = Figure(figsize=(5.8 * len(markets), 5.0), layout="constrained")
    axes = _market_axes(fig, len(markets))[0]
    for ax, m in zip(axes, markets):
        em = one["emissions_by_sector"].sel(market=m).sum("sector").values / 1e6
        bau = one["bau_emissions_by_sector"].sel(market=m).sum("sector").values / 1e6
        n_years = {p["name"]: p["last_year"] - p["first_year"] + 1 for p in _periods(one)}
        cap = (
            np.array([float(one["cap"].sel(market=m, period=ypp[int(y)])) / n_years[ypp[int(y)]] for y in years]) / 1e6
        )
        ax.plot(years, bau, color="0.5", linestyle="--", label="BAU emissions")
        ax.plot(years, em, color="#1f77b4", marker="o", markersize=4, label="emissions")
        ax.step(years, cap, where="mid", color="#d62728", linewidth=1.8, label="cap (period cap / years)")
        ax.set_xlabel(_year_label(one))
        ax.set_ylabel(axis_label(one["emissions_by_sector"].attrs, scale=1e-6, per_year=True, name="emissions and cap"))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
        ax.grid(alpha=0.3)
        ax2 = ax.twinx()
        last_years = [p["last_year"] for p in _periods(one)]
        banks = [float(one["bank"].sel(market=m, period=p["name"])) / 1e6 for p in _periods(one)]
        ax2.bar(last_years, banks, width=0.5, color="#2ca02c", alpha=0.35, label="bank at the end of the period")
        ax2.set_ylabel(axis_label(one["bank"].attrs, scale=1e-6, name="bank at the end of the period"))
        ax2.set_ylim(bottom=min(0.0, min(banks) * 1.2), top=max(max(banks) * 3.0, 1e-9))
        ax.set_zorder(ax2.get_zorder() + 1)  # lines in front of the bank bars
        ax.patch.set_visible(False)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
        ax.set_title(_program(m))
    fig.suptitle(_title(one, "Emissions against the cap, with the bank", label))
    return fig
