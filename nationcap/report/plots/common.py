"""Helpers every figure of :mod:`nationcap.report.plots` shares: picking a batch member, titles,
market panels, legends, colours and number formats."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...config.schema import is_split
from ...results.iamc import program_name, sum_by_table
from ...results.io import batch_dim, select_member
from ...vocab import SWEEP_DIM
from ..labels import param_label

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


_compact = FuncFormatter(
    lambda v, _: f"{v / 1e6:,.3g}M" if abs(v) >= 1e6 else f"{v / 1e3:,.3g}k" if abs(v) >= 1e4 else f"{v:,.0f}"
)


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


def _palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _top(totals: dict[str, float], n: int) -> list[str]:
    keep = [k for k, v in sorted(totals.items(), key=lambda kv: -abs(kv[1])) if abs(v) > 0]
    return keep[:n] if len(keep) > n + 1 else keep
