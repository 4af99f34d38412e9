"""The merit-order (MAC) curve of each market and period, stored with the results.

The MAC plot (``nationcap plot --kind mac``, :func:`nationcap.report.plots.plot_mac`) draws the
curve the run was solved with from ``results.nc``, so a figure never shows a curve of data that
changed after the run, and drawing it costs no re-reading of the dataset.

The curve of market m in period p: every abatement step (column) of m's entities in the years of
p, at its cost in present value at the first model year (``cost x discount factor of its year``,
the money of ``price_pv``), sorted by that cost (stable), with the cumulative quantity of the
steps up to and including each one (t over the period's years). Stored as

    mac_curve_cost_pv[m, p, k]    JPY/t, present value   cost of point k
    mac_curve_quantity[m, p, k]   t                      cumulative abatement at the right edge of point k

over ``mac_point`` (NaN after a curve's last point); the staircase is point k drawn at its cost
from ``mac_curve_quantity[k-1]`` (0 for k = 0) to ``mac_curve_quantity[k]``.

Compression. Steps of equal cost are merged (nothing is lost). A curve with more than
:data:`MAC_POINTS` points left keeps a subset of its step boundaries, chosen evenly along the
curve measured as share of the total quantity plus share of the range of ``asinh(cost / s)``
(s: the |cost| at half the total quantity, at least 1 JPY/t, so cheap and dear steps are resolved alike), and for
each chosen step also the one before it, so a jump in cost stays where it is. The first and the
last step are always kept. Every stored point is exact: its cost is the cost of a real step and
its quantity the exact cumulative quantity there, so the last quantity is the total of all steps;
between two kept points the steps are drawn at the cost of the later one (within about
2/MAC_POINTS of the axis ranges of the true curve).

Size: 2 variables x markets x periods x at most MAC_POINTS float64 values, under 40 kB per run
for two markets and three periods (before compression), so a 1,000-draw Monte Carlo adds at most
about 40 MB to its combined ``results.nc``, against well over 1 MB per draw for the per-entity
variables of the shipped dataset.
"""

from __future__ import annotations

import numpy as np

from ..model.data import ModelData

#: the most points a stored curve has (the length of the ``mac_point`` dimension)
MAC_POINTS = 400


def compress_staircase(cost: np.ndarray, qty: np.ndarray, n_points: int = MAC_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(cost, cumulative quantity) of the merit-order staircase of steps ``(cost, qty)``, at most
    ``n_points`` points (see the module docstring)."""
    cost = np.asarray(cost, dtype=float)
    qty = np.asarray(qty, dtype=float)
    order = np.argsort(cost, kind="stable")
    c, q = cost[order], qty[order]
    pos = q > 0
    c, q = c[pos], q[pos]
    if not len(c):
        return c, q
    cum = np.cumsum(q)
    last_of_run = np.r_[c[1:] != c[:-1], True]  # steps of equal cost are one step
    c, cum = c[last_of_run], cum[last_of_run]
    n = len(c)
    if n <= n_points:
        return c, cum
    scale = max(abs(float(c[np.searchsorted(cum, 0.5 * cum[-1])])), 1.0)  # the cost at half the quantity
    t = np.arcsinh(c / scale)
    y = (t - t[0]) / (t[-1] - t[0]) if t[-1] > t[0] else np.zeros(n)
    s = cum / cum[-1] + y  # strictly increasing along the curve
    hit = np.searchsorted(s, np.linspace(s[0], s[-1], (n_points - 2) // 2), side="left")
    keep = np.unique(np.r_[0, hit - 1, hit, n - 1].clip(0, n - 1))
    return c[keep], cum[keep]


def mac_curves(md: ModelData, n_points: int = MAC_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(M, P, K) PV costs and cumulative quantities of every market's and period's curve (NaN-padded)."""
    n_m, n_p = len(md.markets), len(md.periods)
    pv_cost = md.col_cost * md.discount[md.col_year]
    col_market = md.entity_market[md.col_entity]
    col_period = md.col_period
    curves = {}
    for a in range(n_m):
        for p in range(n_p):
            sel = (col_market == a) & (col_period == p)
            curves[a, p] = compress_staircase(pv_cost[sel], md.col_qty_t[sel], n_points)
    k = max([1] + [len(c) for c, _ in curves.values()])
    cost = np.full((n_m, n_p, k), np.nan)
    cum = np.full((n_m, n_p, k), np.nan)
    for (a, p), (c, q) in curves.items():
        cost[a, p, : len(c)] = c
        cum[a, p, : len(q)] = q
    return cost, cum
