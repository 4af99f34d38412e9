"""Figures of a whole batch: the price against the swept value, and the Monte Carlo price fan."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ...errors import InputError, Problem
from ...results.io import batch_dim
from ...vocab import DRAW_DIM, SWEEP_DIM
from ..labels import axis_label, param_label
from .common import _legend, _market_axes, _palette, _program, _thousands, _title, _wrap, _year_label


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
    # one legend for every panel, below them: never over the fan (each label once: a band line
    # may be drawn in one market only)
    entries: dict = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(lab, h)
    labels, handles = list(entries), list(entries.values())
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 6), frameon=False, fontsize=8)
    fig.suptitle(
        _title(
            res, f"Allowance price distribution, {len(ok)} Monte Carlo draws (seed {res.attrs.get('montecarlo_seed')})"
        )
    )
    return fig
