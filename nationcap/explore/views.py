"""The explorer's views of one solved variant, as Plotly figures (plain dicts) and small tables.

Every number shown is read from the results Dataset of the solve (:mod:`nationcap.results`) or,
for the price-setting step, from :func:`nationcap.explore.state.marginal_steps`; nothing is
recomputed here. Money is shown in JPY bn and volumes in Mt; each view says whether its money is
present value or each year's money, as the results' ``money`` attributes do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: one colour per market, in the scenario's order (Plotly's default palette)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
#: how many prefectures the prefecture view lists (largest abatement first)
TOP_PREFECTURES = 15


Figure = dict[str, Any]


def _figure(traces: list[dict[str, Any]], title: str, height: int = 300, **layout: Any) -> Figure:
    """A Plotly figure as a plain dict (built without Plotly's validation, which costs more
    than the solve at full scale)."""
    base: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "height": height,
        "margin": {"l": 55, "r": 10, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#eee"},
        "yaxis": {"gridcolor": "#eee", "zerolinecolor": "#ccc"},
    }
    for k, v in layout.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    return {"data": traces, "layout": base}


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _rgba(hex_colour: str, alpha: float = 0.2) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _values(res: xr.Dataset, name: str, *dims: str) -> np.ndarray:
    """The values of a results variable with its dimensions in the order ``dims`` (read from the
    variable itself: a DataArray per lookup costs more than these small figures)."""
    return np.asarray(res.variables[name].transpose(*dims).values)


def _list(a: Any) -> list[float | None]:
    """Numbers for JSON: NaN and infinities as None (gaps)."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(a, dtype=float)]


def prices_figure(res: xr.Dataset) -> Figure:
    """Allowance price by year and market (JPY/t, each year's money), the interval of clearing
    prices shaded, and the floor and ceiling where a market has them."""
    traces: list[dict[str, Any]] = []
    years = [int(y) for y in res.year.values]
    price, lows, highs = (_values(res, v, "market", "year") for v in ("price", "price_low", "price_high"))
    bands = {b: _values(res, b, "market", "year") for b in ("price_floor", "price_ceiling") if b in res}
    for i, m in enumerate(res.market.values):
        c = _colour(i)
        low, high = lows[i], highs[i]
        if np.all(np.isfinite(high)) and np.any(high - low > 1e-6 * np.maximum(np.abs(low), 1.0)):
            traces.append(
                {
                    "x": years,
                    "y": _list(high),
                    "mode": "lines",
                    "line": {"width": 0},
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
            traces.append(
                {
                    "x": years,
                    "y": _list(low),
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": _rgba(c),
                    "name": f"{m} interval",
                    "hoverinfo": "skip",
                }
            )
        traces.append(
            {
                "x": years,
                "y": _list(price[i]),
                "mode": "lines+markers",
                "name": str(m),
                "line": {"color": c},
            }
        )
        for band, dash in (("price_floor", "dot"), ("price_ceiling", "dash")):
            if band in bands and np.any(np.isfinite(bands[band][i])):
                traces.append(
                    {
                        "x": years,
                        "y": _list(bands[band][i]),
                        "mode": "lines",
                        "name": f"{m} {band.removeprefix('price_')}",
                        "line": {"color": c, "dash": dash, "width": 1},
                    }
                )
    return _figure(
        traces, "Allowance prices (clearing interval shaded)", yaxis={"title": {"text": "JPY/t"}, "rangemode": "tozero"}
    )


def emissions_figure(res: xr.Dataset) -> Figure:
    """Emissions against the cap by market and period (Mt), with the bank at each period's end."""
    traces: list[dict[str, Any]] = []
    cap, emitted, bank = (_values(res, v, "market", "period") for v in ("cap", "market_emissions", "bank"))
    for i, m in enumerate(res.market.values):
        x = [f"{m} {p}" for p in res.period.values]
        c = _colour(i)
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": _list(cap[i] / 1e6),
                "name": f"{m} cap",
                "marker": {"color": _rgba(c, 0.35)},
            }
        )
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": _list(emitted[i] / 1e6),
                "name": f"{m} emissions",
                "marker": {"color": c},
            }
        )
        traces.append(
            {
                "x": x,
                "y": _list(bank[i] / 1e6),
                "name": f"{m} bank",
                "mode": "markers",
                "marker": {"color": "black", "symbol": "diamond"},
            }
        )
    return _figure(traces, "Emissions, cap and bank by period", barmode="group", yaxis={"title": {"text": "Mt"}})


