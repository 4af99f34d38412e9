r"""Paired Monte Carlo: two designs A and B solved on the same draws, and what B gains over A.

Both batches are ordinary Monte Carlo batches (:mod:`nationcap.batch`) of two scenario files
with the same ``[montecarlo]`` table and seed, so draw i of A and draw i of B see the same BAU
and MAC-cost shocks (draw i uses ``numpy.random.default_rng([seed, i])``). On the exact engine
the two are solved together, each draw made once for both designs
(:func:`nationcap.batch.store.run_paired`), with the same outputs. Per draw i and market m::

    cost_a[i, m] = sum over periods of total_cost under A      (JPY, present value)
    gain[i, m]   = cost_a[i, m] - cost_b[i, m]                 (> 0: the market pays less under B)

and per market (over the draws both designs solved)::

    mean_gain       = mean_i gain[i, m]
    effort_sharing  = cost_a_det[m] - cost_b_det[m]   the gain of the deterministic pair: the
                                                       scenarios solved without any draw
    risk_sharing    = mean_gain - effort_sharing       what the shocks add (Doda & Taschini 2017:
                                                       linking also pools the shocks)
    p_loss          = share of draws with gain < 0     the probability that the market loses
    price_sd_change = sd_i price_pv_b - sd_i price_pv_a, per period (JPY/t, present value)

By construction ``effort_sharing + risk_sharing = mean_gain``. The same is given for the
compliance cost (columns ``compliance_...``): each market's entities' ``compliance_cost``
summed, abatement plus allowances bought minus sold at the clearing price, so that what a market
earns by selling over a link counts as it does in ``nationcap compare``'s administrators' table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError, Problem
from ..vocab import DRAW_DIM


def check_pair(a: dict, b: dict, path_a: str, path_b: str) -> None:
    """Refuse a pair whose draws differ: ``a`` and ``b`` are {"seed", "draws", "montecarlo"}."""
    problems = []
    for key, what in (("montecarlo", "[montecarlo] table"), ("seed", "seed"), ("draws", "number of draws")):
        if a[key] != b[key]:
            problems.append(
                Problem(
                    path_b,
                    f"key 'montecarlo' ({key})",
                    "",
                    f"the {what} differs from {path_a}'s ({a[key]!r} vs {b[key]!r}): a paired Monte Carlo needs the "
                    "same draws under both designs",
                )
            )
    if problems:
        raise InputError(problems, "paired Monte Carlo")


def _ok(res: xr.Dataset) -> np.ndarray:
    return np.asarray(res["status"].values == "ok")


#: the measures of cost: (column prefix in the tables, results variable summed over its other dims)
MEASURES = (("", "total_cost"), ("compliance_", "compliance_cost_by_administrator"))


def _cost(res: xr.Dataset, variable: str, markets: list[str]) -> np.ndarray:
    """(draw, market) or (market,) sums over every dimension but draw and market, JPY PV."""
    da = res[variable].sel(market=markets)
    return da.sum([d for d in da.dims if d not in (DRAW_DIM, "market")]).values


def paired_tables(
    res_a: xr.Dataset, res_b: xr.Dataset, det_a: xr.Dataset, det_b: xr.Dataset
) -> dict[str, pd.DataFrame]:
    """The per-draw table (``draws``), the per-market summary (``summary``) and the price spread
    per market and period (``prices``) of a pair of Monte Carlo results and the two deterministic
    runs (module doc). Each is given for the total cost and, where the results hold it, for the
    compliance cost (abatement plus allowances bought minus sold, summed over the market's
    entities: what a market pays once trade over a link is counted)."""
    ok = _ok(res_a) & _ok(res_b)
    draws = res_a[DRAW_DIM].values[ok]
    markets = [m for m in res_a["market"].values if m in set(res_b["market"].values)]
    per_draw = pd.DataFrame(
        {"draw": np.repeat(draws.astype(int), len(markets)), "market": np.tile(markets, len(draws))}
    )
    summary = pd.DataFrame({"market": markets, "draws": len(draws)})
    for prefix, var in MEASURES:
        if not all(var in r for r in (res_a, res_b, det_a, det_b)):
            continue
        cost_a = _cost(res_a, var, markets)[ok]
        cost_b = _cost(res_b, var, markets)[ok]
        gain = cost_a - cost_b
        per_draw[f"{prefix}cost_a_jpy"] = cost_a.ravel()
        per_draw[f"{prefix}cost_b_jpy"] = cost_b.ravel()
        per_draw[f"{prefix}gain_jpy"] = gain.ravel()
        mean = gain.mean(axis=0) if len(draws) else np.full(len(markets), np.nan)
        summary[f"mean_{prefix}gain_jpy"] = mean
        summary[f"{prefix}effort_sharing_jpy"] = _cost(det_a, var, markets) - _cost(det_b, var, markets)
        summary[f"{prefix}risk_sharing_jpy"] = mean - summary[f"{prefix}effort_sharing_jpy"]
        summary[f"p_{prefix}loss"] = (gain < 0).mean(axis=0) if len(draws) else np.nan
    prices = []
    for m in markets:
        for p in res_a["period"].values:
            sd_a = float(np.std(res_a["price_pv"].sel(market=m, period=p).values[ok]))
            sd_b = float(np.std(res_b["price_pv"].sel(market=m, period=p).values[ok]))
            prices.append(
                {
                    "market": m,
                    "period": str(p),
                    "price_pv_sd_a_jpy_per_t": sd_a,
                    "price_pv_sd_b_jpy_per_t": sd_b,
                    "price_pv_sd_change_jpy_per_t": sd_b - sd_a,
                }
            )
    return {"draws": per_draw, "summary": summary, "prices": pd.DataFrame(prices)}


def gains_figure(per_draw: pd.DataFrame, path: Path, label_a: str, label_b: str) -> None:
    """Histograms of the gains per market (billion JPY; total cost, and compliance cost where
    given), written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    markets = list(dict.fromkeys(per_draw["market"]))
    rows = [
        (p, what) for p, what in (("", "total cost"), ("compliance_", "compliance cost")) if f"{p}gain_jpy" in per_draw
    ]
    n = max(1, len(markets))
    fig, axes = plt.subplots(len(rows), n, figsize=(4.5 * n, 3.3 * len(rows)), squeeze=False)
    cells = [(prefix, what, axes[r][c], m) for r, (prefix, what) in enumerate(rows) for c, m in enumerate(markets)]
    for prefix, what, ax, m in cells:
        g = per_draw.loc[per_draw["market"] == m, f"{prefix}gain_jpy"].to_numpy() / 1e9
        ax.hist(g, bins=min(40, max(5, len(g) // 5)), color="tab:blue", alpha=0.8)
        ax.axvline(0.0, color="black", lw=0.8)
        if len(g):
            ax.axvline(float(g.mean()), color="tab:red", lw=1.2, label=f"mean {g.mean():,.2f}")
            ax.legend(fontsize=8)
        ax.set_title(f"{m}: {what}")
        ax.set_xlabel(f"gain: {label_a} - {label_b} (billion JPY, PV)")
        ax.set_ylabel("draws")
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
