"""The explorer's views of one solved variant, as Plotly figures and small tables.

Every number shown is read from the results Dataset of the solve (:mod:`nationcap.results`) or,
for the price-setting step, from :func:`nationcap.explore.state.marginal_steps`; nothing is
recomputed here. Money is shown in JPY bn and volumes in Mt; each view says whether its money is
present value or each year's money, as the results' ``money`` attributes do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr
from plotly.subplots import make_subplots

#: one colour per market, in the scenario's order (Plotly's default palette)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
#: how many prefectures the prefecture view lists (largest abatement first)
TOP_PREFECTURES = 15


def _layout(fig: go.Figure, title: str, height: int = 300) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 55, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    return fig


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def prices_figure(res: xr.Dataset) -> go.Figure:
    """Allowance price by year and market (JPY/t, each year's money), the interval of clearing
    prices shaded, and the floor and ceiling where a market has them."""
    fig = go.Figure()
    years = [int(y) for y in res.year.values]
    for i, m in enumerate(res.market.values):
        c = _colour(i)
        low, high = res.price_low.sel(market=m).values, res.price_high.sel(market=m).values
        if np.all(np.isfinite(high)) and np.any(high - low > 1e-6 * np.maximum(np.abs(low), 1.0)):
            fig.add_trace(
                go.Scatter(x=years, y=high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
            )
            fig.add_trace(
                go.Scatter(
                    x=years,
                    y=low,
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor=f"rgba{_rgba(c)}",
                    name=f"{m} interval",
                    hoverinfo="skip",
                )
            )
        fig.add_trace(
            go.Scatter(x=years, y=res.price.sel(market=m).values, mode="lines+markers", name=str(m), line={"color": c})
        )
        for band, dash in (("price_floor", "dot"), ("price_ceiling", "dash")):
            if band in res and np.any(np.isfinite(res[band].sel(market=m).values)):
                fig.add_trace(
                    go.Scatter(
                        x=years,
                        y=res[band].sel(market=m).values,
                        mode="lines",
                        name=f"{m} {band.removeprefix('price_')}",
                        line={"color": c, "dash": dash, "width": 1},
                    )
                )
    fig.update_yaxes(title_text="JPY/t", rangemode="tozero")
    return _layout(fig, "Allowance prices (clearing interval shaded)")


def _rgba(hex_colour: str, alpha: float = 0.2) -> tuple[int, int, int, float]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha


def emissions_figure(res: xr.Dataset) -> go.Figure:
    """Emissions against the cap by market and period (Mt), with the bank at each period's end."""
    fig = go.Figure()
    for i, m in enumerate(res.market.values):
        x = [f"{m} {p}" for p in res.period.values]
        c = _colour(i)
        fig.add_trace(
            go.Bar(
                x=x, y=res.cap.sel(market=m).values / 1e6, name=f"{m} cap", marker={"color": f"rgba{_rgba(c, 0.35)}"}
            )
        )
        fig.add_trace(
            go.Bar(x=x, y=res.market_emissions.sel(market=m).values / 1e6, name=f"{m} emissions", marker={"color": c})
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=res.bank.sel(market=m).values / 1e6,
                name=f"{m} bank",
                mode="markers",
                marker={"color": "black", "symbol": "diamond"},
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="Mt")
    return _layout(fig, "Emissions, cap and bank by period")


def coverage_figure(res: xr.Dataset) -> go.Figure:
    """Each market's share of national CO2 by year, and the two markets together."""
    fig = go.Figure()
    years = [int(y) for y in res.year.values]
    if "coverage_share" in res:
        for i, m in enumerate(res.market.values):
            fig.add_trace(
                go.Scatter(
                    x=years, y=100 * res.coverage_share.sel(market=m).values, name=str(m), line={"color": _colour(i)}
                )
            )
    if "combined_coverage_share" in res:
        fig.add_trace(
            go.Scatter(x=years, y=100 * res.combined_coverage_share.values, name="combined", line={"color": "black"})
        )
    fig.update_yaxes(title_text="% of national CO2", rangemode="tozero")
    return _layout(fig, "Coverage")


def breakdown_figure(res: xr.Dataset, dim: str) -> go.Figure:
    """Abatement (Mt over the horizon) and abatement cost (JPY bn, the sum of each year's money)
    by ``dim`` (``"sector"`` or ``"prefecture"``) and market; prefectures: the largest
    abatements only."""
    ab = res[f"abatement_by_{dim}"].sum("year") / 1e6
    cost = res[f"abatement_cost_by_{dim}"].sum("year") / 1e9
    order = ab.sum("market").to_pandas().sort_values(ascending=False)
    order = order[order > 0]
    if dim == "prefecture":
        order = order.head(TOP_PREFECTURES)
    labels = list(order.index)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("abatement, Mt", "abatement cost, JPY bn"), horizontal_spacing=0.12
    )
    for i, m in enumerate(res.market.values):
        c = _colour(i)
        fig.add_trace(
            go.Bar(x=labels, y=ab.sel(market=m).sel({dim: labels}).values, name=str(m), marker={"color": c}), 1, 1
        )
        fig.add_trace(
            go.Bar(
                x=labels,
                y=cost.sel(market=m).sel({dim: labels}).values,
                name=str(m),
                marker={"color": c},
                showlegend=False,
            ),
            1,
            2,
        )
    fig.update_layout(barmode="stack")
    title = "By sector" if dim == "sector" else f"By prefecture (largest {TOP_PREFECTURES} abatements)"
    return _layout(fig, title, height=340)


def price_table(res: xr.Dataset) -> pd.DataFrame:
    """Prices by market and year (JPY/t, each year's money) with the interval where it is not a
    point: rows ``<market>`` and, if needed, ``<market> low`` / ``<market> high``."""
    rows = {}
    for m in res.market.values:
        rows[str(m)] = res.price.sel(market=m).to_pandas()
        low, high = res.price_low.sel(market=m).to_pandas(), res.price_high.sel(market=m).to_pandas()
        if not (np.allclose(low, rows[str(m)]) and np.allclose(high, rows[str(m)])):
            rows[f"{m} low"], rows[f"{m} high"] = low, high
    df = pd.DataFrame(rows).T
    df.columns = [str(int(y)) for y in df.columns]
    df.index.name = "JPY/t"
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