def coverage_figure(res: xr.Dataset) -> Figure:
    """Each market's share of national CO2 by year, and the markets together."""
    traces: list[dict[str, Any]] = []
    years = [int(y) for y in res.year.values]
    if "coverage_share" in res:
        share = _values(res, "coverage_share", "market", "year")
        for i, m in enumerate(res.market.values):
            traces.append(
                {
                    "x": years,
                    "y": _list(100 * share[i]),
                    "name": str(m),
                    "line": {"color": _colour(i)},
                }
            )
    if "combined_coverage_share" in res:
        traces.append(
            {
                "x": years,
                "y": _list(100 * _values(res, "combined_coverage_share", "year")),
                "name": "combined",
                "line": {"color": "black"},
            }
        )
    return _figure(traces, "Coverage", yaxis={"title": {"text": "% of national CO2"}, "rangemode": "tozero"})


def breakdown_figure(res: xr.Dataset, dim: str) -> Figure:
    """Abatement (Mt over the horizon) and abatement cost (JPY bn, the sum of each year's money)
    by ``dim`` (``"sector"`` or ``"prefecture"``) and market, side by side; prefectures: the
    largest abatements only."""
    # plain arrays (market, group): xarray's label lookups cost more than the figure here
    ab = _values(res, f"abatement_by_{dim}", "market", dim, "year").sum(axis=-1) / 1e6
    cost = _values(res, f"abatement_cost_by_{dim}", "market", dim, "year").sum(axis=-1) / 1e9
    groups = np.asarray(res[dim].values).astype(str)
    total = ab.sum(axis=0)
    pos = [int(k) for k in np.argsort(-total, kind="stable") if total[k] > 0]
    if dim == "prefecture":
        pos = pos[:TOP_PREFECTURES]
    labels = [str(groups[k]) for k in pos]
    traces: list[dict[str, Any]] = []
    for i, m in enumerate(res.market.values):
        c = _colour(i)
        traces.append({"type": "bar", "x": labels, "y": _list(ab[i, pos]), "name": str(m), "marker": {"color": c}})
        traces.append(
            {
                "type": "bar",
                "x": labels,
                "y": _list(cost[i, pos]),
                "name": str(m),
                "marker": {"color": c},
                "showlegend": False,
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    title = "By sector" if dim == "sector" else f"By prefecture (largest {TOP_PREFECTURES} abatements)"
    return _figure(
        traces,
        title,
        height=340,
        barmode="stack",
        xaxis={"domain": [0.0, 0.44]},
        xaxis2={"domain": [0.56, 1.0], "anchor": "y2"},
        yaxis={"title": {"text": "abatement, Mt"}},
        yaxis2={"anchor": "x2", "title": {"text": "abatement cost, JPY bn"}, "gridcolor": "#eee"},
    )


def price_table(res: xr.Dataset) -> pd.DataFrame:
    """Prices by market and year (JPY/t, each year's money) with the interval where it is not a
    point: rows ``<market>`` and, if needed, ``<market> low`` / ``<market> high``."""
    price, low, high = (_values(res, v, "market", "year") for v in ("price", "price_low", "price_high"))
    rows, index = [], []
    for i, m in enumerate(res.market.values):
        rows.append(price[i])
        index.append(str(m))
        if not (np.allclose(low[i], price[i]) and np.allclose(high[i], price[i])):
            rows += [low[i], high[i]]
            index += [f"{m} low", f"{m} high"]
    df = pd.DataFrame(rows, index=pd.Index(index, name="JPY/t"), columns=[str(int(y)) for y in res.year.values])
    return df


def table_rows(df: pd.DataFrame, digits: int = 2) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a table as text, numbers with ``digits`` decimals and thousands commas."""
    header = [str(df.index.name or "")] + [str(c) for c in df.columns]
    rows = []
    for idx, row in df.iterrows():
        cells = [str(idx)]
        for v in row:
            cells.append(f"{v:,.{digits}f}" if isinstance(v, (float, np.floating)) else str(v))
        rows.append(cells)
    return header, rows
