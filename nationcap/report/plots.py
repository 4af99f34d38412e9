"""Figures of results (single runs and batches), as matplotlib :class:`~matplotlib.figure.Figure`.

Every ``plot_<kind>`` function takes a results Dataset and returns a Figure (no pyplot state, so
it works headless and in worker processes; files are written with the Agg/PDF canvases):

============  ==============================================================================
kind          figure
============  ==============================================================================
mac           merit-order (MAC) curve of each market for one period, in present-value JPY/t,
              with the clearing price and the abatement in the solution
prices        allowance price paths by market (all members of a sweep; every draw, faded)
emissions     emissions against the cap and BAU by market and year, with the bank
sector        abatement and abatement cost by sector, stacked by year
prefecture    abatement and cost by prefecture for one market (top 15 and "other"), by period
sweep         price against the swept parameter (sweeps)
distribution  price fan (median, 25-75 % and 5-95 % of draws) by market and year (Monte Carlo)
============  ==============================================================================

For batches the single-run kinds (mac, emissions, sector, prefecture) show one member
(``member=``; default the first successful). MAC steps are rebuilt from the run's resolved
configuration (its ``inputs_resolved`` dataset folder must still exist); for a Monte Carlo draw
the draw is re-applied (it is deterministic in seed and draw number).
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

from ..errors import InputError, Problem
from ..pipeline import model_data_from_results
from ..results.iamc import program_name
from ..results.io import DRAW_DIM, SWEEP_DIM, batch_dim, select_member, year_periods

TOP_PREFECTURES = 15
TOP_SECTORS = 10
_thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def _name(res: xr.Dataset) -> str:
    return str(res.attrs.get("scenario", "scenario"))


def _title(res: xr.Dataset, what: str, member: str = "") -> str:
    return f"{what} — {_name(res)}" + (f"\n({member})" if member else "")


def _periods(res: xr.Dataset) -> list[dict[str, Any]]:
    return json.loads(res.attrs["config"])["periods"]


def _first_year(res: xr.Dataset) -> int:
    return int(res.attrs.get("first_year", _periods(res)[0]["first_year"]))


def _program(market: str) -> str:
    return program_name(market)


def _market_axes(fig: Figure, n: int, rows: int = 1, sharey: bool = False):
    axes = fig.subplots(rows, n, squeeze=False, sharey=sharey)
    return axes


# ---------------------------------------------------------------------------------------
# MAC curve
# ---------------------------------------------------------------------------------------


def model_data_for(one: xr.Dataset):
    """ModelData of a single run, rebuilt from its stored configuration and dataset."""
    try:
        return model_data_from_results(one)
    except InputError as exc:
        raise InputError(
            exc.problems
            + [Problem("results", "", "", "the MAC plot re-reads the run's dataset (inputs_resolved in its config)")],
            "MAC plot",
        ) from None


def plot_mac(res: xr.Dataset, period: str | None = None, member: str | None = None, **_) -> Figure:
    one, label = select_member(res, member)
    md = model_data_for(one)
    periods = list(md.periods)
    period = period or periods[-1]
    if period not in periods:
        raise InputError([Problem("--period", period, "", f"unknown period; the periods are {periods}")], "arguments")
    p = periods.index(period)
    pcfg = _periods(one)[p]
    span = f"FY{pcfg['first_year']}–{pcfg['last_year']}"
    fig = Figure(figsize=(5.6 * len(md.markets), 5.2), layout="constrained")
    axes = _market_axes(fig, len(md.markets))[0]
    pv_cost = md.col_cost * md.discount[md.col_year]
    col_market = md.entity_market[md.col_entity]
    years = set(md.period_years(p).tolist())
    in_period = np.isin(md.col_year, list(years))
    pyears = [y for y in one["year"].values if year_periods(one)[int(y)] == period]
    for a, (ax, market) in enumerate(zip(axes, md.markets)):
        sel = in_period & (col_market == a)
        cost, qty = pv_cost[sel], md.col_qty_t[sel] / 1e6
        order = np.argsort(cost, kind="stable")
        cost, qty = cost[order], qty[order]
        edges = np.concatenate([[0.0], np.cumsum(qty)])
        price = float(one["price_pv"].sel(market=market, period=period))
        ent = one["entity_market"].values.astype(str) == market
        used = float(one["abatement"].sel(year=pyears).values[ent].sum()) / 1e6
        if len(cost):
            ax.stairs(cost, edges, fill=True, color="#9ecae1", label="MAC steps")
            ax.stairs(cost, edges, color="#3182bd", linewidth=0.8)
            # show the region around the price: up to 3x the price or the cost at twice the
            # abatement used, whichever is higher; dearer steps are cut off (and said so)
            at = np.searchsorted(edges[1:], min(2.0 * used, edges[-1]) if used > 0 else 0.5 * edges[-1])
            hi = max(3.0 * price, float(cost[min(at, len(cost) - 1)]), 1.0)
            if cost.max() > 1.05 * hi:
                ax.set_ylim(top=hi * 1.05)
                ax.plot([], [], " ", label=f"(steps above {hi * 1.05:,.0f} JPY/t not shown)")
            ax.set_ylim(bottom=min(0.0, float(cost.min()) * 1.05))
        ax.axhline(price, color="#d62728", linewidth=1.5, label=f"clearing price {price:,.0f} JPY/t")
        ax.axvline(used, color="black", linestyle="--", linewidth=1.2, label=f"abatement used {used:,.3g} Mt")
        ax.set_xlim(0, max(edges[-1], used) * 1.02 if len(edges) > 1 else 1)
        ax.set_title(_program(market))
        ax.set_xlabel(f"cumulative abatement over {span} (Mt CO2)")
        ax.set_ylabel(f"abatement cost (JPY/t CO2, present value at FY{_first_year(one)})")
        ax.yaxis.set_major_formatter(_thousands)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
        ax.grid(alpha=0.3)
    fig.suptitle(_title(one, f"Marginal abatement cost curves, {period} ({span})", label))
    return fig


# ---------------------------------------------------------------------------------------
# prices, emissions
# ---------------------------------------------------------------------------------------


def plot_prices(res: xr.Dataset, **_) -> Figure:
    dim = batch_dim(res)
    markets = [str(m) for m in res["market"].values]
    years = res["year"].values
    ylabel = "allowance price (JPY/t CO2, each year's money)"
    if dim is None:
        fig = Figure(figsize=(7, 4.4), layout="constrained")
        ax = fig.subplots()
        for m in markets:
            ax.plot(years, res["price"].sel(market=m), marker="o", label=_program(m))
        ax.set_xlabel("fiscal year")
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_thousands)
        ax.legend()
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        fig.suptitle(_title(res, "Allowance prices"))
        return fig
    ok = res["status"].values.astype(str) == "ok"
    fig = Figure(figsize=(5.4 * len(markets), 4.4), layout="constrained")
    axes = _market_axes(fig, len(markets))[0]
    coords = res[dim].values
    for ax, m in zip(axes, markets):
        price = res["price"].sel(market=m)
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
        ax.set_title(_program(m))
        ax.set_xlabel("fiscal year")
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_thousands)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    _legend(axes[-1], below=True)
    what = "Allowance prices, every draw" if dim == DRAW_DIM else "Allowance prices by sweep point"
    fig.suptitle(_title(res, what))
    return fig


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.05, 0.9, max(n, 1))]


def _legend(ax, max_entries: int = 12, below: bool = False) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > max_entries:  # thin out a long legend (every k-th entry)
        step = int(np.ceil(len(handles) / max_entries))
        handles, labels = handles[::step], labels[::step]
    if handles and below:
        ax.figure.legend(
            handles, labels, fontsize=8, loc="outside lower center", ncol=min(4, len(handles)), frameon=False
        )
    elif handles:
        ax.legend(handles, labels, fontsize=7, loc="best")


def _short_values(res: xr.Dataset, i: int | np.integer) -> str:
    """ "P2.general=0.15, ..." for sweep member ``i`` (last two parts of each dotted key)."""
    params = json.loads(res.attrs.get("sweep_params", "[]"))
    return ", ".join(f"{'.'.join(k.split('.')[-2:])}={res[k].values[i].item()}" for k in params)


def plot_emissions(res: xr.Dataset, member: str | None = None, **_) -> Figure:
    one, label = select_member(res, member)
    markets = [str(m) for m in one["market"].values]
    years = one["year"].values
    ypp = year_periods(one)
    fig = Figure(figsize=(5.8 * len(markets), 5.0), layout="constrained")
    axes = _market_axes(fig, len(markets))[0]
    ent_m = one["entity_market"].values.astype(str)
    for ax, m in zip(axes, markets):
        sel = ent_m == m
        em = one["emissions"].values[sel].sum(axis=0) / 1e6
        bau = one["bau_emissions"].values[sel].sum(axis=0) / 1e6
        n_years = {p["name"]: p["last_year"] - p["first_year"] + 1 for p in _periods(one)}
        cap = (
            np.array([float(one["cap"].sel(market=m, period=ypp[int(y)])) / n_years[ypp[int(y)]] for y in years]) / 1e6
        )
        ax.plot(years, bau, color="0.5", linestyle="--", label="BAU emissions")
        ax.plot(years, em, color="#1f77b4", marker="o", markersize=4, label="emissions")
        ax.step(years, cap, where="mid", color="#d62728", linewidth=1.8, label="cap (period cap / years)")
        ax.set_xlabel("fiscal year")
        ax.set_ylabel("emissions and cap (Mt CO2/yr)")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
        ax.grid(alpha=0.3)
        ax2 = ax.twinx()
        last_years = [p["last_year"] for p in _periods(one)]
        banks = [float(one["bank"].sel(market=m, period=p["name"])) / 1e6 for p in _periods(one)]
        ax2.bar(last_years, banks, width=0.5, color="#2ca02c", alpha=0.35, label="bank at the end of the period")
        ax2.set_ylabel("bank at the end of the period (Mt CO2)")
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
    one, label = select_member(res, member)
    markets = [str(m) for m in one["market"].values]
    years = one["year"].values
    fig = Figure(figsize=(5.8 * len(markets), 9.0), layout="constrained")
    axes = _market_axes(fig, len(markets), rows=2)
    rows = [
        ("abatement_by_sector", 1e-6, "abatement (Mt CO2/yr)", "abatement"),
        ("abatement_cost_by_sector", 1e-9, "abatement cost (billion JPY/yr, each year's money)", "abatement cost"),
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
            ax.set_xlabel("fiscal year")
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
    one, label = select_member(res, member)
    markets = [str(m) for m in one["market"].values]
    market = market or ("regional" if "regional" in markets else markets[-1])
    if market not in markets:
        raise InputError([Problem("--market", market, "", f"unknown market; the markets are {markets}")], "arguments")
    ypp = year_periods(one)
    periods = [p["name"] for p in _periods(one)]
    spans = {p["name"]: f"{p['name']} (FY{p['first_year']}–{p['last_year']})" for p in _periods(one)}
    present = sorted(
        set(one["entity_prefecture"].values[one["entity_market"].values.astype(str) == market].astype(str))
    )
    specs = [
        ("abatement_by_prefecture", 1e-6, "abatement (Mt CO2, sum over the period's years)"),
        ("abatement_cost_by_prefecture", 1e-9, "abatement cost (billion JPY, sum over the period's years)"),
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


# ---------------------------------------------------------------------------------------
# batches: sweep and distribution
# ---------------------------------------------------------------------------------------


def plot_sweep(res: xr.Dataset, **_) -> Figure:
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
                tag = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(others, g))
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
        if len(failed) and numeric:
            ax.plot(xv[failed], np.zeros(len(failed)), "x", color="black", label="failed (infeasible or error)")
        if not numeric:
            ax.set_xticks(np.arange(len(xv[ok])), [str(v) for v in xv[ok]], rotation=30)
        ax.set_xlabel(f"{xkey}")
        ax.set_ylabel(f"allowance price (JPY/t CO2, present value at FY{_first_year(res)})")
        ax.yaxis.set_major_formatter(_thousands)
        ax.set_title(_program(m))
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        _legend(ax)
    fig.suptitle(_title(res, "Allowance price against cap stringency (sweep)"))
    return fig


def plot_distribution(res: xr.Dataset, **_) -> Figure:
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
        ax.set_xlabel("fiscal year")
        ax.set_ylabel("allowance price (JPY/t CO2, each year's money)")
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
    "sweep": plot_sweep,
    "distribution": plot_distribution,
}


def applicable_kinds(res: xr.Dataset) -> list[str]:
    kinds = ["mac", "prices", "emissions", "sector", "prefecture"]
    dim = batch_dim(res)
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
    return PLOTTERS[kind](res, **options)


def save_figure(fig: Figure, base: Path) -> list[Path]:
    """``base``.png (150 dpi) and ``base``.pdf."""
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    formats: tuple[tuple[str, dict[str, Any]], ...] = (("png", {"dpi": 150}), ("pdf", {}))
    for ext, kw in formats:
        path = base.with_suffix(f".{ext}")
        fig.savefig(path, format=ext, **kw)
        out.append(path)
    return out


def save_plots(res: xr.Dataset, kinds: list[str], out_dir: str | Path, **options) -> list[Path]:
    files = []
    for kind in kinds:
        fig = make_figure(res, kind, **options)
        files += save_figure(fig, Path(out_dir) / kind)
    return files
