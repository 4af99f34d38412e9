"""Figures of results (single runs and batches), as matplotlib :class:`~matplotlib.figure.Figure`.

Every ``plot_<kind>`` function takes a results Dataset and returns a Figure (no pyplot state, so
it works headless and in worker processes; files are written with the Agg/PDF canvases):

============  ==============================================================================
kind          figure
============  ==============================================================================
mac           merit-order (MAC) curve of each market for one period, in present-value JPY/t,
              with the clearing price and the abatement in the solution (a cost axis cut far
              above the price is marked, and the whole curve drawn below)
prices        allowance price paths by market (all members of a sweep; every draw, faded)
emissions     emissions against the cap and BAU by market and year, with the bank
sector        abatement and abatement cost by sector, stacked by year
prefecture    abatement and cost by prefecture for one market (top 15 and "other"), by period
sweep         price against the swept parameter (sweeps; failed members are left out and named)
distribution  price fan (median, 25-75 % and 5-95 % of draws) by market and year (Monte Carlo)
============  ==============================================================================

For batches the single-run kinds (mac, emissions, sector, prefecture) show one member
(``member=``; default the first successful). The MAC curve is the one the run was solved with,
stored in its results (``mac_curve_cost_pv``, ``mac_curve_quantity``: :mod:`nationcap.results.mac`;
for a Monte Carlo draw, with the draw applied), never re-read from a dataset that may have changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..config.schema import is_split, markets_by_table
from ..errors import InputError, Problem
from ..results.iamc import program_name, sum_by_table
from ..results.io import atomic_file, batch_dim, members, select_member, year_periods
from ..vocab import DRAW_DIM, SWEEP_DIM
from .i18n import figure_font_context, localize_figure
from .labels import axis_label, param_label, unit_label

TOP_PREFECTURES = 15
TOP_SECTORS = 10
_thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def _name(res: xr.Dataset) -> str:
    return str(res.attrs.get("scenario", "scenario"))


def _select(res: xr.Dataset, member: str | None) -> tuple[xr.Dataset, str]:
    """One run of ``res`` (a batch member, see :func:`select_member`) and its label, with the
    swept keys of a sweep point as readable labels."""
    one, label = select_member(res, member)
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    if batch_dim(res) == SWEEP_DIM and params:
        point = res.sel({SWEEP_DIM: one.attrs["member"]})
        values = ", ".join(f"{param_label(k, short=True)} = {point[k].values.item()}" for k in params)
        label = f"sweep point {one.attrs['member']}: {values}"
    return one, label


def _wrap(text: str, width: int = 60) -> str:
    """A long axis label on several lines."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _title(res: xr.Dataset, what: str, member: str = "") -> str:
    return f"{what} — {_name(res)}" + (f"\n({member})" if member else "")


def _periods(res: xr.Dataset) -> list[dict[str, Any]]:
    return json.loads(res.attrs["config"])["periods"]


def _program(market: str) -> str:
    return program_name(market)


#: variables summed over the markets split from one table in the per-table view of a run
_EXTENSIVE = (
    "cap",
    "bank",
    "market_emissions",
    "emissions_by_sector",
    "bau_emissions_by_sector",
    "abatement_by_sector",
    "abatement_cost_by_sector",
    "entities_by_prefecture",
    "abatement_by_prefecture",
    "abatement_cost_by_prefecture",
)


def _split(markets: list[str]) -> bool:
    return any(is_split(m) for m in markets)


def _table_view(one: xr.Dataset) -> xr.Dataset:
    """A run with the markets split from one table (``regional/Tokyo``, ...) summed into the
    table (``regional``), for the plots that draw a panel per market; unchanged without splits."""
    if not _split([str(m) for m in one["market"].values]):
        return one
    view = xr.Dataset({v: sum_by_table(one[v]) for v in _EXTENSIVE if v in one})
    view.attrs = one.attrs
    return view


def _market_axes(fig: Figure, n: int, rows: int = 1, sharey: bool = False):
    axes = fig.subplots(rows, n, squeeze=False, sharey=sharey)
    return axes


# ---------------------------------------------------------------------------------------
# MAC curve
# ---------------------------------------------------------------------------------------


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


_compact = FuncFormatter(
    lambda v, _: f"{v / 1e6:,.3g}M" if abs(v) >= 1e6 else f"{v / 1e3:,.3g}k" if abs(v) >= 1e4 else f"{v:,.0f}"
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


# ---------------------------------------------------------------------------------------
# prices, emissions
# ---------------------------------------------------------------------------------------


def plot_prices(res: xr.Dataset, **_options) -> Figure:
    dim = batch_dim(res)
    markets = [str(m) for m in res["market"].values]
    years = res["year"].values
    ylabel = axis_label(res["price"].attrs, name="allowance price")
    xlabel = _year_label(res)
    if dim is None:
        fig = Figure(figsize=(7, 4.4), layout="constrained")
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
                label="lowest to highest",
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_thousands)
        ax.legend()
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


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.05, 0.9, max(n, 1))]


