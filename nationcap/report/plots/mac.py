"""The merit-order (MAC) curve a run stored, drawn per market for one period."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ...config.schema import is_split
from ...errors import InputError, Problem
from ...results.io import batch_dim, year_periods
from ...vocab import DRAW_DIM
from ..labels import axis_label, unit_label
from .common import _compact, _periods, _program, _select, _split, _thousands, _title, _wrap


def stored_curve(one: xr.Dataset, market: str, period: str) -> tuple[np.ndarray, np.ndarray]:
    """(PV cost per point, staircase edges in t) of the MAC curve a run stored (:mod:`nationcap.results.mac`)."""
    cost = one["mac_curve_cost_pv"].sel(market=market, period=period).values
    qty = one["mac_curve_quantity"].sel(market=market, period=period).values
    ok = np.isfinite(cost) & np.isfinite(qty)
    return cost[ok], np.concatenate([[0.0], qty[ok]])


def mac_cut(cost: np.ndarray, edges: np.ndarray, price: float, used: float) -> float | None:
    """The cost axis limit of a MAC panel, or None when the whole curve fits.

    The panel shows the region around the price: up to 3x the price or the cost at twice the
    abatement used, whichever is higher (plus 5 %); a curve with dearer steps is cut there, the
    cut is marked and the whole curve is drawn in a panel of its own below.
    """
    if not len(cost):
        return None
    at = np.searchsorted(edges[1:], min(2.0 * used, edges[-1]) if used > 0 else 0.5 * edges[-1])
    cut = 1.05 * max(3.0 * price, float(cost[min(at, len(cost) - 1)]), 1.0)
    return cut if float(cost.max()) > cut else None


def _mark_cut(ax, cost: np.ndarray, edges: np.ndarray, cut: float, unit: str) -> None:
    """Mark the steps above ``cut`` in a panel whose cost axis ends there: a hatched band over
    them along the top edge and the cut value with the highest cost and the quantity cut off."""
    j = int(np.argmax(cost > cut))
    x0, x1 = float(edges[j]), float(edges[-1])
    lo = ax.get_ylim()[0]
    band = 0.035 * (cut - lo)
    ax.fill_between(
        [x0, x1], cut - band, cut, facecolor="white", edgecolor="0.2", hatch="////", linewidth=0.6, zorder=3
    )
    ax.annotate(
        f"axis cut at {cut:,.0f} {unit}:\nthe last {x1 - x0:,.3g} Mt CO2 cost up to\n"
        f"{float(cost.max()):,.0f} {unit} (whole curve below)",
        xy=(x1, cut - band),
        xytext=(-4, -4),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=7,
        bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9},
        zorder=4,
    )


def plot_mac(
    res: xr.Dataset, period: str | None = None, member: str | None = None, market: str | None = None, **_options
) -> Figure:
    one, label = _select(res, member)
    if "mac_curve_cost_pv" not in one:
        why = (
            "a Monte Carlo draw keeps its market results only, not its MAC curve; plot the curve of a "
            "single run of the scenario (nationcap run, then nationcap plot --kind mac)"
            if batch_dim(res) == DRAW_DIM
            else "these results hold no MAC curve (written by an older nationcap); run the scenario again"
        )
        raise InputError([Problem("results", "", "mac_curve_cost_pv", why)], "MAC plot")
    periods = [str(p) for p in one["period"].values]
    every = [str(m) for m in one["market"].values]
    # one panel per market; markets split from a table are drawn one at a time (--market)
    markets = [market] if market is not None else [m for m in every if not is_split(m)]
    if market is not None and market not in every:
        raise InputError([Problem("--market", market, "", f"unknown market; the markets are {every}")], "arguments")
    split_note = (
        f" (split markets: one at a time with --market, e.g. {next(m for m in every if is_split(m))})"
        if market is None and _split(every)
        else ""
    )
    period = period or periods[-1]
    if period not in periods:
        raise InputError([Problem("--period", period, "", f"unknown period; the periods are {periods}")], "arguments")
    pcfg = _periods(one)[periods.index(period)]
    span = f"FY{pcfg['first_year']}–{pcfg['last_year']}"
    pyears = [y for y in one["year"].values if year_periods(one)[int(y)] == period]
    cost_attrs = one["mac_curve_cost_pv"].attrs
    unit = unit_label("JPY/t")
    panels = []
    for market in markets:
        cost, edges = stored_curve(one, market, period)
        edges = edges / 1e6
        price = float(one["price_pv"].sel(market=market, period=period))
        used = float(one["abatement_by_sector"].sel(market=market, year=pyears).sum()) / 1e6
        panels.append((market, cost, edges, price, used, mac_cut(cost, edges, price, used)))
    whole = any(cut is not None for *_, cut in panels)
    fig = Figure(figsize=(5.6 * len(markets), 7.4 if whole else 5.2), layout="constrained")
    grid = fig.subplots(2 if whole else 1, len(markets), squeeze=False, height_ratios=[3, 1.25] if whole else None)
    xlabel = axis_label(one["mac_curve_quantity"].attrs, scale=1e-6, name=f"cumulative abatement over {span}")
    ylabel = axis_label(cost_attrs, name="abatement cost")
    for c, (market, cost, edges, price, used, cut) in enumerate(panels):
        ax = grid[0][c]
        if len(cost):
            ax.stairs(cost, edges, fill=True, color="#9ecae1", label="MAC steps (stored with the run)")
            ax.stairs(cost, edges, color="#3182bd", linewidth=0.8)
            ax.set_ylim(bottom=min(0.0, float(cost.min()) * 1.05), top=cut)
            if cut is not None:
                _mark_cut(ax, cost, edges, cut, unit)
        ax.axhline(price, color="#d62728", linewidth=1.5, label=f"clearing price {price:,.0f} {unit} (present value)")
        ax.axvline(used, color="black", linestyle="--", linewidth=1.2, label=f"abatement used {used:,.3g} Mt CO2")
        ax.set_xlim(0, max(edges[-1], used) * 1.02 if len(edges) > 1 else 1)
        ax.set_title(_program(market))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_thousands)
        ax.grid(alpha=0.3)
        legend_ax = ax
        if whole:
            low = grid[1][c]
            if len(cost):
                low.stairs(cost, edges, fill=True, color="#9ecae1")
                low.stairs(cost, edges, color="#3182bd", linewidth=0.8)
            low.axhline(price, color="#d62728", linewidth=1.0)
            if cut is not None:
                low.axhline(cut, color="0.2", linestyle=(0, (4, 2)), linewidth=0.9, label="axis cut of the panel above")
            low.set_xlim(ax.get_xlim())
            low.set_title("whole curve", fontsize=9)
            low.set_xlabel(xlabel)
            low.set_ylabel(_wrap(ylabel, 24), fontsize=7)
            low.yaxis.set_major_formatter(_compact)
            low.tick_params(labelsize=7)
            low.grid(alpha=0.3)
            ax.set_xlabel("")
            legend_ax = low
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = legend_ax.get_legend_handles_labels() if legend_ax is not ax else ([], [])
        legend_ax.legend(
            h1 + h2,
            l1 + l2,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.3 if whole else -0.14),
            ncol=2,
            fontsize=8,
            frameon=False,
        )
    fig.suptitle(_title(one, f"Marginal abatement cost curves, {period} ({span}){split_note}", label))
    return fig
