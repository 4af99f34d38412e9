"""The figure of ``nationcap compare`` (``compare.png``), drawn from the tables of
:func:`nationcap.report.compare.compare`.

- One price panel per scenario table (a split table: the median of its markets and their lowest
  to highest band), all on one price axis, so that one price sits at one height in every panel.
- The costs as differences against the first run: a bar per later run of its ``total_cost`` minus
  the first run's (billion JPY, present value), labelled with the sign spelled out ("+6.1 bn JPY
  (+3.9 %): more cost than baseline"). Differences of a few per cent would not show on bars of
  the totals drawn from zero, so the totals are written in the panel's title instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...config.schema import market_table
from ...results.iamc import program_name
from .common import _thousands

#: run names shown in the figure's title before "and N more"
TITLE_RUNS = 4


def cost_differences(summary: pd.DataFrame) -> pd.Series:
    """Each run's ``total_cost_jpy`` minus the first run's (JPY, present value; positive = more
    cost than the first run), NaN for a run on other data (its gain is empty)."""
    return -summary["gain_vs_first_jpy"]


def difference_label(diff_jpy: float, first_cost_jpy: float, first: str) -> str:
    """The label of one cost bar, with the sign in words: ``+6.1 bn JPY (+3.9 %):`` / ``more cost than baseline`` on two lines; ``other data: not compared`` for NaN."""
    if not math.isfinite(diff_jpy):
        return "other data: not compared"
    bn = diff_jpy / 1e9
    share = f" ({diff_jpy / abs(first_cost_jpy):+.1%})" if abs(first_cost_jpy) > 0 else ""
    if abs(bn) < 0.05:
        return f"{bn:+,.2g} bn JPY{share}:\nthe same cost as {first}"
    return f"{bn:+,.1f} bn JPY{share}:\n{'more' if bn > 0 else 'less'} cost than {first}"


def runs_title(runs: list[str]) -> str:
    shown = ", ".join(runs[:TITLE_RUNS])
    return shown + (f" and {len(runs) - TITLE_RUNS} more" if len(runs) > TITLE_RUNS else "")


def plot_compare(tables: dict[str, pd.DataFrame]) -> Figure:
    """Price paths by scenario table for every run (one common price axis) and each run's total
    cost as a difference against the first run."""
    prices = tables["prices"]
    summary = tables["summary"]
    runs = [str(r) for r in summary.index]
    first = runs[0]
    table_of = pd.Series(prices.index.get_level_values("market")).map(market_table)
    panels = list(dict.fromkeys(table_of))
    fig = Figure(figsize=(5 * (len(panels) + 1), 4.8), layout="constrained")
    axes = fig.subplots(1, len(panels) + 1, squeeze=False)[0]
    price_axes = list(axes[:-1])
    for ax in price_axes[1:]:
        ax.sharey(price_axes[0])
    for ax, table in zip(price_axes, panels):
        sub = prices[(table_of == table).to_numpy()]
        for k, run in enumerate(sub.columns):
            by_year = sub[run].dropna().groupby(level="year")
            color = f"C{k}"
            if not len(by_year.size()):
                continue
            if by_year.size().max() > 1:  # split markets: the median and the lowest-highest band
                ax.fill_between(by_year.min().index, by_year.min(), by_year.max(), color=color, alpha=0.2)
                ax.plot(by_year.median().index, by_year.median(), color=color, ls="--")
            else:
                ax.plot(by_year.mean().index, by_year.mean(), color=color, marker="o", ms=3)
        ax.set_title(f"Allowance price: {program_name(table)}")
        ax.set_xlabel("fiscal year")
        ax.set_ylabel("price (JPY/t CO2, each year's money)")
        ax.yaxis.set_major_formatter(_thousands)
        ax.grid(alpha=0.3)
    price_axes[0].set_ylim(bottom=0)
    # one legend for every panel, below them: a run has one colour throughout
    handles = [price_axes[0].plot([], [], color=f"C{k}", marker="o", ms=3, label=run)[0] for k, run in enumerate(runs)]
    if any(market_table(str(m)) != str(m) for m in prices.index.get_level_values("market")):
        handles.append(price_axes[0].plot([], [], color="0.3", ls="--", label="split markets: median")[0])
        handles.append(price_axes[0].fill_between([], [], [], color="0.3", alpha=0.2, label="lowest to highest"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), frameon=False, fontsize=8)

    ax = axes[-1]
    first_cost = float(summary["total_cost_jpy"].iloc[0])
    diff = cost_differences(summary).iloc[1:] / 1e9
    y = np.arange(len(diff))[::-1]
    vals = diff.fillna(0.0).to_numpy()
    ax.barh(y, vals, color=[f"C{k + 1}" for k in range(len(diff))], height=0.6)
    ax.axvline(0, color="black", linewidth=0.8)
    span = max(float(np.abs(vals).max()) if len(vals) else 0.0, 1e-9)
    ax.set_xlim(-2.3 * span if (vals < 0).any() else -0.15 * span, 2.3 * span if (vals > 0).any() else 0.15 * span)
    for yi, d in zip(y, diff):
        text = difference_label(d * 1e9, first_cost, first)
        right = not (math.isfinite(d) and d < 0)
        ax.annotate(
            text,
            (float(d) if math.isfinite(d) else 0.0, yi),
            xytext=(4 if right else -4, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y, [str(r) for r in diff.index])
    ax.set_ylim(-0.8, len(diff) - 0.2)
    ax.set_xlabel(f"total cost minus {first}'s (billion JPY, present value)")
    ax.set_title(f"Total cost against {first} ({first_cost / 1e9:,.1f} bn JPY)", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Comparison of {runs_title(runs)} (costs against {first})")
    return fig