def _legend(ax, max_entries: int = 12, below: bool = False, title: str | None = None) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > max_entries:  # thin out a long legend (every k-th entry)
        step = int(np.ceil(len(handles) / max_entries))
        handles, labels = handles[::step], labels[::step]
    if handles and below:
        ax.figure.legend(
            handles,
            labels,
            fontsize=8,
            loc="outside lower center",
            ncol=min(4, len(handles)),
            frameon=False,
            title=title,
            title_fontsize=8,
        )
    elif handles:
        ax.legend(handles, labels, fontsize=7, loc="best", title=title, title_fontsize=7)


def _year_label(res: xr.Dataset) -> str:
    return str(res["year"].attrs.get("long_name", "fiscal year"))


def _params_title(res: xr.Dataset) -> str:
    """The swept keys as readable labels, in the order of :func:`_short_values`."""
    return "sweep point: " + "; ".join(param_label(k) for k in json.loads(res.attrs.get("sweep_params", "[]")))


def _short_values(res: xr.Dataset, i: int | np.integer) -> str:
    """ "0.15, 0.2" : the swept values of sweep member ``i`` (the legend title names the keys)."""
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    return ", ".join(str(res[k].values[i].item()) for k in params)


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


# ---------------------------------------------------------------------------------------
# sector and prefecture breakdowns
# ---------------------------------------------------------------------------------------


def _top(totals: dict[str, float], n: int) -> list[str]:
    keep = [k for k, v in sorted(totals.items(), key=lambda kv: -abs(kv[1])) if abs(v) > 0]
    return keep[:n] if len(keep) > n + 1 else keep


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


def _palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


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
        ax.set_xlabel(xlabel)
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


def _multi_admin_markets(one: xr.Dataset) -> list[str]:
    """Markets with entities of at least two administrators (where allowances can move between them)."""
    if "net_purchase_by_administrator" not in one:
        return []
    n = (one["entities_by_administrator"] > 0).sum("administrator")
    return [str(m) for m in one["market"].values if int(n.sel(market=m)) >= 2]


def plot_administrators(res: xr.Dataset, member: str | None = None, **_options) -> Figure:
    """Net allowance position (bought minus sold) of each administrator per period, for every
    market with several administrators: who buys and who sells inside one nationwide market."""
    one, label = _select(res, member)
    markets = _multi_admin_markets(one)
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
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(_title(one, "Net allowance positions by administrator (positive = net buyer)", label))
    return fig


# ---------------------------------------------------------------------------------------
# batches: sweep and distribution
# ---------------------------------------------------------------------------------------


def plot_sweep(res: xr.Dataset, **_options) -> Figure:
    if batch_dim(res) != SWEEP_DIM:
        raise InputError([Problem("--kind sweep", "", "", "needs the results of `nationcap sweep`")], "arguments")
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    xkey = params[0]
    others = params[1:]
    ok = res["status"].values.astype(str) == "ok"
    markets = [str(m) for m in res["market"].values]
    periods = [str(p) for p in res["period"].values]
    xv = res[xkey].values
    numeric = xv.dtype.kind in "fiu"
    fig = Figure(figsize=(5.8 * len(markets), 4.8), layout="constrained")
    axes = _market_axes(fig, len(markets))[0]
    groups: dict[tuple, list[np.intp]] = {}
    for i in np.flatnonzero(ok):
        groups.setdefault(tuple(res[k].values[i].item() for k in others), []).append(i)
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v"]
    for ax, m in zip(axes, markets):
        for pi, (p, color) in enumerate(zip(periods, _palette(len(periods)))):
            for gi, (g, idx) in enumerate(groups.items()):
                idx = sorted(idx, key=lambda i: xv[i]) if numeric else idx
                x = xv[idx] if numeric else np.arange(len(idx))
                yv = res["price_pv"].sel(market=m, period=p).values[idx]
                tag = ", ".join(f"{param_label(k, short=True)} = {v}" for k, v in zip(others, g))
                ax.plot(
                    x,
                    yv,
                    color=color,
                    linestyle=styles[(pi + gi) % len(styles)],
                    marker=markers[pi % len(markers)],
                    markersize=7 - 2 * (pi % 2),
                    label=f"{p}" + (f" ({tag})" if tag else ""),
                )
        failed = np.flatnonzero(~ok)
        if len(failed):  # failed members have no price: not drawn (nor do their values set the axis)
            names = ", ".join(str(res[SWEEP_DIM].values[i]) for i in failed[:5]) + (", ..." if len(failed) > 5 else "")
            ax.plot([], [], " ", label=f"failed, not shown: {len(failed)} ({names})")
        if not numeric:
            ax.set_xticks(np.arange(len(xv[ok])), [str(v) for v in xv[ok]], rotation=30)
        ax.set_xlabel(_wrap(param_label(xkey), int(9 * 5.8)))
        ax.set_ylabel(axis_label(res["price_pv"].attrs, name="allowance price"))
        ax.yaxis.set_major_formatter(_thousands)
        ax.set_title(_program(m))
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        _legend(ax)
    fig.suptitle(_title(res, "Allowance price against cap stringency (sweep)"))
    return fig


