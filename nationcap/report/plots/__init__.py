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

from collections.abc import Callable
from pathlib import Path
from typing import Any

import xarray as xr
from matplotlib.figure import Figure

from ...atomic import atomic_file
from ...errors import InputError, Problem
from ...results.io import batch_dim, members, select_member
from ...vocab import DRAW_DIM, SWEEP_DIM
from ..i18n import figure_font_context, localize_figure
from .batches import plot_distribution, plot_sweep
from .breakdowns import (
    TOP_ADMINISTRATORS,
    TOP_PREFECTURES,
    TOP_SECTORS,
    multi_admin_markets,
    plot_administrators,
    plot_prefecture,
    plot_sector,
)
from .mac import mac_cut, plot_mac, stored_curve
from .paths import plot_emissions, plot_prices

__all__ = [
    "PLOTTERS",
    "TOP_ADMINISTRATORS",
    "TOP_PREFECTURES",
    "TOP_SECTORS",
    "applicable_kinds",
    "check_member",
    "mac_cut",
    "make_figure",
    "plot_administrators",
    "plot_distribution",
    "plot_emissions",
    "plot_mac",
    "plot_prefecture",
    "plot_prices",
    "plot_sector",
    "plot_sweep",
    "save_figure",
    "save_plots",
    "stored_curve",
]

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
    """The kinds ``--kind all`` draws: every kind that applies to ``res`` (no MAC plot for results
    without a stored curve, such as a Monte Carlo batch; administrators only where a market has
    several; sweep and distribution for their batches)."""
    kinds = ["mac"] if "mac_curve_cost_pv" in res else []
    kinds += ["prices", "emissions", "sector", "prefecture"]
    dim = batch_dim(res)
    if dim is None and multi_admin_markets(res):
        kinds.append("administrators")
    if dim == SWEEP_DIM:
        kinds.append("sweep")
    elif dim == DRAW_DIM:
        kinds.append("distribution")
    return kinds


def check_member(res: xr.Dataset, member: str | None) -> None:
    """Refuse a ``--member`` that is not a successful member of the batch ``res`` (or any
    ``--member`` for a single run), whichever kinds are drawn: the kinds that draw every member
    would otherwise ignore it."""
    if member is None:
        return
    if batch_dim(res) is None:
        raise InputError(
            [Problem("--member", str(member), "", "these results are a single run; --member picks a run of a batch")],
            "arguments",
        )
    select_member(res, member)  # raises, naming the successful members


def make_figure(res: xr.Dataset, kind: str, **options) -> Figure:
    if kind not in PLOTTERS:
        raise InputError(
            [Problem("--kind", kind, "", f"unknown plot kind; choose from {sorted(PLOTTERS)}")], "arguments"
        )
    if batch_dim(res) is not None and not members(res):
        raise InputError([Problem("results", "", "", "every member of this batch failed: nothing to plot")], "results")
    check_member(res, options.get("member"))
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
    with the packaged Japanese font (:func:`nationcap.report.i18n.localize_figure`). Every kind is
    drawn first, then written: a kind that cannot be drawn leaves no file behind."""
    figures = []
    for kind in kinds:
        with figure_font_context(lang):
            figures.append((kind, localize_figure(make_figure(res, kind, **options), lang)))
    files = []
    for kind, fig in figures:
        files += save_figure(fig, Path(out_dir) / kind, lang)
    return files