def plot_distribution(res: xr.Dataset, **_options) -> Figure:
    if batch_dim(res) != DRAW_DIM:
        raise InputError(
            [Problem("--kind distribution", "", "", "needs the results of `nationcap montecarlo`")], "arguments"
        )
    ok = np.flatnonzero(res["status"].values.astype(str) == "ok")
    markets = [str(m) for m in res["market"].values]
    years = res["year"].values
    fig = Figure(figsize=(5.6 * len(markets), 4.6), layout="constrained")
    axes = _market_axes(fig, len(markets))[0]
    price = res["price"].isel({DRAW_DIM: ok})
    for ax, m in zip(axes, markets):
        pm = price.sel(market=m)
        q = {k: pm.quantile(k, dim=DRAW_DIM).values for k in (0.05, 0.25, 0.5, 0.75, 0.95)}
        ax.fill_between(years, q[0.05], q[0.95], color="#3182bd", alpha=0.2, label="5–95 % of draws")
        ax.fill_between(years, q[0.25], q[0.75], color="#3182bd", alpha=0.4, label="25–75 % of draws")
        ax.plot(years, q[0.5], color="#08519c", linewidth=2, label="median")
        ax.plot(years, pm.mean(DRAW_DIM).values, color="black", linestyle="--", linewidth=1, label="mean")
        for which, color in (("price_floor", "#2ca02c"), ("price_ceiling", "#d62728")):
            if which in res:
                band = (
                    res[which].sel(market=m).isel({DRAW_DIM: ok}).max(DRAW_DIM).values
                    if DRAW_DIM in res[which].dims
                    else res[which].sel(market=m).values
                )
                if np.isfinite(band).any():
                    ax.plot(years, band, color=color, linewidth=1.2, linestyle=":", label=which.replace("_", " "))
        ax.set_xlabel(_year_label(res))
        ax.set_ylabel(axis_label(res["price"].attrs, name="allowance price"))
        ax.yaxis.set_major_formatter(_thousands)
        ax.set_title(_program(m))
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(
        _title(
            res, f"Allowance price distribution, {len(ok)} Monte Carlo draws (seed {res.attrs.get('montecarlo_seed')})"
        )
    )
    return fig


# ---------------------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------------------

PLOTTERS: dict[str, Callable[..., Figure]] = {
    "mac": plot_mac,
    "prices": plot_prices,
    "emissions": plot_emissions,
    "sector": plot_sector,
    "prefecture": plot_prefecture,
    "administrators": plot_administrators,
    "sweep": plot_sweep,
    "distribution": plot_distribution,
}


def applicable_kinds(res: xr.Dataset) -> list[str]:
    kinds = ["mac", "prices", "emissions", "sector", "prefecture"]
    dim = batch_dim(res)
    if dim is None and _multi_admin_markets(res):
        kinds.append("administrators")
    if dim == SWEEP_DIM:
        kinds.append("sweep")
    elif dim == DRAW_DIM:
        kinds.append("distribution")
    return kinds


def make_figure(res: xr.Dataset, kind: str, **options) -> Figure:
    if kind not in PLOTTERS:
        raise InputError(
            [Problem("--kind", kind, "", f"unknown plot kind; choose from {sorted(PLOTTERS)}")], "arguments"
        )
    if batch_dim(res) is not None and not members(res):
        raise InputError([Problem("results", "", "", "every member of this batch failed: nothing to plot")], "results")
    return PLOTTERS[kind](res, **options)


def save_figure(fig: Figure, base: Path, lang: str = "en") -> list[Path]:
    """``base``.png (150 dpi) and ``base``.pdf, each written atomically (an OSError becomes
    :class:`~nationcap.errors.OutputError`); ``lang`` as for :func:`save_plots`."""
    out = []
    formats: tuple[tuple[str, dict[str, Any]], ...] = (("png", {"dpi": 150}), ("pdf", {}))
    with figure_font_context(lang):
        for ext, kw in formats:
            path = base.with_suffix(f".{ext}")
            with atomic_file(path) as tmp:
                fig.savefig(tmp, format=ext, **kw)
            out.append(path)
    return out


def save_plots(res: xr.Dataset, kinds: list[str], out_dir: str | Path, lang: str = "en", **options) -> list[Path]:
    """Each kind's figure as PNG and PDF in ``out_dir``; ``lang="ja"`` labels them in Japanese
    with the packaged Japanese font (:func:`nationcap.report.i18n.localize_figure`)."""
    files = []
    for kind in kinds:
        with figure_font_context(lang):
            fig = localize_figure(make_figure(res, kind, **options), lang)
        files += save_figure(fig, Path(out_dir) / kind, lang)
    return files
